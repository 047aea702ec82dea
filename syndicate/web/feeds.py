"""Serving the feeds: pre-rendered files from an in-process cache, with conditional GET.

The hot path (a request for ``/feeds/<name>.<fmt>``) does one ``os.stat`` to notice a new
render by any process, then answers from memory with precomputed headers: no database,
no rendering, no hashing. Only ``?limit=N`` renders (through a small cache keyed by the
store version). HTTP behaviour follows docs/feeds.md R13-R17.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.http import http_date, parse_accept_header, parse_date

from syndicate import metrics
from syndicate.content.text import to_uri
from syndicate.feeds.render import MEDIA_TYPES
from syndicate.models import FEED_FORMATS, FeedFormat
from syndicate.publish import FileStamp, file_stamp
from syndicate.store.feeds import variant_of
from syndicate.web.errors import json_error, wants_json
from syndicate.web.feed_index import feed_index, feed_links
from syndicate.web.parts import WebParts, parts_of

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

bp = Blueprint("feeds", __name__)

GZIP_TAG_SUFFIX = "-gz"
# Suffixes proxies and servers append to an ETag when they compress (Apache: "-gzip").
_CODING_SUFFIXES = ("-gzip", GZIP_TAG_SUFFIX, ";gzip")
_EXTENSION_KEY = "syndicate.feeds"
_VARIANT_CACHE_SIZE = 16
Headers = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Representation:
    """One encoding of a feed body with the headers of its 200 and its 304."""

    body: bytes
    etag: str
    ok_headers: Headers
    not_modified_headers: Headers

    @property
    def length(self) -> tuple[str, str]:
        return ("Content-Length", str(len(self.body)))


@dataclass(frozen=True, slots=True)
class CachedFeed:
    """A feed body in both encodings, ready to answer any request for it."""

    stamp: FileStamp
    digest: str
    modified: int | None  # whole seconds since the epoch, for If-Modified-Since
    plain: Representation
    gzipped: Representation

    def matching(self, if_none_match: str, selected: Representation) -> Representation | None:
        """The representation an If-None-Match list matches (weak comparison), or None.

        Either encoding's tag matches, also as weakened (``W/``) or proxy-suffixed
        (``-gzip``), since both encode the same content (docs/feeds.md R14).
        """
        for raw in if_none_match.split(","):
            tag = raw.strip()
            if tag == "*":
                return selected
            tag = tag.removeprefix("W/").strip('"')
            for suffix in _CODING_SUFFIXES:
                if tag.endswith(suffix):
                    if tag[: -len(suffix)] == self.digest:
                        return self.gzipped
                    break
            if tag == self.digest:
                return self.plain
        return None


def build_feed(
    body: bytes,
    gz_body: bytes | None,
    *,
    media_type: str,
    modified: datetime | float | None,
    max_age: int,
    link: str | None,
    stamp: FileStamp = (0, 0, 0, 0),
) -> CachedFeed:
    """Hash *body* once and precompute the headers of every answer about it."""
    digest = hashlib.sha256(body).hexdigest()[:40]
    if gz_body is None or not _same_content(gz_body, body):
        gz_body = gzip.compress(body, compresslevel=9, mtime=0)
    if isinstance(modified, datetime):
        modified = modified.astimezone(UTC).timestamp()
    seconds = int(modified) if modified is not None else None
    shared: Headers = [("Cache-Control", f"public, max-age={max_age}"), ("Vary", "Accept-Encoding")]
    if link:
        shared.append(("Link", link))
    validators: Headers = [("Last-Modified", http_date(seconds))] if seconds is not None else []

    def representation(data: bytes, etag: str, extra: Headers) -> Representation:
        tag = [("ETag", etag)]
        ok = [("Content-Type", media_type), *extra, *tag, *validators, *shared]
        return Representation(data, etag, ok, [*tag, *shared])

    return CachedFeed(
        stamp=stamp,
        digest=digest,
        modified=seconds,
        plain=representation(body, f'"{digest}"', []),
        gzipped=representation(
            gz_body, f'"{digest}{GZIP_TAG_SUFFIX}"', [("Content-Encoding", "gzip")]
        ),
    )


def _same_content(gz_body: bytes, body: bytes) -> bool:
    """True if *gz_body* decompresses to *body* (the .gz may lag behind a new render)."""
    try:
        return gzip.decompress(gz_body) == body
    except (OSError, EOFError, ValueError):
        return False


def valid_feed_name(name: str) -> bool:
    """True for names like ``all`` or ``category/world``: no empty, hidden or ``..`` parts."""
    if "\\" in name or "\x00" in name:
        return False
    return all(part and not part.startswith(".") for part in name.split("/"))


class FeedUnavailable(Exception):
    """A known feed has no file yet and rendering it did not produce one."""


class FeedFiles:
    """The cache of feed files of one app: file identity -> ready answers."""

    def __init__(self, service: WebParts) -> None:
        self.service = service
        settings = service.settings
        self.max_age = settings.feed_ttl * 60
        self.hub = settings.websub_hub
        self._files: dict[tuple[str, FeedFormat], tuple[Path, CachedFeed | None]] = {}
        self._variants: OrderedDict[tuple[str, str, str, int], CachedFeed] = OrderedDict()
        self._render_lock = threading.Lock()
        self._variant_lock = threading.Lock()
        self._variant_render_lock = threading.Lock()

    def get(self, name: str, fmt: FeedFormat) -> CachedFeed | None:
        """The served feed file; None for an unknown feed. Raises FeedUnavailable."""
        hit = self._files.get((name, fmt))
        if hit is None:
            if not valid_feed_name(name):
                return None
            hit = (self.service.publisher.path(name, fmt), None)
        path, cached = hit
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return self._first_render(name, fmt, path)
        if cached is not None and cached.stamp == file_stamp(st):
            return cached
        return self._load(name, fmt, path)

    def variant(
        self, name: str, fmt: FeedFormat, limit: int | None = None, page: int | None = None
    ) -> CachedFeed | None:
        """A ``?limit=N`` or ``?page=N`` rendering, cached until any article changes; None
        if unknown (or past the last page)."""
        if not valid_feed_name(name):
            return None
        key = (name, fmt, variant_of(limit, page), self.service.store.version())
        cached = self._cached_variant(key)
        if cached is not None:
            return cached
        # Single-flight: concurrent misses wait for one render instead of each rendering.
        with self._variant_render_lock:
            return self._cached_variant(key) or self._render_variant(name, fmt, limit, page, key)

    def _cached_variant(self, key: tuple[str, str, str, int]) -> CachedFeed | None:
        with self._variant_lock:
            cached = self._variants.get(key)
            if cached is not None:
                self._variants.move_to_end(key)
            return cached

    def _render_variant(
        self,
        name: str,
        fmt: FeedFormat,
        limit: int | None,
        page: int | None,
        key: tuple[str, str, str, int],
    ) -> CachedFeed | None:
        publisher = self.service.publisher
        rendered = publisher.render_variant(name, fmt, limit, page)
        if rendered is None:
            return None
        cached = build_feed(
            rendered.body,
            None,
            media_type=rendered.media_type,
            modified=rendered.last_modified,
            max_age=self.max_age,
            link=self._link(name, fmt, limit, page),
        )
        with self._variant_lock:
            self._variants[key] = cached
            while len(self._variants) > _VARIANT_CACHE_SIZE:
                self._variants.popitem(last=False)
        return cached

    def _load(self, name: str, fmt: FeedFormat, path: Path) -> CachedFeed | None:
        try:
            with open(path, "rb") as fh:
                st = os.fstat(fh.fileno())
                body = fh.read()
        except FileNotFoundError:
            return self._first_render(name, fmt, path)
        try:
            gz_body: bytes | None = Path(f"{path}.gz").read_bytes()
        except FileNotFoundError:
            gz_body = None
        cached = build_feed(
            body,
            gz_body,
            media_type=MEDIA_TYPES[fmt],
            modified=st.st_mtime,
            max_age=self.max_age,
            link=self._link(name, fmt, None),
            stamp=file_stamp(st),
        )
        self._files[(name, fmt)] = (path, cached)
        return cached

    def _first_render(self, name: str, fmt: FeedFormat, path: Path) -> CachedFeed | None:
        """A known feed whose file is not written yet is rendered once, single-flight."""
        publisher = self.service.publisher
        if publisher.spec(name) is None:
            return None
        with self._render_lock:
            if not path.exists():
                publisher.render_all()
        if not path.exists():
            raise FeedUnavailable(name)
        return self._load(name, fmt, path)

    def _link(
        self, name: str, fmt: FeedFormat, limit: int | None, page: int | None = None
    ) -> str | None:
        if not self.hub:
            return None
        self_url = self.service.publisher.self_url(name, fmt, limit, page)
        return f'<{to_uri(self.hub)}>; rel="hub", <{self_url}>; rel="self"'


@bp.record_once
def _setup(state: Any) -> None:
    files = state.app.extensions[_EXTENSION_KEY] = FeedFiles(parts_of(state.app))
    state.app.wsgi_app = FastPath(state.app.wsgi_app, files)


def _files() -> FeedFiles:
    files: FeedFiles = current_app.extensions[_EXTENSION_KEY]
    return files


_counters: dict[int, Any] = {}
# Headers every feed answer carries, also on the fast path that skips Flask's hooks.
_ALWAYS: Headers = [("X-Content-Type-Options", "nosniff")]


def _count(status: int) -> None:
    counter = _counters.get(status)
    if counter is None:
        counter = _counters[status] = metrics.feed_requests.labels(status=str(status))
    counter.inc()


def _counted(response: Response) -> Response:
    _count(response.status_code)
    return response


@functools.lru_cache(maxsize=64)
def accepts_gzip(accept_encoding: str) -> bool:
    """True when an Accept-Encoding header value allows gzip (q-values respected)."""
    return bool(accept_encoding) and parse_accept_header(accept_encoding)["gzip"] > 0


def answer(
    feed: CachedFeed,
    accept_encoding: str | None,
    if_none_match: str | None,
    if_modified_since: str | None,
) -> tuple[int, Representation]:
    """The status (200 or 304) and representation for a request's headers (RFC 9110).

    If-None-Match, when sent, decides alone; If-Modified-Since counts only without it.
    """
    selected = feed.gzipped if accepts_gzip(accept_encoding or "") else feed.plain
    if if_none_match is not None:
        matched = feed.matching(if_none_match, selected)
        if matched is not None:
            return 304, matched
    elif feed.modified is not None and if_modified_since:
        since = parse_date(if_modified_since)
        if since is not None and feed.modified <= since.timestamp():
            return 304, selected
    return 200, selected


def conditional_response(feed: CachedFeed) -> Response:
    """200 in the accepted encoding, or 304 when the client's copy is current."""
    headers = request.headers
    status, chosen = answer(
        feed,
        headers.get("Accept-Encoding"),
        headers.get("If-None-Match"),
        headers.get("If-Modified-Since"),
    )
    if status == 304:
        return Response(status=304, headers=chosen.not_modified_headers)
    return Response(chosen.body, 200, chosen.ok_headers)


