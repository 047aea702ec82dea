"""Publishing: render every feed to the feeds dir atomically, and ping WebSub hubs.

Order on publish (docs/reliability.md §4): the article is committed, the feed rendered and
atomically replaced, and only then is a hub ping queued in ``websub_ping`` (an outbox
the ``ping_job`` tick drains with backoff), so the hub never fetches a stale feed and
a dead hub never blocks ingest.

Feeds: ``all``, ``category/<slug>`` for every category and ``author/<slug>`` for every
author ever stored (a section whose articles were all unpublished keeps its feed, empty:
R17), plus ``[[feeds]]`` from the config, which may also replace a default. The channel
link of generated feeds is the site home page: syndicate does not know the publisher's
section URLs; a configured feed can set ``link``.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import random
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import requests
from filelock import FileLock

from syndicate import metrics, net
from syndicate.config import Settings
from syndicate.content.text import feed_slug, is_feed_slug, section_key
from syndicate.errors import ConfigError
from syndicate.feeds.common import ShareHtml, Site
from syndicate.feeds.render import Pages, RenderedFeed, render
from syndicate.models import FEED_FORMATS, Article, FeedFormat, FeedSpec
from syndicate.store import Store, websub
from syndicate.store.feeds import (
    FILE_VARIANT,
    CatalogEntry,
    FeedState,
    Output,
    OutputKey,
    variant_of,
)

log = logging.getLogger(__name__)

EXTENSIONS: dict[str, str] = {"rss": "rss", "atom": "atom", "json": "json"}
SECTION_KINDS = ("category", "tag", "author")
_NAME = re.compile(r"^[^\W_][\w-]*(/[^\W_][\w-]*)*$")
_STALE_TEMP_SECONDS = 300
_LOCK_NAME = ".render.lock"
FileStamp = tuple[int, int, int, int]
PING_TIMEOUT = 10.0
PING_BATCH = 50
PING_BASE_DELAY = 30.0
PING_MAX_DELAY = 3600.0
PING_MAX_ATTEMPTS = 12


class Publisher:
    """Renders feeds and keeps the feeds dir up to date."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Callable[[], datetime],
        *,
        share_bar: ShareHtml | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.share_bar = share_bar
        self.site = Site.from_settings(self.settings)
        self.feeds_dir = Path(self.settings.feeds_dir)
        self.extra_specs = tuple(_checked(spec, self.site) for spec in self.settings.feeds)
        self._render_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._rendered_version: int | None = None
        self._specs: tuple[int, list[FeedSpec]] | None = None
        self._catalog_entries: dict[str, CatalogEntry] = {}
        self._next_retry: datetime | None = None
        self._adopted = False
        self.state = FeedState(self.store)
        self._variants: dict[tuple[str, str, str, int], RenderedFeed | None] = {}
        self._written: dict[Path, tuple[FileStamp, str]] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._session: requests.Session | None = None

    # -- feeds as data ----------------------------------------------------------------

    def specs(self) -> list[FeedSpec]:
        """Every feed: site, every section ever published, then configured ones."""
        version = self.store.version()
        cached = self._specs
        if cached is not None and cached[0] == version:
            return cached[1]
        s = self.settings
        found = {
            "all": FeedSpec(
                "all",
                s.site_title,
                s.site_description,
                self.site.home_url,
                limit=s.feed_limit,
                full_content=s.full_content,
            )
        }
        entries = {"all": CatalogEntry("all", "all", "", s.site_title)}
        for entry in self._sections():
            found[entry.name] = self._section_spec(entry)
            entries[entry.name] = entry
        for spec in self.extra_specs:
            found[spec.name] = spec
            entries[spec.name] = CatalogEntry(spec.name, "custom", "", spec.title)
        specs = list(found.values())
        self._catalog_entries = entries
        self._specs = (version, specs)
        return specs

    def spec(self, name: str) -> FeedSpec | None:
        return next((spec for spec in self.specs() if spec.name == name), None)

    def _section_spec(self, entry: CatalogEntry) -> FeedSpec:
        s = self.settings
        return FeedSpec(
            entry.name,
            f"{s.site_title}: {entry.label}",
            f"Latest articles: {entry.label}",
            self.site.home_url,
            category=entry.slug if entry.kind == "category" else None,
            tag=entry.slug if entry.kind == "tag" else None,
            author=entry.slug if entry.kind == "author" else None,
            limit=s.feed_limit,
            full_content=s.full_content,
        )

    def _sections(self) -> list[CatalogEntry]:
        """Every category, tag and author stored (whatever the status), and every one
        the catalog remembers: a section whose last article was edited away keeps its
        feed, empty (retraction)."""
        found = [
            CatalogEntry(f"{kind}/{t.slug}", kind, t.slug, t.label)
            for kind in ("category", "tag")
            for t in self.store.terms(kind, status=None)
        ]
        found += [
            CatalogEntry(f"author/{t.slug}", "author", t.slug, t.label)
            for t in self.store.authors(status=None)
        ]
        known = {entry.name for entry in found}
        found += [
            entry
            for entry in self.state.catalog()
            if entry.kind in SECTION_KINDS and entry.name not in known
        ]
        # A slug that is not a feed name (an empty author slug) gets no file.
        return [entry for entry in found if is_feed_slug(entry.slug)]

    def resolve(self, name: str) -> str | None:
        """The feed a request for *name* (not itself a feed) means, or None.

        An old name kept as an alias, or the same section asked for in another case,
        Unicode normalisation or spelling (``category/World``, ``category/C++``): the
        caller redirects (301) to the canonical URL.
        """
        names = {spec.name for spec in self.specs()}
        aliases = self.state.aliases()
        kind, slash, rest = name.partition("/")
        kind = kind.casefold()
        candidates = [name, section_key(name)]
        if slash and kind in SECTION_KINDS:
            candidates += [f"{kind}/{rest}", f"{kind}/{section_key(rest)}"]
            candidates += [f"{kind}/{feed_slug(rest)}"]
        for candidate in candidates:
            target = aliases.get(candidate, candidate)
            if target in names and target != name:
                return target
        return None

    def self_url(
        self, name: str, fmt: FeedFormat, limit: int | None = None, page: int | None = None
    ) -> str:
        """The feed's public URL: ASCII, so a category like ``日本`` is percent-encoded."""
        variant = variant_of(limit, page)
        query = f"?{variant}" if variant else ""
        path = quote(f"{name}.{EXTENSIONS[fmt]}", safe="/")
        return f"{self.settings.public_url}/feeds/{path}{query}"

    def path(self, name: str, fmt: FeedFormat) -> Path:
        return self.feeds_dir / f"{name}.{EXTENSIONS[fmt]}"

    # -- rendering --------------------------------------------------------------------

    def articles(self, spec: FeedSpec, limit: int | None = None, offset: int = 0) -> list[Article]:
        return self.store.recent_articles(
            category=spec.category,
            tag=spec.tag,
            author=spec.author,
            source=spec.source,
            limit=limit or spec.limit,
            offset=offset,
        )

    def render_feed(
        self,
        spec: FeedSpec,
        fmt: FeedFormat,
        articles: list[Article],
        limit: int | None = None,
        page: int | None = None,
    ) -> RenderedFeed:
        """One document; the file and each page link to their neighbours (RFC 5005 §3)."""
        share = self.share_bar if spec.share_links else None
        pages: Pages = ()
        if limit is None:  # the file (page 1) and its pages: the newest spec.limit each
            more = len(articles) > spec.limit
            articles = articles[: spec.limit]
            pages = self._pages(spec.name, fmt, page or 1, more)
        with metrics.feed_render_seconds.labels(format=fmt).time():
            return render(
                spec,
                articles,
                fmt,
                self.site,
                self_url=self.self_url(spec.name, fmt, limit, page),
                share_html=share,
                pages=pages,
            )

    def _pages(self, name: str, fmt: FeedFormat, page: int, more: bool) -> Pages:
        links = [("next", self.self_url(name, fmt, page=page + 1))] if more else []
        if page > 1:
            links.append(
                ("previous", self.self_url(name, fmt, page=page - 1 if page > 2 else None))
            )
            links.append(("first", self.self_url(name, fmt)))
        return tuple(links)

    def render_all(self, force: bool = False) -> list[Path]:
        """Render every feed in every format; write the ones whose bytes changed.

        Each feed renders and writes on its own: one that raises is marked failing and
        retried with backoff, and every other feed is still written. Web and worker
        processes may render at once: the lock spans reading the articles and writing
        the files, so the last file written is the newest render.
        """
        with self._render_lock:
            with _exclusive(self.feeds_dir / _LOCK_NAME):
                changed, topics = self._write_all(force)
            # Queued once the files are live; outside the file lock, which must never
            # wait on the database's write lock.
            if topics and self.settings.websub_hub:
                websub.queue_pings(self.store, topics, self.clock())
            return changed

    def _write_all(self, force: bool) -> tuple[list[Path], list[str]]:
        self._remove_stale_temps()
        if not self._adopted:
            self._adopt_files()
        specs = self.specs()
        now = self.clock()
        self.state.remember(self._catalog_entries.values(), now)
        known = self.state.outputs()
        failing = {entry.name: entry for entry in self.state.failing()}
        changed: list[Path] = []
        topics: list[str] = []
        recovered: list[str] = []
        for spec in specs:
            was = failing.get(spec.name)
            if was is not None and not force and was.next_attempt_at and was.next_attempt_at > now:
                continue
            try:
                paths, feed_topics = self._write_feed(spec, known, force, now)
            except Exception as exc:  # one feed's failure must never stop the others
                self._feed_failed(spec.name, exc, now)
                continue
            changed += paths
            topics += feed_topics
            if was is not None:
                recovered.append(spec.name)
                log.info("feed %s renders again after %d failure(s)", spec.name, was.failures)
        self.state.mark_ok(recovered)
        retries = [e.next_attempt_at for e in self.state.failing() if e.next_attempt_at]
        self._next_retry = min(retries, default=None)
        return changed, topics

    def _write_feed(
        self, spec: FeedSpec, known: dict[OutputKey, Output], force: bool, now: datetime
    ) -> tuple[list[Path], list[str]]:
        """Render one feed in every format; record and write what changed."""
        items = self.articles(spec, spec.limit + 1)  # one more tells whether a page 2 exists
        rendered = {fmt: self.render_feed(spec, fmt, items) for fmt in FEED_FORMATS}
        digests: dict[OutputKey, str] = {
            (spec.name, fmt, FILE_VARIANT): hashlib.sha256(feed.body).hexdigest()
            for fmt, feed in rendered.items()
        }
        new = {key: d for key, d in digests.items() if key not in known or known[key].digest != d}
        outputs = {key: known[key] for key in digests if key not in new}
        outputs |= self.state.record(new, now)
        changed, topics = [], []
        for fmt, feed in rendered.items():
            key = (spec.name, fmt, FILE_VARIANT)
            path = self.path(spec.name, fmt)
            stamp = outputs[key].last_modified.timestamp()
            wrote = self._publish(path, feed.body, digests[key], stamp, force)
            if wrote:
                changed.append(path)
            if wrote or key in new:
                topics.append(self.self_url(spec.name, fmt))
                topics += [
                    self.self_url(spec.name, fmt, **{v.split("=")[0]: int(v.split("=")[1])})
                    for v in self.state.variants(spec.name, fmt)
                ]
        return changed, topics

    def _adopt_files(self) -> None:
        """Put section files written before the catalog existed into it, so they are
        re-rendered from the articles rather than left stale."""
        found = []
        aliases = self.state.aliases()
        for kind in SECTION_KINDS:
            folder = self.feeds_dir / kind
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                slug, dot, ext = path.name.partition(".")
                if not (dot and ext in EXTENSIONS and is_feed_slug(slug) and path.is_file()):
                    continue
                if f"{kind}/{slug}" in aliases:  # an old name: it redirects now
                    path.unlink(missing_ok=True)
                    path.with_name(path.name + ".gz").unlink(missing_ok=True)
                else:
                    found.append(CatalogEntry(f"{kind}/{slug}", kind, slug, slug))
        self.state.remember(found, self.clock())
        self._adopted = True
        self._specs = None

    def _feed_failed(self, name: str, exc: Exception, now: datetime) -> None:
        error = f"{type(exc).__name__}: {exc}"
        metrics.feed_render_failures.inc()
        failures = self.state.mark_failed(name, error, now)
        if failures == 1:  # named once; the admin page and /readyz show it until it heals
            log.error("feed %s failed to render; the other feeds carry on", name, exc_info=exc)

    def render_if_changed(self) -> list[Path]:
        """Render when an article changed since the last render (one cheap query), or a
        failing feed is due for its retry."""
        version = self.store.version()
        retry = self._next_retry
        retry_due = retry is not None and retry <= self.clock()
        if version == self._rendered_version and not retry_due:
            return []
        changed = self.render_all()
        self._rendered_version = version
        return changed

    def render_variant(
        self, name: str, fmt: FeedFormat, limit: int | None = None, page: int | None = None
    ) -> RenderedFeed | None:
        """The feed with ``?limit=N`` (capped) or its ``?page=N`` (N >= 2), memoised per
        store version; None if unknown or past the last page.

        Its ``last_modified`` is the variant's own, from the feed state table.
        """
        spec = self.spec(name)
        if spec is None:
            return None
        if limit is not None:
            limit = max(1, min(limit, self.settings.feed_max_limit))
        variant = variant_of(limit, page)
        key = (name, fmt, variant, self.store.version())
        with self._state_lock:
            if key in self._variants:
                return self._variants[key]
        if page is not None:
            offset = (page - 1) * spec.limit
            items = self.articles(spec, spec.limit + 1, offset)
            if not items:
                return None
            feed = self.render_feed(spec, fmt, items, page=page)
        else:
            feed = self.render_feed(spec, fmt, self.articles(spec, limit), limit)
        now = self.clock()
        self.state.remember([self._catalog_entries[name]], now)
        output_key = (name, fmt, variant)
        digest = hashlib.sha256(feed.body).hexdigest()
        known = self.state.output(output_key)
        output = known if known and known.digest == digest else None
        output = output or self.state.record({output_key: digest}, now)[output_key]
        feed = replace(feed, last_modified=output.last_modified)
        with self._state_lock:
            if len(self._variants) >= 256 or any(k[3] != key[3] for k in self._variants):
                self._variants.clear()
            self._variants[key] = feed
        return feed

    def request_render(self) -> None:
        """Ask the background renderer for a render soon; never blocks, calls coalesce."""
        with self._state_lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._render_loop, name="syndicate-render", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _render_loop(self) -> None:
        while True:
            self._wake.wait()
            if self._stop.is_set():
                return
            self._wake.clear()
            try:
                self.render_if_changed()
            except Exception:  # the loop must survive; the scheduler tick retries too
                log.exception("background feed render failed")

    def close(self) -> None:
        """Stop the background renderer and close the hub session."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- files ------------------------------------------------------------------------

    def _publish(self, path: Path, body: bytes, digest: str, mtime: float, force: bool) -> bool:
        """Write *body* and its ``.gz`` unless the file already holds these bytes.

        The file's mtime is the feed's Last-Modified from the feed state table, so the
        web processes serving the file need no database.
        """
        if not force and path.exists() and self._digest(path) == digest:
            if os.stat(path).st_mtime != mtime:  # same bytes, time recorded elsewhere
                os.utime(path, (mtime, mtime))
            return False
        compressed = gzip.compress(body, compresslevel=9, mtime=0)
        write_atomic(path.with_name(path.name + ".gz"), compressed, mtime)
        write_atomic(path, body, mtime)
        self._written[path] = (file_stamp(os.stat(path)), digest)
        return True

    def _digest(self, path: Path) -> str:
        """The sha256 of *path*, hashed again only when the file changed (any process)."""
        stamp = file_stamp(os.stat(path))
        known = self._written.get(path)
        if known is None or known[0] != stamp:
            known = self._written[path] = (stamp, hashlib.sha256(path.read_bytes()).hexdigest())
        return known[1]

    def _remove_stale_temps(self) -> None:
        if not self.feeds_dir.is_dir():
            return
        cutoff = time.time() - _STALE_TEMP_SECONDS
        for temp in self.feeds_dir.rglob(".*.tmp"):
            try:
                if temp.stat().st_mtime < cutoff:
                    temp.unlink()
            except FileNotFoundError:
                pass

    # -- WebSub -----------------------------------------------------------------------

    def session(self) -> requests.Session:
        if self._session is None:
            agent = net.user_agent_for(self.settings.public_url)
            self._session = net.make_session(agent, env_proxies=True)
        return self._session

    def send_pings(self) -> int:
        """Ping the hub for every due topic; returns how many pings succeeded."""
        hub = self.settings.websub_hub
        if not hub:
            return 0
        sent = 0
        for topic, attempts in websub.due_pings(self.store, self.clock(), PING_BATCH):
            error = _ping(self.session(), hub, topic)
            sent += self._record_ping(topic, attempts, error)
        return sent

    def _record_ping(self, topic: str, attempts: int, error: str | None) -> int:
        if error is None:
            websub.drop_ping(self.store, topic)
            metrics.websub_pings.labels(result="ok").inc()
            return 1
        if attempts + 1 >= PING_MAX_ATTEMPTS:
            log.warning("giving up pinging the hub for %s: %s", topic, error)
            websub.drop_ping(self.store, topic)
            metrics.websub_pings.labels(result="dropped").inc()
            return 0
        due = self.clock() + timedelta(seconds=ping_delay(attempts))
        websub.delay_ping(self.store, topic, attempts + 1, due, error)
        metrics.websub_pings.labels(result="error").inc()
        return 0


def ping_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Full-jitter exponential backoff (docs/reliability.md §3.3), at least one second."""
    return max(1.0, net.full_jitter(attempts, PING_BASE_DELAY, PING_MAX_DELAY, rng))


