"""The SSRF-safe fetcher against real servers on 127.0.0.1 (docs/reliability.md T39–T41)."""

from __future__ import annotations

import gzip
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from upstream_server import Feed, Upstream, drip, endless, redirect, send, stall, status
from urllib3.util import connection as urllib3_connection

from syndicate import __version__
from syndicate.errors import FetchError
from syndicate.net import is_public_address, literal_ip, make_session, safe_fetch

PUBLIC_IP = "93.184.216.34"  # stands in for "somewhere on the internet"; never dialled


@pytest.fixture
def session() -> Iterator[requests.Session]:
    """A fetch session, closed afterwards."""
    with make_session() as s:
        yield s


@pytest.fixture
def sentinel() -> Iterator[Upstream]:
    """A server on 127.0.0.1 that must never be reached by a refused fetch."""
    with Upstream() as up:
        up.routes["/"] = lambda h: send(h, 200, b"sentinel")
        yield up


@pytest.fixture
def internet(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Upstream], list[Any]]]:
    """Route connections to PUBLIC_IP:80 to a local server; record every address dialled.

    This fakes only the network layer under urllib3, so the fetcher's own checks run as in
    production while nothing leaves 127.0.0.1.
    """
    dialled: list[Any] = []
    real = urllib3_connection.create_connection

    def attach(public: Upstream) -> list[Any]:
        def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
            dialled.append(address)
            if address == (PUBLIC_IP, 80):
                return real(("127.0.0.1", public.port), *args, **kwargs)
            if address[0] in ("127.0.0.1", "::1"):
                return real(address, *args, **kwargs)
            raise ConnectionRefusedError(f"test network: no route to {address}")

        monkeypatch.setattr(urllib3_connection, "create_connection", create_connection)
        return dialled

    yield attach
    monkeypatch.setattr(urllib3_connection, "create_connection", real)


def stub(*answers: list[str]) -> Callable[[str, int], list[str]]:
    """A resolver giving each answer in turn (the last one repeats), counting calls."""
    calls: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers[min(len(calls), len(answers)) - 1]

    resolver.calls = calls  # type: ignore[attr-defined]
    return resolver


SSRF_URLS = [
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://0.0.0.0:{port}/",
    "http://[::1]:{port}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.0.1/",
    "http://100.64.0.1/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://[64:ff9b::a00:1]/",
    "http://[64:ff9b::7f00:1]:{port}/",
    "http://[::7f00:1]:{port}/",
    "http://[2002:7f00:1::]:{port}/",
    "http://2130706433:{port}/",
    "http://0x7f000001:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://127.1:{port}/",
    "http://0:{port}/",
    "http://224.0.0.1/",
    "http://u@127.0.0.1:{port}/",
    "http://u:p@example.com/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:{port}/_GET",
    "ftp://127.0.0.1:{port}/",
    "//127.0.0.1:{port}/",
    "http:///nohost",
]


@pytest.mark.parametrize("template", SSRF_URLS)
def test_ssrf_matrix_is_refused_without_connecting(
    template: str, session: requests.Session, sentinel: Upstream
) -> None:
    """Every private, loopback, link-local, wrapped or oddly spelled target is refused unsent."""
    url = template.format(port=sentinel.port)
    with pytest.raises(FetchError) as caught:
        safe_fetch(session, url)
    assert caught.value.url == url
    assert re.search(r"not a public address|userinfo|scheme|no host", caught.value.reason)
    assert sentinel.connections == 0


def test_the_sentinel_is_reachable_when_private_targets_are_allowed(
    session: requests.Session, sentinel: Upstream
) -> None:
    """With allow_private the same loopback URL is fetched (so the matrix can fail)."""
    result = safe_fetch(session, sentinel.url("/"), allow_loopback=True)
    assert (result.status, result.body) == (200, b"sentinel")
    assert sentinel.connections == 1
    assert sentinel.seen[0].headers["User-Agent"] == f"syndicate/{__version__}"


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "file:///etc/passwd", "http://u@127.0.0.1/"])
def test_scheme_and_userinfo_rules_hold_even_when_private_is_allowed(
    url: str, session: requests.Session
) -> None:
    """allow_private relaxes the address check only, never the scheme or userinfo rules."""
    with pytest.raises(FetchError, match=r"scheme|userinfo"):
        safe_fetch(session, url, allow_loopback=True)


