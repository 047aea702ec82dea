"""Outbound HTTP: one session factory, one SSRF-safe fetcher for untrusted URLs, and the
one retry delay after a failed call (:func:`full_jitter`).

:func:`safe_fetch` is the only way syndicate fetches a URL it did not build itself
(upstream feeds, OG images). It follows docs/reliability.md §6 (the ``safe_fetch`` item):

* http/https only, ports 80/443, no userinfo;
* the host is resolved once (legacy IPv4 spellings such as ``2130706433``,
  ``0x7f000001`` or ``0177.0.0.1`` are decoded the way ``inet_aton`` does) and every
  address must be global; an IPv6 address wrapping an IPv4 one (mapped, translated,
  compatible, NAT64, 6to4, Teredo) counts only when the wrapped address is global;
  cloud metadata addresses and the 6to4 relay anycast range are never fetched;
* ``allow_private`` admits the private ranges of RFC 1918 and IPv6 unique-local
  addresses (any port), nothing else: loopback, link-local, metadata, CGNAT and wrapped
  forms stay refused; ``allow_loopback`` admits 127.0.0.0/8 and ``::1`` for a feed on the
  same machine (and tests);
* the connection goes to that validated address (pinning): the request URL names the IP
  while the ``Host`` header, TLS SNI and certificate check use the real host name, so a
  second DNS answer (rebinding) is never consulted;
* redirects are followed by hand, each hop validated like the first;
* the body is streamed with a byte budget on the wire and after decompression;
* a watchdog thread shuts every socket the fetch opened once the total deadline passes
  (or the caller's *cancel* event is set), whatever the response looks like: a server
  dripping its headers, a body without Content-Length, chunks one byte at a time. The
  sockets are recorded when they are created, so none escapes it.
"""

from __future__ import annotations

import ipaddress
import random
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from syndicate import __version__
from syndicate.errors import FetchError

