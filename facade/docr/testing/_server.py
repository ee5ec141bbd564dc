"""The HTTP layer: a threading HTTP/1.1 server that hands each request to the fake and writes its answer.

It keeps connections alive (clients and benchmarks reuse them) with exact content-lengths,
turns off Nagle's algorithm (a header write then a body write would otherwise wait out the
client's delayed ACK, ~40 ms a request on keep-alive), and performs the transport-level faults:
a connection reset (SO_LINGER 0, then close, so the peer gets an RST, not a FIN).

Stopping is prompt and leaves no thread behind: `close()` stops accepting, shuts down every
open connection (which wakes handlers blocked waiting for a keep-alive request), and joins the
handler threads. Waits inside handlers (latency, slow faults) are on the fake's stop event.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import urlsplit

__all__ = ["Answer", "App", "FakeHTTPServer"]

logger = logging.getLogger("docr.testing")

# Request bodies are read whole up to this size (the fake's operations take small JSON bodies);
# beyond it, or when chunked, the body is not read and the connection is closed after the answer.
_MAX_BODY = 1 << 20


@dataclass
class Answer:
    """What to send back: a status, headers and a body, or a connection reset."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    reset: bool = False


class App(Protocol):
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Answer: ...

    def protocol_error(self, status: int, message: str) -> Answer: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "docr-fake/0.1"
    sys_version = ""
    disable_nagle_algorithm = True
    server: FakeHTTPServer

    def do_GET(self) -> None:
        self._serve()

    # Every method reaches the fake, which answers 405 where a path does not take it.
    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _serve(self) -> None:
        body = self._read_body()
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), value)
        raw_path = self.path
        if raw_path.startswith(("http://", "https://")):
            # Absolute-form target (sent through a proxy): the fake routes on its path and query.
            target = urlsplit(raw_path)
            raw_path = target.path + (f"?{target.query}" if target.query else "")
        answer = self.server.app.handle(self.command, raw_path, headers, body)
        if answer.reset:
            self._reset()
        else:
            self._write(answer)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return b""
        length = self.headers.get("Content-Length", "0")
        size = int(length) if length.isdigit() else -1
        if 0 <= size <= _MAX_BODY:
            return self.rfile.read(size)
        self.close_connection = True
        return b""

    def _write(self, answer: Answer) -> None:
        reason = None if answer.status in self.responses else "Unknown Error"
        self.send_response(answer.status, reason)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and answer.body:
            self.wfile.write(answer.body)

    def _reset(self) -> None:
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # rfile holds a reference that would keep the descriptor open past close(): drop it first.
        self.rfile.close()
        self.connection.close()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Requests http.server refuses before they reach the fake (bad request line, 414, 431,
        # unknown method) still get the spec's JSON error and headers, not an HTML page.
        self.close_connection = True
        answer = self.server.app.protocol_error(code, message or self.responses.get(code, ("Error",))[0])
        self._write(answer)

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)


class FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: a benchmark opening dozens of connections at
    # once would see dropped SYNs and second-long retransmit stalls that are the fake's, not the client's.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._handler_threads: set[threading.Thread] = set()
        self._connections: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup the fake has no use for.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True, name="docr-fake-handler"
        )
        with self._lock:
            self._handler_threads.add(thread)
            self._connections.add(request)
        thread.start()

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._handler_threads.discard(threading.current_thread())
                self._connections.discard(request)

    def handle_error(self, request: object, client_address: object) -> None:
        # A client hanging up mid-answer is routine in fault tests; anything else is a bug to show.
        level = logging.DEBUG if isinstance(sys.exc_info()[1], OSError) else logging.ERROR
        logger.log(level, "error while handling a request from %s", client_address, exc_info=True)

    def close(self, timeout: float = 5.0) -> None:
        """Stop serving, drop open connections, and join the handler threads (up to `timeout`)."""
        self.shutdown()
        self.server_close()
        with self._lock:
            connections = list(self._connections)
            threads = list(self._handler_threads)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
