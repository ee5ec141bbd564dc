"""Reading a response body within a size cap, decompression included. No I/O: bytes in, bytes out.

A server (or a proxy) decides how big a body is; docr decides how much of it to hold. The drivers
read the raw stream and ``feed`` each chunk here; ``BodyReader`` decodes ``gzip``/``deflate``
itself, asking zlib for 256 KiB at a time, so a gzip bomb (a few KB that inflate to gigabytes) or
an endless chunked body stops at the cap with memory within a step of it, instead of being
inflated first and measured after.

Usage::

    reader = BodyReader(response.headers.get("content-encoding"), limit=32 * 1024 * 1024)
    for chunk in response.iter_raw():
        reader.feed(chunk)          # raises BodyTooLarge past the cap, BodyUndecodable on bad data
    body = reader.finish()
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Final

__all__ = ["ACCEPT_ENCODING", "BodyReader", "BodyTooLarge", "BodyUndecodable"]

# What docr asks for: the encodings it decodes itself, under the cap.
ACCEPT_ENCODING: Final = "gzip, deflate"
_STEP: Final = 256 * 1024  # decoded bytes asked of zlib at once


class BodyTooLarge(Exception):
    """The decoded body passed the cap."""


class BodyUndecodable(Exception):
    """The body is not what its Content-Encoding says (or an encoding docr did not ask for)."""


class _Inflater:
    """One ``gzip`` or ``deflate`` layer, decoding a bounded step at a time."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        # wbits 47 takes gzip or zlib headers. "deflate" is zlib-wrapped per RFC 9110, but some
        # servers send raw deflate: which one is told by the first two bytes (a zlib header).
        self._inflater = zlib.decompressobj(47) if encoding in ("gzip", "x-gzip") else None
        self._start = b""

    def inflate(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of ``data``, in pieces of at most ``_STEP``.

        zlib asked for more at once would hold about twice that while it builds its answer: a
        bomb inflated in one call to the cap costs twice the cap. In steps, the reader stops
        it a step past the cap.
        """
        while True:
            out = self._decompress(data)
            data = self._inflater.unconsumed_tail if self._inflater is not None else b""
            if out:
                yield out
            # Done when the input is used up and zlib did not stop for lack of room.
            if not data and len(out) < _STEP:
                return

    def _decompress(self, data: bytes) -> bytes:
        if self._inflater is None:
            self._start += data
            if len(self._start) < 2:
                return b""  # not enough to tell zlib from raw deflate yet
            data, self._start = self._start, b""
            zlib_header = data[0] & 0x0F == 8 and int.from_bytes(data[:2], "big") % 31 == 0
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
        try:
            return self._inflater.decompress(data, _STEP)
        except zlib.error:
            raise BodyUndecodable(f"the body is not valid {self.encoding} data") from None

    def flush(self) -> bytes:
        if self._inflater is None:
            if self._start:  # a one-byte body cannot be deflate data of anything
                raise BodyUndecodable(f"the body is not valid {self.encoding} data")
            return b""
        try:
            return self._inflater.flush()
        except zlib.error:
            raise BodyUndecodable(f"the body is not valid {self.encoding} data") from None


class BodyReader:
    """Accumulate a body from raw chunks, decoded, up to ``limit`` bytes."""

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        self.limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self._layers: list[_Inflater] = []
        for encoding in reversed([e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]):
            if encoding == "identity":
                continue
            if encoding not in ("gzip", "x-gzip", "deflate"):
                raise BodyUndecodable(f"the body is {encoding}-encoded, which docr did not ask for")
            self._layers.append(_Inflater(encoding))

    def feed(self, chunk: bytes) -> None:
        self._push(0, chunk)

    def finish(self) -> bytes:
        """The whole decoded body (after the last chunk)."""
        for index, layer in enumerate(self._layers):
            self._push(index + 1, layer.flush())
        return b"".join(self._parts)

    def _push(self, index: int, data: bytes) -> None:
        # Through the layers from ``index`` on, a step at a time; the cap is checked on every step.
        if index == len(self._layers):
            self._add(data)
            return
        if data:
            for piece in self._layers[index].inflate(data):
                self._push(index + 1, piece)

    def partial(self) -> bytes:
        """What was read before the cap (for an error answer, whose start is all docr needs)."""
        return b"".join(self._parts)

    def _add(self, data: bytes) -> None:
        if data:
            self._size += len(data)
            if self._size > self.limit:
                raise BodyTooLarge
            self._parts.append(data)
