"""Publishing feeds to the feeds dir and pinging WebSub hubs, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import feedparser
import pytest
import sqlalchemy as sa

from syndicate.config import Settings
from syndicate.errors import ConfigError
from syndicate.models import Article, FeedSpec, Image, Term
from syndicate.publish import Publisher, ping_delay
from syndicate.store import Store
from syndicate.store.schema import websub_ping
from syndicate.wiring import Wiring
from tests.feedcheck import check

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def fresh_publisher(wiring: Wiring) -> Publisher:
    """A second publisher on the same store and settings, as another process builds one."""
    share_bar = wiring.sharing.share_bar_html
    return Publisher(wiring.settings, wiring.store, wiring.clock, share_bar=share_bar)


def make(n: int, category: str = "world", author: str = "Jane Doe") -> Article:
    return Article(
        id=f"a{n}",
        title=f"Story {n}",
        url=f"https://news.example.com/s{n}",
        content_html=f"<p>Story {n}</p>",
        summary=f"Summary {n}",
        author=author,
        published=NOW - timedelta(days=10 - n),
        updated=NOW - timedelta(days=10 - n),
        categories=(Term(category, category.title()),),
        image=Image(f"https://news.example.com/{n}.jpg", "image/jpeg", 1000 + n),
        guid=f"tag:news.example.com,2026:{n}",
    )


class FakeHub:
    """A WebSub hub on 127.0.0.1 that records publish pings and answers *status*."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.pings: list[dict[str, list[str]]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                hub.pings.append(parse_qs(self.rfile.read(length).decode()))
                self.send_response(hub.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hub"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    """A running fake hub."""
    fake = FakeHub()
    yield fake
    fake.close()


def open_service(settings: Settings, store: Store, **changes: object) -> Wiring:
    return Wiring(settings.replace(**changes), store, clock=lambda: NOW)


@pytest.fixture
def service(settings: Settings, store: Store) -> Iterator[Wiring]:
    """A service on the parametrised store, without WebSub."""
    svc = open_service(settings, store)
    yield svc
    svc.publisher.close()


def test_render_all_writes_every_feed_with_gzip(service: Wiring) -> None:
    """render_all writes all/category/author feeds in three formats, each with a .gz twin."""
    service.store.upsert_articles([make(1), make(2, "sport", "John Roe")], NOW)
    changed = service.publisher.render_all()
    feeds = service.settings.feeds_dir
    names = {"all", "category/world", "category/sport", "author/jane-doe", "author/john-roe"}
    expected = {feeds / f"{n}.{ext}" for n in names for ext in ("rss", "atom", "json")}
    assert set(changed) == expected
    for path in expected:
        body = path.read_bytes()
        assert gzip.decompress(path.with_name(path.name + ".gz").read_bytes()) == body
        fmt = path.suffix[1:]
        assert check(fmt, body, service.publisher.self_url(_name(feeds, path), fmt), now=NOW) == []
    parsed = feedparser.parse((feeds / "category/sport.rss").read_bytes())
    assert parsed.bozo == 0 and [e.id for e in parsed.entries] == ["tag:news.example.com,2026:2"]
    # The file's mtime is its Last-Modified: when its bytes changed (the render), not an
    # entry's date.
    assert os.stat(feeds / "all.atom").st_mtime == NOW.timestamp()
    assert not list(feeds.rglob("*.tmp"))


def _name(feeds: Path, path: Path) -> str:
    return str(path.relative_to(feeds).with_suffix(""))


def test_unchanged_data_is_not_rewritten(service: Wiring) -> None:
    """A second render with the same data writes nothing: same inode and mtime."""
    service.store.upsert_article(make(1), NOW)
    service.publisher.render_all()
    path = service.publisher.path("all", "rss")
    before = os.stat(path)
    assert service.publisher.render_all() == []
    assert fresh_publisher(service).render_all() == []  # a fresh process compares file bytes
    after = os.stat(path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert path in service.publisher.render_all(force=True)


def test_render_if_changed_follows_store_version(service: Wiring) -> None:
    """render_if_changed renders once per store change and is a no-op otherwise."""
    service.store.upsert_article(make(1), NOW)
    assert service.publisher.render_if_changed()
    assert service.publisher.render_if_changed() == []
    service.store.upsert_article(make(3), NOW)
    service.publisher.render_if_changed()
    assert b"Story 3" in service.publisher.path("all", "json").read_bytes()


def test_unpublished_category_keeps_an_empty_feed(service: Wiring) -> None:
    """A category whose articles were all unpublished still has its feed, with no items."""
    service.store.upsert_articles([make(1), make(2, "sport")], NOW)
    service.store.unpublish("a2", NOW)
    service.publisher.render_all()
    assert service.publisher.spec("category/sport") is not None
    parsed = feedparser.parse(service.publisher.path("category/sport", "atom").read_bytes())
    assert parsed.bozo == 0 and parsed.entries == []
    assert b"Story 2" not in service.publisher.path("all", "rss").read_bytes()


def test_request_render_picks_up_new_article(service: Wiring) -> None:
    """After request_render the background thread puts a new article in the served files."""
    service.publisher.render_all()
    service.store.upsert_article(make(5), NOW)
    service.publisher.request_render()
    service.publisher.request_render()  # coalesces with the first
    path = service.publisher.path("all", "rss")
    deadline = time.monotonic() + 10
    while b"Story 5" not in path.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert b"Story 5" in path.read_bytes()


def test_render_variant_caps_limit_and_sets_self_url(service: Wiring) -> None:
    """?limit=N gives N items, a self URL with the query, a cap, and None for unknown feeds."""
    service.store.upsert_articles([make(n) for n in range(1, 6)], NOW)
    feed = service.publisher.render_variant("all", "atom", 2)
    assert feed is not None
    url = "https://feeds.example.com/feeds/all.atom?limit=2"
    assert check("atom", feed.body, url) == []
    assert len(feedparser.parse(feed.body).entries) == 2
    assert service.publisher.render_variant("all", "atom", 2) is feed
    capped = service.publisher.render_variant("all", "rss", 10_000)
    assert capped is not None and b"?limit=200" in capped.body
    assert service.publisher.render_variant("nope", "rss", 5) is None


def test_configured_feeds_are_validated(settings: Settings, store: Store) -> None:
    """A configured feed with an unsafe name is a ConfigError naming it; good ones are added."""
    bad = open_service(settings, store, feeds=(FeedSpec("../x", "X", "X", ""),))
    with pytest.raises(ConfigError, match=r"\.\./x"):
        fresh_publisher(bad)
    good = open_service(settings, store, feeds=(FeedSpec("picks", "Picks", "P", "", tag="p"),))
    spec = fresh_publisher(good).spec("picks")
    assert spec is not None and spec.link == "https://news.example.com/"


def test_stale_temp_files_are_removed(service: Wiring) -> None:
    """Temp files left by a crashed render are removed once they are old."""
    stale = service.settings.feeds_dir / "category" / ".world.rss.1.2.tmp"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"partial")
    os.utime(stale, (0, 0))
    service.publisher.render_all()
    assert not stale.exists()


def test_websub_ping_after_publish(settings: Settings, store: Store, hub: FakeHub) -> None:
    """Changed feeds queue a ping per topic; send_pings sends hub.mode=publish and clears them."""
    svc = open_service(settings, store, websub_hub=hub.url)
    try:
        svc.store.upsert_article(make(1), NOW)
        svc.publisher.render_all()
        body = svc.publisher.path("all", "rss").read_bytes()
        assert f'<atom:link href="{hub.url}" rel="hub"/>'.encode() in body
        svc.publisher.send_pings()
        topics = {p["hub.url"][0] for p in hub.pings}
        assert {p["hub.mode"][0] for p in hub.pings} == {"publish"}
        assert "https://feeds.example.com/feeds/all.rss" in topics
        assert "https://feeds.example.com/feeds/author/jane-doe.json" in topics
        assert len(topics) == 9 and _pending(store) == []
    finally:
        svc.publisher.close()


def test_hub_down_keeps_publishing_and_retries(
    settings: Settings, store: Store, hub: FakeHub
) -> None:
    """With the hub failing, feeds are still written and pings stay queued with backoff."""
    hub.status = 503
    svc = open_service(settings, store, websub_hub=hub.url)
    try:
        svc.store.upsert_article(make(1), NOW)
        assert svc.publisher.render_all()
        assert svc.publisher.send_pings() == 0
        pending = _pending(store)
        assert len(pending) == 9
        assert all(row.attempts == 1 and row.due_at > NOW for row in pending)
        assert all("503" in row.last_error for row in pending)
        assert svc.publisher.send_pings() == 0  # not due yet: nothing sent
        assert len(hub.pings) == 9
    finally:
        svc.publisher.close()


def test_unreachable_hub_is_recorded(settings: Settings, store: Store) -> None:
    """A hub that refuses connections leaves the ping queued with the error."""
    svc = open_service(settings, store, websub_hub="http://127.0.0.1:9/hub")
    try:
        svc.store.upsert_article(make(1), NOW)
        svc.publisher.render_all()
        svc.publisher.send_pings()
        assert all("ConnectionError" in row.last_error for row in _pending(store))
    finally:
        svc.publisher.close()


def test_ping_delay_is_jittered_and_capped() -> None:
    """Backoff grows exponentially with full jitter, at least 1 s, at most an hour."""
    import random

    rng = random.Random(7)
    delays = [ping_delay(n, rng) for n in range(20)]
    assert all(1.0 <= d <= 3600.0 for d in delays)
    assert max(delays[:1]) <= 30.0


def _pending(store: Store) -> list[sa.Row]:  # type: ignore[type-arg]
    with store.read() as conn:
        return list(conn.execute(sa.select(websub_ping)))


def test_a_render_by_another_process_is_never_mistaken_for_our_own(service: Wiring) -> None:
    """A publisher re-reads a feed file another process replaced instead of trusting its memo."""
    web, worker = service.publisher, fresh_publisher(service)
    service.store.upsert_article(make(1), NOW)
    web.render_all()
    service.store.unpublish("a1", NOW)
    worker.render_all()  # the other process writes the feed without the story
    service.store.upsert_article(make(1), NOW)  # republished: the same bytes as web's render
    web.render_all()
    assert b"Story 1" in web.path("all", "rss").read_bytes()


def test_render_waits_for_another_process_holding_the_feeds_lock(service: Wiring) -> None:
    """Renders in different processes are serialised by a lock file in the feeds dir."""
    import fcntl

    service.store.upsert_article(make(1), NOW)
    lock = service.settings.feeds_dir / ".render.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # a separate open file: conflicts like a process
        renderer = threading.Thread(target=service.publisher.render_all)
        renderer.start()
        renderer.join(timeout=0.3)
        assert renderer.is_alive()
        assert not service.publisher.path("all", "rss").exists()
    renderer.join()
    assert b"Story 1" in service.publisher.path("all", "rss").read_bytes()


def test_feed_files_are_world_readable_and_leave_no_temp(service: Wiring) -> None:
    """Feed files are written 0644 (a static server can read them) with no temp file left."""
    service.store.upsert_article(make(1), NOW)
    service.publisher.render_all()
    feeds = service.settings.feeds_dir
    assert os.stat(feeds / "all.rss").st_mode & 0o777 == 0o644
    assert os.stat(feeds / "all.rss.gz").st_mode & 0o777 == 0o644
    assert list(feeds.rglob("*.tmp")) == []
