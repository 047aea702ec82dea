"""A real HTTP server on 127.0.0.1 standing in for upstream feeds (and as an SSRF sentinel).

Routes map a path to a function that writes the whole response with the handler, so a
test can serve a feed with validators, a redirect, a slow drip or a lying body. Every
accepted connection and every request (path and headers) is recorded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Seen:
    """One request the server received."""

    path: str
    headers: dict[str, str]


@dataclass
class Feed:
    """A document served with an ETag and Last-Modified, answering conditional GETs."""

    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str = '"v1"'
    last_modified: str = field(default_factory=lambda: formatdate(1_700_000_000, usegmt=True))

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        if handler.headers.get("If-None-Match") == self.etag or (
            handler.headers.get("If-Modified-Since") == self.last_modified
            and "If-None-Match" not in handler.headers
        ):
            handler.send_response(304)
            handler.send_header("ETag", self.etag)
            handler.send_header("Connection", "close")
            handler.end_headers()
            return
        send(handler, 200, self.body, self.content_type,
             {"ETag": self.etag, "Last-Modified": self.last_modified})  # fmt: skip

    def edit(self, body: bytes, etag: str) -> None:
        self.body, self.etag = body, etag
        self.last_modified = formatdate(1_700_000_100, usegmt=True)


def send(
    handler: BaseHTTPRequestHandler, status: int, body: bytes = b"",
    content_type: str = "text/plain", headers: dict[str, str] | None = None,
) -> None:  # fmt: skip
    """Write a complete response with a correct Content-Length."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Connection", "close")
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def redirect(location: str, status: int = 302) -> Route:
    return lambda h: send(h, status, headers={"Location": location})


def status(code: int) -> Route:
    return lambda h: send(h, code, b"upstream says no")


def drip(byte_count: int = 60, every: float = 0.2) -> Route:
    """A body that trickles out one byte at a time until the client gives up."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Content-Length", str(byte_count))
        handler.end_headers()
        for _ in range(byte_count):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(every)

    return route


def stall(seconds: float) -> Route:
    """Accept the request and answer nothing for *seconds*."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        send(handler, 200, b"too late")

    return route


def endless(chunked: bool, chunk: bytes = b"x" * 65536, limit: int = 400) -> Route:
    """A body far larger than any limit: chunked, or close-delimited without a length."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        if chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        handler.send_header("Connection", "close")
        handler.end_headers()
        for _ in range(limit):
            data = b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
            handler.wfile.write(data)

    return route


class Upstream:
    """The server: start with ``with Upstream() as up:``; add routes to ``up.routes``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.connections = 0
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with owner._lock:
                    owner.seen.append(Seen(self.path, dict(self.headers.items())))
                route = owner.routes.get(self.path.split("?", 1)[0])
                try:
                    (route or status(404))(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up on purpose (limits under test)
                self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                with owner._lock:
                    owner.connections += 1
                return True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> Upstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
