"""The feed state table: Last-Modified that only grows, retraction, per-feed isolation.

Real SQLite/PostgreSQL stores, the real app over a real socket, a hand-moved clock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import feedparser
import pytest
from live import fetch, live_server
from test_publish import FakeHub
from werkzeug.http import parse_date

from syndicate.config import Settings
from syndicate.ingest import ingest_raw
from syndicate.store import Store
from syndicate.store.feeds import next_modified, retry_delay
from syndicate.wiring import Wiring, create_app
from tests.conftest import Clock
from tests.feedcheck import check

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FORMATS = ("rss", "atom", "json")


def raw(n: int, **changes: object) -> dict[str, object]:
    item: dict[str, object] = {
        "id": f"s{n}",
        "title": f"Story {n}",
        "url": f"https://news.example.com/s/{n}",
        "body": f"<p>Body {n}</p>",
        "author": "Jane Doe",
        "published": (START - timedelta(days=10 - n)).isoformat(),
        "categories": ["World"],
        "tags": ["Climate"],
    }
    return item | changes


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def service(settings: Settings, store: Store, clock: Clock) -> Iterator[Wiring]:
    svc = Wiring(settings, store, clock=clock)
    yield svc
    svc.publisher.close()


def test_next_modified_is_strictly_increasing() -> None:
    """Whole seconds; never equal to or before the previous value, even in the same second."""
    now = datetime(2026, 1, 1, 0, 0, 0, 700_000, tzinfo=UTC)
    assert next_modified(None, now) == now.replace(microsecond=0)
    assert next_modified(now.replace(microsecond=0), now) == now.replace(microsecond=0) + timedelta(
        seconds=1
    )
    later = now + timedelta(minutes=5)
    assert next_modified(now, later) == later.replace(microsecond=0)
    assert [retry_delay(n) for n in (1, 2, 3)] == [30.0, 60.0, 120.0]
    assert retry_delay(50) == 3600.0


def _get(base: str, path: str, since: str | None = None) -> tuple[int, str | None, bytes]:
    headers = {"If-Modified-Since": since} if since else {}
    reply = fetch(base + path, headers=headers)
    return reply.status, reply.header("Last-Modified"), reply.body


def test_if_modified_since_client_sees_every_change(service: Wiring, clock: Clock) -> None:
    """A client sending only If-Modified-Since (newsboat) sees added, backdated and removed
    items, also when two changes fall in the same second."""
    ingest_raw(service.intake, [raw(5), raw(6)], source="test")
    service.publisher.render_all()
    paths = [f"/feeds/{name}.{fmt}" for name in ("all", "category/world") for fmt in FORMATS]
    with live_server(create_app(wiring=service)) as base:
        seen = {path: _get(base, path) for path in paths}
        steps = [
            # backdated: older than all
            lambda: ingest_raw(service.intake, [raw(2)], source="test"),
            lambda: service.store.unpublish("s6", clock()),  # the newest goes
            lambda: ingest_raw(service.intake, [raw(3, title="Edited")], source="test"),
            lambda: service.store.unpublish("s3", clock()),  # same second as the edit
        ]
        for number, step in enumerate(steps):
            if number != 3:
                clock.advance(7)
            step()
            service.publisher.render_if_changed()
            for path in paths:
                _, before, old_body = seen[path]
                status, modified, body = _get(base, path, since=before)
                assert status == 200, f"step {number}: {path} changed but answered {status}"
                assert body != old_body
                assert modified and before and parse_date(modified) > parse_date(before)
                assert parse_date(modified) <= clock() + timedelta(seconds=1)
                assert _get(base, path, since=modified)[0] == 304
                seen[path] = (status, modified, body)


def test_unchanged_bytes_keep_last_modified_across_processes(
    service: Wiring, settings: Settings, store: Store, clock: Clock
) -> None:
    """Another process rendering the same bytes later gives the same Last-Modified."""
    ingest_raw(service.intake, [raw(1)], source="test")
    service.publisher.render_all()
    first = service.publisher.state.output(("all", "rss", ""))
    clock.advance(3600)
    other = Wiring(settings, store, clock=clock)
    try:
        assert other.publisher.render_all(force=True)
        assert other.publisher.state.output(("all", "rss", "")) == first
        assert first is not None
        mtime = service.publisher.path("all", "rss").stat().st_mtime
        assert mtime == first.last_modified.timestamp()
    finally:
        other.publisher.close()


def _every_url(service: Wiring, names: list[str], limits: tuple[int, ...]) -> list[str]:
    publisher = service.publisher
    urls = [publisher.self_url(n, fmt) for n in names for fmt in FORMATS]
    return urls + [publisher.self_url(n, fmt, k) for n in names for fmt in FORMATS for k in limits]


def test_retraction_edit_unpublish_every_file_and_url(
    settings: Settings, store: Store, clock: Clock
) -> None:
    """An article edited out of every section, then deleted, is gone from every file and
    every URL that ever held it (all formats, ?limit variants); emptied sections serve a
    valid empty feed, and the hub is pinged for each of them."""
    hub = FakeHub()
    service = Wiring(settings.replace(websub_hub=hub.url), store, clock=clock)
    try:
        ingest_raw(
            service.intake,
            [raw(1), raw(2, categories=["Sport"], tags=[], author="Sam Roe")],
            source="t",
        )
        victim = raw(3, categories=["World", "Науka"], tags=["Climate"], author="Ана Петрова")
        ingest_raw(service.intake, [victim], source="test")
        service.publisher.render_all()
        held = ["all", "category/world", "tag/climate", "author/jane-doe"]
        held += [n for n in (s.name for s in service.publisher.specs()) if n not in held]
        marker = b"Story 3"
        with live_server(create_app(wiring=service)) as base:
            urls = _every_url(service, held, (1, 5))
            public = settings.public_url
            assert any(marker in fetch(base + u.removeprefix(public)).body for u in urls)
            clock.advance(30)
            edited = victim | {"categories": ["Sport"], "tags": [], "author": "Sam Roe"}
            ingest_raw(service.intake, [edited], source="test")
            service.publisher.render_if_changed()
            _assert_gone(
                service, base, held, marker, keep={"all", "category/sport", "author/sam-roe"}
            )
            clock.advance(30)
            response = fetch(
                f"{base}/api/articles/s3",
                method="DELETE",
                headers={"Authorization": f"Bearer {settings.api_token}"},
            )
            assert response.status == 200
            service.publisher.render_if_changed()
            _assert_gone(service, base, held, marker, keep=set())
            hub_sent = set(service.publisher.send_pings() and hub_topics(hub))
            emptied = [n for n in held if "/" in n and n not in ("category/world",)]
            for name in emptied:
                for fmt in FORMATS:
                    assert service.publisher.self_url(name, fmt) in hub_sent, name
    finally:
        service.publisher.close()
        hub.close()


def hub_topics(hub: FakeHub) -> list[str]:
    return [topic for ping in hub.pings for topic in ping["hub.url"]]


def _assert_gone(
    service: Wiring, base: str, names: list[str], marker: bytes, keep: set[str]
) -> None:
    for path in service.settings.feeds_dir.rglob("*"):
        if path.is_file() and path.suffix in (".rss", ".atom", ".json"):
            name = path.relative_to(service.settings.feeds_dir).with_suffix("").as_posix()
            if name not in keep:
                assert marker not in path.read_bytes(), path
    public = service.settings.public_url
    for url in _every_url(service, names, (1, 5)):
        name = url.removeprefix(public + "/feeds/").rsplit(".", 1)[0]
        reply = fetch(base + url.removeprefix(public))
        assert reply.status == 200, url
        if name in keep:
            continue
        assert marker not in reply.body, url
        fmt = url.rsplit(".", 1)[1].split("?")[0]
        later = service.now() + timedelta(seconds=1)
        hub = service.settings.websub_hub or None
        assert check(fmt, reply.body, url, now=later, hub=hub) == [], url
        if fmt == "json":
            items = json.loads(reply.body)["items"]
        else:
            items = feedparser.parse(reply.body).entries
        assert all("Story 3" not in str(item) for item in items)


def test_failing_feed_leaves_the_others_current(
    service: Wiring, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A feed that cannot be written is retried with backoff, counted, alerted, logged once,
    reported by /readyz as degraded, and every other feed stays current."""
    ingest_raw(service.intake, [raw(1)], source="test")
    service.publisher.render_all()
    blocker = service.publisher.path("category/world", "atom")
    blocker.unlink()
    blocker.mkdir()  # os.replace onto a directory fails: this feed cannot be written
    (blocker / "keep").write_text("x")
    caplog.set_level(logging.ERROR, logger="syndicate.publish")
    with live_server(create_app(wiring=service)) as base:
        for n in (2, 3):
            clock.advance(5)
            ingest_raw(service.intake, [raw(n, title=f"Fresh {n}")], source="test")
            service.publisher.render_if_changed()
            for name in ("all", "tag/climate", "author/jane-doe"):
                assert f"Fresh {n}".encode() in fetch(f"{base}/feeds/{name}.atom").body
        assert len([r for r in caplog.records if "category/world" in r.getMessage()]) == 1
        failing = service.publisher.state.failing()
        assert [f.name for f in failing] == ["category/world"]
        assert failing[0].next_attempt_at and failing[0].next_attempt_at > clock()
        ready = json.loads(fetch(f"{base}/readyz").body)
        assert ready["status"] in ("degraded", "not ready")
        assert "feed category/world" in ready["degraded"]
        metrics = fetch(f"{base}/metrics").body.decode()
        assert "syndicate_feeds_failing 1.0" in metrics
        assert "syndicate_feed_render_failures_total" in metrics
        token = {"Authorization": f"Bearer {service.settings.api_token}"}
        alerts = json.loads(fetch(f"{base}/api/admin/overview", headers=token).body)["alerts"]
        assert any(a["kind"] == "feed" and a["feed"] == "category/world" for a in alerts)
        (blocker / "keep").unlink()
        blocker.rmdir()
        service.publisher.render_if_changed()  # not due yet: no retry
        assert not service.publisher.path("category/world", "atom").is_file()
        clock.advance(retry_delay(2) + 1)
        service.publisher.render_if_changed()  # due: retried, heals
        assert b"Fresh 3" in fetch(f"{base}/feeds/category/world.atom").body
        assert service.publisher.state.failing() == []
        assert json.loads(fetch(f"{base}/readyz").body)["degraded"] == {}


