"""A raw-socket HTTP server for hostile-server tests: each request is answered by a function that
writes whatever bytes it likes, as slowly as it likes, or never.

``docr.testing.FakeRegistry`` is a well-behaved API with faults on demand; this one is the server
a proxy, a middlebox or an attacker could be: headers a byte at a time, a body that never ends,
a gzip bomb, ``HTTP/1.0`` garbage. It serves one request per connection and closes it after.

Usage::

    def trickle(request: Request, wire: Wire) -> None:
        wire.send(b"HTTP/1.1 200 OK\\r\\ncontent-length: 100\\r\\n\\r\\n")
        for _ in range(100):
            if not (wire.pause(0.2) and wire.send(b" ")):
                return                                  # the client hung up, or the test ended

    with HostileServer(trickle) as server:
        docr.Client(TOKEN, base_url=server.url).list_manifests("example", "my/repo")
    server.requests                                      # every request, in arrival order
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

__all__ = ["HostileServer", "Request", "Wire", "answer", "page_body"]

_HEAD_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Request:
    """One request as it arrived: method, target, path, query (first values), lower-case headers."""

    method: str
    target: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)

    @property
    def page(self) -> int:
        return int(self.query.get("page", "1"))

    @property
    def per_page(self) -> int:
        return int(self.query.get("per_page", "20"))


class Wire:
    """The connection, for a handler: ``send`` bytes, ``pause`` between them."""

    def __init__(self, sock: socket.socket, stopping: threading.Event) -> None:
        self.sock = sock
        self._stopping = stopping
        self.sent = 0

    def send(self, data: bytes) -> bool:
        """Write ``data``; False once the client has gone (or the server is stopping)."""
        if self._stopping.is_set():
            return False
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        self.sent += len(data)
        return True

    def pause(self, seconds: float) -> bool:
        """Wait ``seconds``; False (at once) when the server is stopping."""
        return not self._stopping.wait(seconds)

    def stream(self, chunks: Iterable[bytes]) -> bool:
        """Send every chunk in turn; False as soon as one cannot be sent."""
        return all(self.send(chunk) for chunk in chunks)


Handler = Callable[[Request, Wire], None]


class HostileServer:
    """Serves ``handler`` on 127.0.0.1 (a free port), each connection on a daemon thread."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)

    def start(self) -> Self:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """Stop accepting, cut every open connection, and join every thread."""
        self._stopping.set()
        self._acceptor.join(timeout=10)
        with self._lock:
            for sock in self._connections:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=10)
        self._listener.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least ``count`` requests have arrived."""
        end = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > end:
                return False
            time.sleep(0.01)
        return True

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(sock,), name="hostile-conn", daemon=True)
            with self._lock:
                self._connections.add(sock)
                self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            request = _read_request(sock)
            if request is None:
                return
            with self._lock:
                self.requests.append(request)
            self.handler(request, Wire(sock, self._stopping))
        except OSError:
            pass
        finally:
            with self._lock:
                self._connections.discard(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def _read_request(sock: socket.socket) -> Request | None:
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk or len(data) > _HEAD_LIMIT:
            return None
        data += chunk
    sock.settimeout(None)
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, target, _ = head[0].split(" ", 2)
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    parts = urllib.parse.urlsplit(target)
    query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
    return Request(method, target, urllib.parse.unquote(parts.path), query, headers)


def answer(
    status: int,
    body: bytes | dict[str, Any] | list[Any] = b"",
    *headers: tuple[str, str],
    reason: str = "Whatever",
    length: bool = True,
) -> bytes:
    """A whole raw response; a dict or list body is sent as JSON. ``length=False``: no content-length."""
    content = json.dumps(body).encode() if isinstance(body, dict | list) else body
    head = [f"HTTP/1.1 {status} {reason}", "connection: close"]
    if isinstance(body, dict | list):
        head.append("content-type: application/json")
    if length:
        head.append(f"content-length: {len(content)}")
    head += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + content


def manifest(index: int) -> dict[str, Any]:
    return {"digest": f"sha256:{index:064x}", "tags": [f"v{index}"], "updated_at": "2026-01-01T00:00:00Z"}


def page_body(request: Request, total: int, served: int | None = None) -> dict[str, Any]:
    """The page ``request`` asked for of a repository of ``total`` manifests, at most ``served`` of them."""
    size = request.per_page if served is None else min(served, request.per_page)
    start = (request.page - 1) * size
    items = [manifest(i) for i in range(start, min(total, start + size))]
    return {"manifests": items, "links": {}, "meta": {"total": total}}


def chunked(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``chunks`` in HTTP/1.1 chunked framing (no final zero chunk unless the iterable ends)."""
    for chunk in chunks:
        if chunk:
            yield f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    yield b"0\r\n\r\n"