class FastPath:
    """WSGI middleware answering plain feed requests before Flask is involved.

    A feed poll is by far the most frequent request, and everything it needs is
    precomputed in :class:`FeedFiles`; routing it through Flask would cost more than the
    answer itself (the same idea as WhiteNoise for static files). Anything else, including
    ``?limit=``, unknown feeds and errors, goes on to the Flask app.
    """

    def __init__(self, app: WSGIApplication, files: FeedFiles) -> None:
        self.app = app
        self.files = files

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        found = self._lookup(environ)
        if found is None:
            return self.app(environ, start_response)
        status, chosen = answer(
            found,
            environ.get("HTTP_ACCEPT_ENCODING"),
            environ.get("HTTP_IF_NONE_MATCH"),
            environ.get("HTTP_IF_MODIFIED_SINCE"),
        )
        _count(status)
        if status == 304:
            start_response("304 Not Modified", [*chosen.not_modified_headers, *_ALWAYS])
            return []
        start_response("200 OK", [*chosen.ok_headers, *_ALWAYS, chosen.length])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [chosen.body]

    def _lookup(self, environ: WSGIEnvironment) -> CachedFeed | None:
        path: str = environ.get("PATH_INFO", "")
        if (
            not path.startswith("/feeds/")
            or environ.get("QUERY_STRING")
            or environ["REQUEST_METHOD"] not in ("GET", "HEAD")
        ):
            return None
        name, dot, extension = path[len("/feeds/") :].rpartition(".")
        if not (dot and name and extension in FEED_FORMATS):
            return None
        try:
            return self.files.get(name, extension)
        except FeedUnavailable:
            return None