def test_variant_last_modified_grows_with_its_bytes(service: Wiring, clock: Clock) -> None:
    """A ?limit=N rendering has its own stored Last-Modified, moved only when it changes."""
    ingest_raw(service.intake, [raw(1), raw(2)], source="test")
    first = service.publisher.render_variant("all", "rss", 1)
    assert first is not None and first.last_modified == START
    clock.advance(60)
    ingest_raw(service.intake, [raw(0)], source="test")  # older: the top item is unchanged
    same = service.publisher.render_variant("all", "rss", 1)
    assert same is not None and same.body == first.body and same.last_modified == START
    clock.advance(60)
    ingest_raw(service.intake, [raw(4)], source="test")
    moved = service.publisher.render_variant("all", "rss", 1)
    assert moved is not None and moved.last_modified == START + timedelta(seconds=120)


def test_catalog_remembers_sections_found_on_disk(service: Wiring) -> None:
    """A section file written before the catalog existed is rendered (empty), not left
    stale: the catalog adopts it."""
    ingest_raw(service.intake, [raw(1)], source="test")
    stale = service.publisher.path("category/gone", "rss")
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"<rss>Story 99</rss>")
    service.publisher.render_all()
    assert b"Story 99" not in stale.read_bytes()
    assert (
        check("rss", stale.read_bytes(), service.publisher.self_url("category/gone", "rss")) == []
    )


