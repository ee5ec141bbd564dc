"""Reading a response body within a size cap, decompression included. No I/O: bytes in, bytes out.

A server (or a proxy) decides how big a body is; docr decides how much of it to hold. The drivers
read the raw stream and ``feed`` each chunk here; ``BodyReader`` decodes ``gzip``/``deflate``
itself, asking zlib for at most what is left under the cap, so a gzip bomb (a few KB that inflate
to gigabytes) or an endless chunked body stops at the cap with memory within a chunk of it,
instead of being inflated first and measured after.

Usage::

    reader = BodyReader(response.headers.get("content-encoding"), limit=32 * 1024 * 1024)
    for chunk in response.iter_raw():
        reader.feed(chunk)          # raises BodyTooLarge past the cap, BodyUndecodable on bad data
    body = reader.finish()
"""

from __future__ import annotations

import zlib
from typing import Final

__all__ = ["ACCEPT_ENCODING", "BodyReader", "BodyTooLarge", "BodyUndecodable"]

# What docr asks for: the encodings it decodes itself, under the cap.
ACCEPT_ENCODING: Final = "gzip, deflate"


class BodyTooLarge(Exception):
    """The decoded body passed the cap."""


class BodyUndecodable(Exception):
    """The body is not what its Content-Encoding says (or an encoding docr did not ask for)."""


class _Inflater:
    """One ``gzip`` or ``deflate`` layer, bounded per call."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        # wbits 47 takes gzip or zlib headers; "deflate" is zlib-wrapped per RFC 9110, but some
        # servers send raw deflate: try zlib first, fall back to raw on the first chunk.
        self._wbits = 47 if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._inflater = zlib.decompressobj(self._wbits)
        self._started = False

    def inflate(self, data: bytes, room: int) -> bytes:
        """Up to ``room + 1`` decoded bytes of ``data`` (one more than fits tells the cap is passed)."""
        try:
            out = self._inflater.decompress(data, room + 1)
        except zlib.error:
            if self._started or self.encoding != "deflate":
                raise BodyUndecodable(f"the body is not valid {self.encoding} data") from None
            self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._inflater.decompress(data, room + 1)
        self._started = True
        if len(out) > room:
            raise BodyTooLarge
        # Input zlib has not consumed yet because of max_length: only possible when out is full.
        tail = self._inflater.unconsumed_tail
        while tail:
            more = self._inflater.decompress(tail, room - len(out) + 1)
            out += more
            if len(out) > room:
                raise BodyTooLarge
            tail = self._inflater.unconsumed_tail
        return out

    def flush(self) -> bytes:
        return self._inflater.flush()


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
        for layer in self._layers:
            if not chunk:
                return
            chunk = layer.inflate(chunk, self.limit - self._size)
        self._add(chunk)

    def finish(self) -> bytes:
        """The whole decoded body (after the last chunk)."""
        for index, layer in enumerate(self._layers):
            rest = layer.flush()
            for later in self._layers[index + 1 :]:
                rest = later.inflate(rest, self.limit - self._size)
            self._add(rest)
        return b"".join(self._parts)

    def partial(self) -> bytes:
        """What was read before the cap (for an error answer, whose start is all docr needs)."""
        return b"".join(self._parts)

    def _add(self, data: bytes) -> None:
        if data:
            self._size += len(data)
            if self._size > self.limit:
                raise BodyTooLarge
            self._parts.append(data)