def parse_limit(raw: str, cap: int) -> int | None:
    """``?limit=`` as a whole number from 1, capped at *cap*; None if it is not one."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or int(raw) < 1:
        return None
    return min(int(raw), cap)


def parse_page(raw: str) -> int | None:
    """``?page=`` as a whole number from 2 (page 1 is the feed itself); None otherwise."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) < 2:
        return None
    return int(raw)


def _bad_page(raw: str, raw_limit: str | None) -> Response:
    fields = {"page": f"must be a whole number from 2 (page 1 is the feed itself), got {raw!r}"}
    if raw_limit is not None:
        fields = {"limit": "pages have the feed's own size: give page or limit, not both"}
    return json_error(400, "bad query parameter", fields=fields)


def _bad_limit(raw: str, cap: int) -> Response:
    return json_error(
        400,
        "bad query parameter",
        fields={"limit": f"must be a whole number from 1 to {cap}, got {raw!r}"},
    )


def _not_found(name: str) -> Response:
    if wants_json():
        feeds = _files().service.settings.public_url + "/feeds/"
        return json_error(404, f"no feed named {name!r}", feeds=feeds)
    page = render_template("feed_not_found.html", name=name)
    return Response(page, 404, content_type="text/html; charset=utf-8")


@bp.route("/feeds/<path:name>.<any(rss, atom, json):extension>", methods=["GET", "HEAD"])
def feed(name: str, extension: str) -> Response:
    """Serve one feed: the pre-rendered file, or a capped ``?limit=N`` rendering."""
    files = _files()
    fmt = cast(FeedFormat, extension)  # the route only lets the three formats through
    raw_limit = request.args.get("limit")
    raw_page = request.args.get("page")
    try:
        if raw_page is not None:
            page = parse_page(raw_page)
            if page is None or raw_limit is not None:
                return _counted(_bad_page(raw_page, raw_limit))
            cached = files.variant(name, fmt, page=page)
        elif raw_limit is None:
            cached = files.get(name, fmt)
        else:
            cap = files.service.settings.feed_max_limit
            limit = parse_limit(raw_limit, cap)
            if limit is None:
                return _counted(_bad_limit(raw_limit, cap))
            cached = files.variant(name, fmt, limit)
    except FeedUnavailable:
        return _counted(json_error(503, "the feed is being rendered", headers={"Retry-After": "2"}))
    if cached is None:
        return _counted(_redirect(name, fmt) or _not_found(name))
    return _counted(conditional_response(cached))


def _redirect(name: str, fmt: FeedFormat) -> Response | None:
    """301 to the canonical URL of a feed asked for by an old or variant name."""
    publisher = _files().service.publisher
    target = publisher.resolve(name)
    if target is None:
        return None
    query = request.query_string.decode("ascii", "replace")
    location = publisher.self_url(target, fmt) + (f"?{query}" if query else "")
    return Response(
        status=301, headers={"Location": location, "Cache-Control": "public, max-age=86400"}
    )


@bp.get("/feeds/")
def index() -> str:
    """Every feed under a heading per kind, each with its address to copy, its number of
    items and its last update; every feed is advertised for autodiscovery."""
    service = parts_of(current_app)
    return render_template(
        "feeds_index.html",
        settings=service.settings,
        feeds=feed_links(service),  # every feed advertised for autodiscovery
        sections=feed_index(service),
    )