def test_websub_topic_is_exactly_the_advertised_self_url(
    settings: Settings, store: Store, clock: Clock
) -> None:
    """For a non-ASCII section and its ?limit variant, the hub is pinged with exactly the
    URL the Link header and the document advertise as rel=self."""
    hub = FakeHub()
    service = Wiring(settings.replace(websub_hub=hub.url), store, clock=clock)
    try:
        ingest_raw(service.intake, [raw(1, categories=["日本 ニュース"])], source="test")
        service.publisher.render_all()
        service.publisher.send_pings()
        hub.pings.clear()
        advertised = set()
        with live_server(create_app(wiring=service)) as base:
            for query in ("", "?limit=2"):
                path = "/feeds/category/" + quote("日本-ニュース") + ".atom"
                reply = fetch(base + path + query)
                assert reply.status == 200
                link = reply.header("Link") or ""
                self_url = link.split("<")[2].split(">")[0]
                assert self_url.isascii() and self_url.endswith(path + query)
                assert f'href="{self_url}"'.encode() in reply.body.replace(b"&amp;", b"&")
                advertised.add(self_url)
            clock.advance(10)
            ingest_raw(service.intake, [raw(2, categories=["日本 ニュース"])], source="test")
            service.publisher.render_if_changed()
            service.publisher.send_pings()
        assert advertised <= set(hub_topics(hub))
        assert all(topic.isascii() for topic in hub_topics(hub))
    finally:
        service.publisher.close()
        hub.close()