def test_hostname_resolving_to_loopback_is_refused(
    session: requests.Session, sentinel: Upstream
) -> None:
    """A name whose DNS answer is 127.0.0.1 is refused before connecting."""
    resolver = stub(["127.0.0.1"])
    with pytest.raises(FetchError, match="not a public address"):
        safe_fetch(session, sentinel.url("/", host="evil.test"), resolver=resolver)
    assert sentinel.connections == 0


def test_one_private_answer_among_public_ones_is_refused(session: requests.Session) -> None:
    """Every address of the name must be public, not just the first."""
    with pytest.raises(FetchError, match=r"10\.0\.0\.1"):
        safe_fetch(session, "http://mixed.test/", resolver=stub([PUBLIC_IP, "10.0.0.1"]))


def test_resolution_failure_is_a_fetch_error(session: requests.Session) -> None:
    """A name that does not resolve gives a clear FetchError."""

    def failing(host: str, port: int) -> list[str]:
        raise socket.gaierror(-2, "Name or service not known")

    with pytest.raises(FetchError, match=r"cannot resolve nowhere\.test"):
        safe_fetch(session, "http://nowhere.test/", resolver=failing)


def test_public_host_on_an_odd_port_is_refused(session: requests.Session) -> None:
    """Only ports 80 and 443 are allowed for public targets."""
    with pytest.raises(FetchError, match="port 8080"):
        safe_fetch(session, "http://public.test:8080/", resolver=stub([PUBLIC_IP]))


def test_connection_is_pinned_to_the_validated_address(
    session: requests.Session, sentinel: Upstream
) -> None:
    """The fetch connects to the resolver's answer and keeps the real Host header."""
    resolver = stub(["127.0.0.1"], ["192.0.2.1"])
    result = safe_fetch(
        session, sentinel.url("/", host="feeds.test"), allow_loopback=True, resolver=resolver
    )
    assert result.body == b"sentinel"
    assert result.url == sentinel.url("/", host="feeds.test")
    assert resolver.calls == ["feeds.test"]  # type: ignore[attr-defined]
    assert sentinel.seen[0].headers["Host"] == f"feeds.test:{sentinel.port}"


def test_dns_rebinding_cannot_swap_the_address(
    session: requests.Session, sentinel: Upstream, internet: Callable[[Upstream], list[Any]]
) -> None:
    """First answer public, second private: the fetch uses the first and never asks again."""
    with Upstream() as public:
        public.routes["/feed"] = lambda h: send(h, 200, b"public feed")
        dialled = internet(public)
        resolver = stub([PUBLIC_IP], ["127.0.0.1"])
        result = safe_fetch(session, "http://rebind.test/feed", resolver=resolver)
    assert result.body == b"public feed"
    assert resolver.calls == ["rebind.test"]  # type: ignore[attr-defined]
    assert dialled == [(PUBLIC_IP, 80)]
    assert sentinel.connections == 0


def test_redirect_from_public_to_private_is_refused(
    session: requests.Session, sentinel: Upstream, internet: Callable[[Upstream], list[Any]]
) -> None:
    """A 302 to a loopback URL is re-validated and refused; the sentinel sees nothing."""
    with Upstream() as public:
        public.routes["/feed"] = redirect(sentinel.url("/"))
        internet(public)
        with pytest.raises(FetchError, match="not a public address"):
            safe_fetch(session, "http://public.test/feed", resolver=stub([PUBLIC_IP]))
    assert sentinel.connections == 0


