"""RFC 5005 paging: a reader walks back from the feed past its newest items, every format."""

from __future__ import annotations

import json
from collections.abc import Iterator

import feedparser
import pytest
from live import fetch, live_server

from syndicate.config import Settings
from syndicate.ingest import ingest_raw
from syndicate.wiring import Wiring, create_app
from tests.feedcheck import check


@pytest.fixture
def service(settings: Settings) -> Iterator[Wiring]:
    svc = Wiring.open(settings.replace(feed_limit=4))
    items = [
        {
            "id": f"p{n}",
            "title": f"Paged {n}",
            "url": f"https://news.example.com/p/{n}",
            "body": f"<p>Body {n}</p>",
            "published": f"2026-10-{1 + n:02d}T08:00:00Z",
            "categories": ["World"],
        }
        for n in range(11)
    ]
    ingest_raw(svc.intake, items, source="test")
    svc.publisher.render_all()
    yield svc
    svc.publisher.close()
    svc.close()


def _links(fmt: str, body: bytes) -> dict[str, str]:
    if fmt == "json":
        feed = json.loads(body)
        return {"next": feed["next_url"]} if "next_url" in feed else {}
    parsed = feedparser.parse(body)
    return {link.rel: link.href for link in parsed.feed.get("links", []) if link.rel != "self"}


def _ids(fmt: str, body: bytes) -> list[str]:
    if fmt == "json":
        return [item["id"] for item in json.loads(body)["items"]]
    return [entry.id for entry in feedparser.parse(body).entries]


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_walk_every_page(service: Wiring, fmt: str) -> None:
    """Following next links from the feed visits every article once, newest first; each
    page is valid, links back to the previous page and the first, and past the end is 404."""
    publisher = service.publisher
    public = service.settings.public_url
    with live_server(create_app(wiring=service)) as base:
        url: str | None = publisher.self_url("category/world", fmt)  # type: ignore[arg-type]
        seen: list[str] = []
        pages = 0
        while url:
            reply = fetch(base + url.removeprefix(public))
            assert reply.status == 200, url
            assert check(fmt, reply.body, url) == [], url
            links = _links(fmt, reply.body)
            if pages and fmt != "json":
                assert links["first"] == publisher.self_url("category/world", fmt)  # type: ignore[arg-type]
                assert "previous" in links
            seen += _ids(fmt, reply.body)
            url = links.get("next")
            pages += 1
        assert pages == 3
        assert len(seen) == len(set(seen)) == 11
        past = publisher.self_url("category/world", fmt, page=4)  # type: ignore[arg-type]
        assert fetch(base + past.removeprefix(public)).status == 404
        bad = fetch(f"{base}/feeds/all.{fmt}?page=1")
        assert bad.status == 400 and "page" in json.loads(bad.body)["fields"]
        assert fetch(f"{base}/feeds/all.{fmt}?page=2&limit=3").status == 400