def _ping(session: requests.Session, hub: str, topic: str) -> str | None:
    """POST ``hub.mode=publish`` for *topic*; None on a 2xx, else the reason."""
    try:
        response = session.post(
            hub, data={"hub.mode": "publish", "hub.url": topic}, timeout=PING_TIMEOUT
        )
    except requests.RequestException as exc:
        return f"{type(exc).__name__}: {exc}"
    with response:
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}: {response.text[:200]}"


def file_stamp(st: os.stat_result) -> FileStamp:
    """What changes whenever a feed file is replaced (its mtime alone is set by us)."""
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on *lock_path* (created if missing), blocking."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(lock_path):
        yield


def write_atomic(path: Path, data: bytes, mtime: float | None = None) -> None:
    """Replace *path* with *data*: temp file in the same dir, fsync, rename, fsync dir."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp's O_EXCL name is unique across processes, even ones with the same pid
    # in other containers sharing the feeds dir.
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(name)
    try:
        with open(fd, "wb") as handle:
            os.fchmod(fd, 0o644)  # readable by a static server, like any published file
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mtime is not None:
            os.utime(temp, (mtime, mtime))
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _checked(spec: FeedSpec, site: Site) -> FeedSpec:
    """A configured feed, validated: a safe path name and a positive limit."""
    if not _NAME.match(spec.name):
        raise ConfigError(
            "feeds",
            f"feed name {spec.name!r} must be words (letters, digits, -, _) joined by '/'",
        )
    if spec.limit <= 0:
        raise ConfigError("feeds", f"feed {spec.name!r}: limit must be positive")
    return spec if spec.link else replace(spec, link=site.home_url)