def test_redirects_are_followed_to_the_limit(session: requests.Session) -> None:
    """Relative redirects are followed; one more than max_redirects is refused."""
    with Upstream() as up:
        up.routes["/a"] = redirect("/b", 301)
        up.routes["/b"] = redirect(up.url("/c"), 307)
        up.routes["/c"] = lambda h: send(h, 200, b"landed")
        result = safe_fetch(session, up.url("/a"), allow_loopback=True, max_redirects=2)
        assert (result.body, result.url) == (b"landed", up.url("/c"))
        with pytest.raises(FetchError, match="more than 1 redirects"):
            safe_fetch(session, up.url("/a"), allow_loopback=True, max_redirects=1)


def test_conditional_get_sends_validators_and_reports_304(session: requests.Session) -> None:
    """ETag and Last-Modified come back as If-None-Match / If-Modified-Since; 304 is flagged."""
    feed = Feed(b"<rss/>")
    with Upstream() as up:
        up.routes["/feed"] = feed
        first = safe_fetch(session, up.url("/feed"), allow_loopback=True)
        second = safe_fetch(
            session, up.url("/feed"), allow_loopback=True,
            etag=first.etag, last_modified=first.last_modified,
        )  # fmt: skip
    assert (first.status, first.body, first.etag) == (200, b"<rss/>", '"v1"')
    assert first.not_modified is False and first.last_modified == feed.last_modified
    assert (second.status, second.not_modified, second.body) == (304, True, b"")
    assert up.seen[1].headers["If-None-Match"] == '"v1"'
    assert up.seen[1].headers["If-Modified-Since"] == feed.last_modified


def test_http_errors_raise_with_the_status(session: requests.Session) -> None:
    """A 5xx answer is a FetchError naming the status."""
    with Upstream() as up:
        up.routes["/feed"] = status(503)
        with pytest.raises(FetchError, match="HTTP 503"):
            safe_fetch(session, up.url("/feed"), allow_loopback=True)


def test_declared_oversize_body_is_refused_before_reading(session: requests.Session) -> None:
    """A Content-Length over max_bytes is refused without downloading the body."""
    with Upstream() as up:
        up.routes["/big"] = lambda h: send(h, 200, b"x" * 200_000)
        with pytest.raises(FetchError, match="200000 bytes is over the 100000-byte limit"):
            safe_fetch(session, up.url("/big"), allow_loopback=True, max_bytes=100_000)


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "no-content-length"])
def test_streamed_body_is_cut_off_at_max_bytes(session: requests.Session, chunked: bool) -> None:
    """A body with no honest length (chunked, or read to close) is aborted past max_bytes."""
    with Upstream() as up:
        up.routes["/endless"] = endless(chunked)
        with pytest.raises(FetchError, match="over the 100000-byte limit"):
            safe_fetch(session, up.url("/endless"), allow_loopback=True, max_bytes=100_000)


