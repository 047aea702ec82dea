"""Hostile HTTP on both sides: dripping upstreams, SSRF edges, chunked bodies, forged logs.

Every outbound fetch ends by its wall-clock deadline whatever the response looks like; a
slow upstream never delays another; the fetcher refuses link-local, loopback, metadata
and wrapped addresses even with ``allow_private``; an oversized chunked body is a 413;
a file name with a newline cannot forge a log line.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
import requests
from live import close_service, live_server
from upstream_server import Feed, Upstream, redirect

from syndicate.cli.logsafe import EscapeControls
from syndicate.config import Settings
from syndicate.errors import FetchError
from syndicate.ingest.folder import scan_job
from syndicate.ingest.upstream import poll_job
from syndicate.models import UpstreamSpec
from syndicate.net import address_allowed, make_session, safe_fetch
from syndicate.store import Store
from syndicate.wiring import Wiring, create_app

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://fast.example/</link><description>d</description>
<item><guid isPermaLink="false">f1</guid><title>Fast wire story</title>
<link>https://fast.example/1</link><description>Quick.</description></item>
</channel></rss>"""


def drip_headers(handler: BaseHTTPRequestHandler) -> None:
    """Status line, then one header byte a second: never a complete head."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for _ in range(60):
        handler.wfile.write(b"X")
        handler.wfile.flush()
        time.sleep(0.2)


def drip_unsized(handler: BaseHTTPRequestHandler) -> None:
    """A body without Content-Length (close-delimited), a byte every 0.2 s."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                        b"Connection: close\r\n\r\n")  # fmt: skip
    for _ in range(100):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(0.2)


def drip_chunked(handler: BaseHTTPRequestHandler) -> None:
    """Chunked, one one-byte chunk every 0.2 s."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n")  # fmt: skip
    for _ in range(100):
        handler.wfile.write(b"1\r\n \r\n")
        handler.wfile.flush()
        time.sleep(0.2)


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with make_session() as s:
        yield s


@pytest.mark.parametrize("route", [drip_headers, drip_unsized, drip_chunked])
def test_every_response_shape_ends_by_the_deadline(
    session: requests.Session, route: object
) -> None:
    """Dripping headers, an unsized body or tiny chunks: the fetch ends at the deadline."""
    with Upstream() as up:
        up.routes["/drip"] = route  # type: ignore[assignment]
        started = time.monotonic()
        with pytest.raises(FetchError, match="deadline"):
            safe_fetch(session, up.url("/drip"), allow_loopback=True, read_timeout=5, deadline=1)
        assert time.monotonic() - started < 3


def test_cancel_ends_a_fetch_at_once(session: requests.Session) -> None:
    """Setting the cancel event (the service stopping) ends a blocked fetch promptly."""
    cancel = threading.Event()
    with Upstream() as up:
        up.routes["/drip"] = drip_unsized
        threading.Timer(0.5, cancel.set).start()
        started = time.monotonic()
        with pytest.raises(FetchError, match="stopping"):
            safe_fetch(session, up.url("/drip"), allow_loopback=True, deadline=30, cancel=cancel)
        assert time.monotonic() - started < 3


def test_a_slow_upstream_never_delays_another(settings: Settings, database_url: str) -> None:
    """While one upstream hangs, another's entries are already stored."""
    release = threading.Event()

    def hang(handler: BaseHTTPRequestHandler) -> None:
        release.wait(20)
        handler.send_response(500)
        handler.end_headers()

    with Upstream() as up:
        up.routes["/hang"] = hang
        up.routes["/fast"] = Feed(RSS)
        specs = (
            UpstreamSpec(name="slow", url=up.url("/hang"), allow_loopback=True),
            UpstreamSpec(name="fast", url=up.url("/fast"), allow_loopback=True),
        )
        service = Wiring(settings.replace(upstream=specs), Store.open(database_url))
        tick = threading.Thread(target=poll_job, args=(service,))
        tick.start()
        try:
            deadline = time.monotonic() + 10
            while service.store.count_articles() == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert service.store.count_articles() == 1  # while "slow" still hangs
            assert tick.is_alive()
        finally:
            release.set()
            tick.join(30)
            service.close()


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "169.254.0.1", "fe80::1", "127.0.0.1", "::1", "0.0.0.0", "::",
     "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:0:a00:1",
     "::ffff:0:7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1", "2002:a9fe:a9fe::",
     "2002:0a00:0001::", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "::a00:1",
     "fd00:ec2::254", "100.100.100.200", "192.0.0.192", "192.88.99.1", "100.64.0.1",
     "224.0.0.1", "255.255.255.255", "198.18.0.1"],
)  # fmt: skip
def test_allow_private_never_admits_link_local_loopback_metadata_or_wrapped(
    address: str,
) -> None:
    """allow_private admits RFC 1918 and ULA only; these stay refused."""
    assert not address_allowed(address, allow_private=True)


