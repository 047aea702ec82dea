"""A real HTTP server on 127.0.0.1 for tests: run any WSGI app on a free port in a thread.

Usage::

    with live_server(app) as base_url:
        status, headers, body = fetch(base_url + "/feeds/all.rss")
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import make_server


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve *app* on 127.0.0.1 at a free port; yield its base URL; shut down cleanly."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass(frozen=True)
class Reply:
    """A raw HTTP reply: nothing decoded, so tests see exactly what went over the wire."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def fetch(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10,
) -> Reply:
    """One request with exactly the given headers (http.client adds no Accept-Encoding)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def close_service(service: Any) -> None:
    """Stop a service's background feed renderer (if it started one), then close it."""
    publisher = vars(service).get("publisher")  # a cached_property, only if it was used
    if publisher is not None:
        publisher.close()
    service.close()