def test_gzip_bomb_is_stopped_by_the_decoded_size_limit(session: requests.Session) -> None:
    """20 MB of zeros gzipped to ~20 kB is refused once decoding passes max_bytes."""
    bomb = gzip.compress(b"\0" * 20_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    with Upstream() as up:
        up.routes["/bomb"] = lambda h: send(h, 200, bomb, headers={"Content-Encoding": "gzip"})
        with pytest.raises(FetchError, match="decoded body is over the 1000000-byte limit"):
            safe_fetch(session, up.url("/bomb"), allow_loopback=True, max_bytes=1_000_000)


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_compressed_bodies_are_decoded(session: requests.Session, coding: str) -> None:
    """gzip and deflate bodies arrive decoded."""
    import zlib

    text = b"<rss>" + b"news " * 1000 + b"</rss>"
    packed = gzip.compress(text) if coding == "gzip" else zlib.compress(text)
    with Upstream() as up:
        up.routes["/feed"] = lambda h: send(h, 200, packed, headers={"Content-Encoding": coding})
        assert safe_fetch(session, up.url("/feed"), allow_loopback=True).body == text


def test_unknown_content_encoding_is_refused(session: requests.Session) -> None:
    """A body in an encoding we cannot bound (e.g. br) is refused."""
    with Upstream() as up:
        up.routes["/feed"] = lambda h: send(h, 200, b"??", headers={"Content-Encoding": "br"})
        with pytest.raises(FetchError, match="unsupported Content-Encoding"):
            safe_fetch(session, up.url("/feed"), allow_loopback=True)


def test_slow_drip_is_aborted_by_the_total_deadline(session: requests.Session) -> None:
    """A body trickling a byte at a time never hits the read timeout but hits the deadline."""
    with Upstream() as up:
        up.routes["/drip"] = drip()
        with pytest.raises(FetchError, match="deadline"):
            safe_fetch(session, up.url("/drip"), allow_loopback=True, read_timeout=5, deadline=1)


def test_silent_server_is_aborted_by_the_deadline(session: requests.Session) -> None:
    """A server that never answers is cut off within the deadline, not the read timeout."""
    with Upstream() as up:
        up.routes["/stall"] = stall(3)
        with pytest.raises(FetchError, match="deadline"):
            safe_fetch(session, up.url("/stall"), allow_loopback=True, read_timeout=10, deadline=1)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        (PUBLIC_IP, True),
        ("2606:4700::1111", True),
        ("64:ff9b::5db8:d822", True),  # NAT64 form of a public IPv4 address
        ("::ffff:93.184.216.34", True),
        ("100.64.0.1", False),
        ("64:ff9b::a00:1", False),
        ("64:ff9b:1::a00:1", False),
        ("2002:c0a8:1::", False),  # 6to4 of 192.168.0.1
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("255.255.255.255", False),
    ],
)
def test_address_classification(address: str, public: bool) -> None:
    """Only global unicast addresses count as public, looking inside IPv6 wrappers."""
    assert is_public_address(address) is public


@pytest.mark.parametrize(
    ("host", "expected"),
    [("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
     ("127.1", "127.0.0.1"), ("::1", "::1"), ("1e100.net", None), ("example.com", None)],
)  # fmt: skip
def test_legacy_ipv4_spellings_are_decoded(host: str, expected: str | None) -> None:
    """Integer, hex, octal and short IPv4 spellings decode like inet_aton; names do not."""
    found = literal_ip(host)
    assert (str(found) if found else None) == expected


def test_session_sends_no_transport_retries() -> None:
    """make_session mounts adapters that never retry, so a POST is never sent twice."""
    with make_session("custom/1.0") as s:
        assert s.headers["User-Agent"] == "custom/1.0"
        for prefix in ("http://", "https://"):
            adapter = s.get_adapter(prefix + "example.com/")
            assert adapter.max_retries.total == 0  # type: ignore[attr-defined]
        assert s.trust_env is False


def _self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A throwaway certificate and key for *name*."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_pinning_keeps_sni_and_certificate_checks(tmp_path: Path) -> None:
    """Over TLS the pinned connection sends the real name as SNI and verifies it."""
    cert, key = _self_signed(tmp_path, "feeds.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,misc,return-value]
    with Upstream() as up, make_session() as session:
        up.routes["/feed"] = lambda h: send(h, 200, b"over tls")
        up.server.socket = context.wrap_socket(up.server.socket, server_side=True)
        session.verify = str(cert)
        resolver = stub(["127.0.0.1"])
        url = f"https://feeds.test:{up.port}/feed"
        result = safe_fetch(session, url, allow_loopback=True, resolver=resolver)
        with pytest.raises(FetchError, match="request failed"):
            safe_fetch(
                session, f"https://other.test:{up.port}/feed", allow_loopback=True,
                resolver=resolver,
            )  # fmt: skip
    assert result.body == b"over tls"
    assert names[0] == "feeds.test"
    assert up.seen[0].headers["Host"] == f"feeds.test:{up.port}"