@pytest.mark.parametrize("address", ["10.1.2.3", "172.16.0.1", "192.168.1.10", "fd12:3456::1"])
def test_allow_private_admits_rfc1918_and_ula(address: str) -> None:
    """The ranges allow_private exists for are admitted (and only with it)."""
    assert address_allowed(address, allow_private=True)
    assert not address_allowed(address)


def test_allow_loopback_admits_loopback_only() -> None:
    """allow_loopback is for a feed on the same host: 127/8 and ::1, not mapped forms."""
    assert address_allowed("127.0.0.1", allow_loopback=True)
    assert address_allowed("::1", allow_loopback=True)
    assert not address_allowed("::ffff:127.0.0.1", allow_loopback=True)
    assert not address_allowed("10.0.0.1", allow_loopback=True)
    assert not address_allowed("169.254.169.254", allow_loopback=True, allow_private=True)


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/",
     "http://[fd00:ec2::254]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:0:7f00:1]/"],
)  # fmt: skip
def test_redirects_are_validated_again_even_with_allow_private(
    session: requests.Session, target: str
) -> None:
    """A redirect from an admitted host to a metadata or wrapped address is refused."""
    with Upstream() as up:
        up.routes["/go"] = redirect(target)
        with pytest.raises(FetchError, match="not a public address"):
            safe_fetch(session, up.url("/go"), allow_private=True, allow_loopback=True)
        assert [s.path for s in up.seen] == ["/go"]


def test_oversized_chunked_body_is_413(settings: Settings) -> None:
    """A chunked body past max_request_bytes is a JSON 413, not a cut body's 400."""
    service = Wiring.open(settings.replace(max_request_bytes=2000))
    try:
        with live_server(create_app(wiring=service)) as base:
            port = int(base.rsplit(":", 1)[1])
            for size, expected in ((1000, 201), (5000, 413)):
                body = json.dumps({"title": "Chunked", "text": "y" * size}).encode()
                status, reply = _post_chunked(port, settings.api_token, body)
                assert status == expected, reply
                if expected == 413:
                    assert "max_request_bytes" in json.loads(reply)["error"]
    finally:
        close_service(service)


def _post_chunked(port: int, token: str, body: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /api/articles HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + token.encode()
            + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n"
        )  # fmt: skip
        for start in range(0, len(body), 1000):
            part = body[start : start + 1000]
            sock.sendall(b"%x\r\n%s\r\n" % (len(part), part))
        sock.sendall(b"0\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


def test_a_newline_in_a_file_name_cannot_forge_a_log_line(
    settings: Settings, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """The inbox logs a hostile file name on one line, its control characters escaped."""
    service = Wiring(settings, store)
    inbox = settings.inbox_dir
    inbox.mkdir(parents=True)
    name = "x\n2026-01-01 00:00:00 ERROR forged: database wiped\r\x1b[2J.json"
    path = inbox / name
    path.write_text("{not json")
    old = time.time() - 60
    import os

    os.utime(path, (old, old))
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(EscapeControls())
    scan_job(service.intake)
    lines = "\n".join(caplog.text.splitlines())
    assert "forged: database wiped" in lines
    forged = [line for line in lines.splitlines() if line.startswith("2026-01-01")]
    assert forged == []
    assert "\\n2026-01-01" in lines and "\\x1b[2J" in lines


def test_the_log_filter_escapes_every_argument() -> None:
    """Any message argument from input has its control characters escaped."""
    record = logging.LogRecord(
        "t", logging.INFO, "f", 1, "title %s by %s", ("a\nb", "c\u2028d"), None
    )
    EscapeControls().filter(record)
    assert record.getMessage() == "title a\\nb by c\\u2028d"