DEFAULT_USER_AGENT = f"syndicate/{__version__}"

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REDIRECTS = frozenset({301, 302, 303, 307, 308})
PUBLIC_PORTS = frozenset({80, 443})
CHUNK = 16_384
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 SIIT
_PRIVATE_RANGES = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_NEVER = tuple(
    ipaddress.ip_network(n)
    for n in (
        "169.254.169.254/32",  # AWS, GCP, Azure, OpenStack metadata
        "fd00:ec2::254/128",  # AWS metadata over IPv6 (inside the ULA range)
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "192.0.0.192/32",  # Oracle Cloud metadata
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated, RFC 7526)
    )
)
_LEGACY_IPV4 = re.compile(r"[0-9][0-9a-fx.]*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A completed fetch: final status, decoded body and validators."""

    status: int
    body: bytes
    headers: Mapping[str, str]
    url: str
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    """A URL that passed validation, with the address it must be fetched from."""

    url: str
    scheme: str
    host: str
    port: int
    explicit_port: bool
    ip: str
    path: str = field(default="/")

    @property
    def pinned_url(self) -> str:
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{self.scheme}://{host}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.explicit_port else host


def user_agent_for(public_url: str) -> str:
    """The User-Agent upstreams see: product, version and where to find the operator."""
    return f"{DEFAULT_USER_AGENT} (+{public_url})"


def make_session(user_agent: str | None = None, *, env_proxies: bool = False) -> requests.Session:
    """A session with syndicate's User-Agent and no transport retries.

    Transport retries stay off (requests' default ``max_retries=0``) so a POST is never
    sent twice behind the caller's back; callers own their retry policy. Proxies from the
    environment are ignored unless *env_proxies*: :func:`safe_fetch` connects to the
    address it validated, which a proxy would bypass; calls to configured hosts (WebSub
    hubs, social APIs) may go through the operator's proxy.
    """
    session = requests.Session()
    session.trust_env = env_proxies
    session.headers["User-Agent"] = user_agent or DEFAULT_USER_AGENT
    for prefix in ("http://", "https://"):
        session.mount(prefix, HTTPAdapter(max_retries=0))
    return session


def safe_fetch(
    session: requests.Session,
    url: str,
    *,
    allow_private: bool = False,
    max_bytes: int = 5_000_000,
    connect_timeout: float = 3.05,
    read_timeout: float = 10,
    deadline: float = 30,
    etag: str | None = None,
    last_modified: str | None = None,
    max_redirects: int = 3,
    resolver: Resolver | None = None,
    cancel: threading.Event | None = None,
    allow_loopback: bool = False,
) -> FetchResult:
    """GET *url* with the SSRF guard, size limits and a total deadline; raise FetchError.

    Setting *cancel* (e.g. the service's stop event) ends the fetch at once.
    """
    clock = _Clock(deadline, cancel)
    headers = {"Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current = url
    for _hop in range(max_redirects + 1):
        target = validate(
            current, allow_private=allow_private, allow_loopback=allow_loopback, resolver=resolver
        )
        result = _fetch_once(
            session, target, headers, max_bytes, (connect_timeout, read_timeout), clock
        )
        if isinstance(result, FetchResult):
            return result
        current = urljoin(current, result)
    raise FetchError(url, f"more than {max_redirects} redirects")


def validate(
    url: str,
    *,
    allow_private: bool = False,
    allow_loopback: bool = False,
    resolver: Resolver | None = None,
) -> Target:
    """Check *url* against the SSRF rules and resolve it to one pinned address."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise FetchError(url, f"not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(url, f"scheme {scheme or '(none)'!r} is not allowed (http/https only)")
    if "@" in parts.netloc:
        raise FetchError(url, "credentials (userinfo) in the URL are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchError(url, "URL has no host")
    effective_port = port or (443 if scheme == "https" else 80)
    addresses = resolve(url, host, effective_port, resolver or _system_resolver)
    for address in addresses:
        if not address_allowed(address, allow_private=allow_private, allow_loopback=allow_loopback):
            raise FetchError(url, f"{host} is not a public address ({address})")
    public_only = not (allow_private or allow_loopback)
    if public_only and port is not None and port not in PUBLIC_PORTS:
        raise FetchError(url, f"port {port} is not allowed (80 and 443 only)")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(
        url=url,
        scheme=scheme,
        host=_ascii_host(url, host),
        port=effective_port,
        explicit_port=port is not None,
        ip=str(addresses[0]),
        path=path,
    )


def resolve(url: str, host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    """The addresses *host* stands for: itself when it is an IP literal, else DNS answers."""
    literal = literal_ip(host)
    if literal is not None:
        return [literal]
    try:
        answers = resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise FetchError(url, f"cannot resolve {host}: {exc}") from exc
    addresses = []
    for answer in answers:
        try:
            addresses.append(ipaddress.ip_address(answer.split("%", 1)[0]))
        except ValueError as exc:
            raise FetchError(url, f"resolver gave a bad address {answer!r} for {host}") from exc
    if not addresses:
        raise FetchError(url, f"{host} has no addresses")
    return addresses


def literal_ip(host: str) -> IPAddress | None:
    """*host* as an address if it is an IP literal in any spelling ``inet_aton`` accepts."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_public_address(address: IPAddress | str) -> bool:
    """True only for globally routable unicast addresses, looking inside IPv6 wrappers."""
    addr = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(addr)
        if embedded is not None:
            addr = embedded
    if any(addr in net for net in _NEVER):
        return False
    return addr.is_global and not addr.is_multicast


def address_allowed(
    address: IPAddress | str, *, allow_private: bool = False, allow_loopback: bool = False
) -> bool:
    """Whether a fetch may connect to *address* under the given relaxations."""
    addr = ipaddress.ip_address(address) if isinstance(address, str) else address
    if is_public_address(addr):
        return True
    if any(addr in net for net in _NEVER):
        return False
    if isinstance(addr, ipaddress.IPv6Address) and _embedded_ipv4(addr) is not None:
        return False  # a wrapped form of a non-public address: never
    if allow_private and any(addr in net for net in _PRIVATE_RANGES):
        return True
    return allow_loopback and addr.is_loopback


def _embedded_ipv4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr.sixtofour is not None:
        return addr.sixtofour
    if addr.teredo is not None:
        return addr.teredo[1]  # the client's address (obfuscated in the last 32 bits)
    if addr in _IPV4_TRANSLATED or any(addr in net for net in _NAT64):
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if addr in _IPV4_COMPATIBLE and int(addr) > 1:  # not :: or ::1
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return None


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _ascii_host(url: str, host: str) -> str:
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise FetchError(url, f"host name {host!r} is not valid: {exc}") from exc


class _Clock:
    """The total time budget of one fetch, shared by every hop."""

    def __init__(self, seconds: float, cancel: threading.Event | None = None) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self.cancel = cancel

    @property
    def over(self) -> bool:
        return time.monotonic() >= self.ends or (self.cancel is not None and self.cancel.is_set())

    def left(self, url: str) -> float:
        remaining = self.ends - time.monotonic()
        if remaining <= 0 or (self.cancel is not None and self.cancel.is_set()):
            self.expired = True
            raise self.error(url)
        return remaining

    def error(self, url: str) -> FetchError:
        if self.cancel is not None and self.cancel.is_set():
            return FetchError(url, "cancelled: the service is stopping")
        return FetchError(url, f"took longer than the {self.seconds:g} s deadline")


class _Watchdog:
    """Shuts the fetch's sockets when its clock runs out; a blocked read then returns."""

    TICK = 0.1

    def __init__(self, clock: _Clock, sockets: list[socket.socket]) -> None:
        self.clock, self.sockets = clock, sockets
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="fetch-deadline", daemon=True)

    def __enter__(self) -> _Watchdog:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.thread.join()

    def _watch(self) -> None:
        while not self.done.wait(self.TICK):
            if self.clock.over:
                self.clock.expired = True
                for sock in list(self.sockets):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return


class _PinnedAdapter(HTTPAdapter):
    """Connects to the URL's IP literal while SNI and certificate checks use *hostname*.

    Every socket its connections open is appended to ``sockets`` for the watchdog.
    """

    def __init__(self, hostname: str | None) -> None:
        self._hostname = hostname
        self.sockets: list[socket.socket] = []
        super().__init__(max_retries=0, pool_connections=1, pool_maxsize=1)

    def init_poolmanager(self, *args: Any, **pool_kwargs: Any) -> None:
        if self._hostname:
            pool_kwargs["server_hostname"] = self._hostname
            pool_kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(*args, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = _tracking_pools(self.sockets)


def _tracking_pools(sockets: list[socket.socket]) -> dict[str, type[HTTPConnectionPool]]:
    """Pool classes whose connections append each new socket to *sockets*."""

    class Tracked(urllib3.connection.HTTPConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            sockets.append(sock)
            return sock

    class TrackedTLS(urllib3.connection.HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            sockets.append(sock)
            return sock

    class Pool(HTTPConnectionPool):
        ConnectionCls = Tracked

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = TrackedTLS

    return {"http": Pool, "https": TLSPool}


def _fetch_once(
    session: requests.Session,
    target: Target,
    headers: Mapping[str, str],
    max_bytes: int,
    timeouts: tuple[float, float],
    clock: _Clock,
) -> FetchResult | str:
    """One hop: a FetchResult, or the Location of a redirect to follow."""
    url = target.url
    remaining = clock.left(url)
    request = requests.Request(
        "GET", target.pinned_url, headers={**headers, "Host": target.host_header}
    )
    prepared = session.prepare_request(request)
    timeout = (min(timeouts[0], remaining), min(timeouts[1], remaining))
    verify = True if session.verify is None else session.verify
    adapter = _PinnedAdapter(target.host if target.scheme == "https" else None)
    try:
        with _Watchdog(clock, adapter.sockets):
            try:
                response = adapter.send(
                    prepared, stream=True, timeout=timeout, verify=verify, cert=session.cert
                )
            except requests.RequestException as exc:
                clock.left(url)
                raise FetchError(url, f"request failed: {_describe(exc)}") from exc
            with response:
                return _handle(response, target, max_bytes, clock)
    finally:
        adapter.close()


def _handle(
    response: requests.Response, target: Target, max_bytes: int, clock: _Clock
) -> FetchResult | str:
    url, status = target.url, response.status_code
    if status in REDIRECTS:
        location = response.headers.get("Location")
        if not location:
            raise FetchError(url, f"HTTP {status} redirect without a Location")
        return location
    etag = response.headers.get("ETag")
    last_modified = response.headers.get("Last-Modified")
    if status == 304:
        return FetchResult(304, b"", response.headers, url, etag, last_modified, True)
    if not 200 <= status < 300:
        raise FetchError(url, f"HTTP {status} {response.reason or ''}".strip(), status)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(url, f"body of {declared} bytes is over the {max_bytes}-byte limit")
    body = _read_body(response, url, max_bytes, clock)
    return FetchResult(status, body, response.headers, url, etag, last_modified)


def _read_body(response: requests.Response, url: str, max_bytes: int, clock: _Clock) -> bytes:
    """The decoded body, aborting past *max_bytes* (wire or decoded) or the deadline."""
    decoder = _Decoder(url, response.headers.get("Content-Encoding", ""), max_bytes)
    received = 0
    for chunk in _raw_chunks(response, url, clock):
        received += len(chunk)
        if received > max_bytes:
            raise FetchError(url, f"body is over the {max_bytes}-byte limit")
        decoder.feed(chunk)
        clock.left(url)
    return decoder.finish()


def _raw_chunks(response: requests.Response, url: str, clock: _Clock) -> Iterable[bytes]:
    try:
        # read1-style reads: whatever arrived, at most CHUNK, so the clock is checked
        # after every packet rather than once per 16 KiB of a drip.
        while chunk := response.raw.read1(CHUNK, decode_content=False):
            yield chunk
            clock.left(url)
    except FetchError:
        raise
    except Exception as exc:  # urllib3 and socket errors while reading the body
        clock.left(url)
        if clock.expired:
            raise clock.error(url) from exc
        raise FetchError(url, f"reading the body failed: {_describe(exc)}") from exc
    if clock.expired:  # the watchdog shut the socket: that EOF is not the body's end
        raise clock.error(url)


class _Decoder:
    """Content-Encoding decoding with a cap on the decoded size (gzip bombs)."""

    def __init__(self, url: str, encoding: str, max_bytes: int) -> None:
        self.url, self.max_bytes = url, max_bytes
        self.parts: list[bytes] = []
        self.size = 0
        coding = encoding.strip().lower()
        if coding in ("", "identity"):
            self.zlib = None
        elif coding in ("gzip", "x-gzip"):
            self.zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            self.zlib = zlib.decompressobj()
        else:
            raise FetchError(url, f"unsupported Content-Encoding {encoding!r}")

    def feed(self, chunk: bytes) -> None:
        if self.zlib is None:
            self._add(chunk)
            return
        try:
            data = chunk
            while data:
                # Ask for one byte more than allowed: getting it proves the body is too big.
                out = self.zlib.decompress(data, self.max_bytes - self.size + 1)
                self._add(out)
                data = self.zlib.unconsumed_tail
        except zlib.error as exc:
            raise FetchError(self.url, f"body is not valid compressed data: {exc}") from exc

    def finish(self) -> bytes:
        if self.zlib is not None:
            self._add(self.zlib.flush())
        return b"".join(self.parts)

    def _add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise FetchError(self.url, f"decoded body is over the {self.max_bytes}-byte limit")
        self.parts.append(data)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def full_jitter(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """A delay in seconds before retry number *attempt* (0 for the first retry).

    Full-jitter exponential backoff, ``uniform(0, min(cap, base·2^attempt))``, for share
    posts (the ledger) and WebSub pings alike (docs/reliability.md §3.3): spreading retries
    evenly keeps many failed calls from waking at the same moment. Pure: the caller may
    pass the random source.
    """
    return (rng or random).uniform(0, min(cap, base * 2 ** max(attempt, 0)))
