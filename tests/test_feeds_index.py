"""/feeds/ for readers: sections with headings, each feed's address to copy, item counts
and last update, in scripts from around the world."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from live import close_service, fetch, live_server

from syndicate.config import Settings
from syndicate.ingest import ingest_raw
from syndicate.wiring import Wiring, create_app

ARTICLES = [
    {"id": "a1", "title": "Budget passes", "text": "The council voted.", "author": "Jane Doe",
     "published": "2026-11-10T09:00:00Z", "categories": ["Politics"]},
    {"id": "a2", "title": "東京で新線開業", "text": "新しい路線が開業した。", "author": "山田 花子",
     "published": "2026-11-11T09:00:00Z", "categories": ["Politics", "Транспорт"]},
    {"id": "a3", "title": "Storm warning", "text": "Winds up to 90 km/h.", "author": "Jane Doe",
     "published": "2026-11-12T09:30:00Z", "categories": ["Weather"]},
]  # fmt: skip


class Page(HTMLParser):
    """The page's headings, inputs, buttons and text, in order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.items: list[tuple[str, dict[str, str | None], str]] = []
        self._open: list[tuple[str, dict[str, str | None], list[str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("input", "script", "link"):
            self.items.append((tag, dict(attrs), ""))
        else:
            self._open.append((tag, dict(attrs), []))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                name, attrs, text = self._open.pop(i)
                self.items.append((name, attrs, " ".join("".join(text).split())))
                break

    def handle_data(self, data: str) -> None:
        for _, _, text in self._open:
            text.append(data)

    def all(self, tag: str) -> list[tuple[dict[str, str | None], str]]:
        return [(a, t) for name, a, t in self.items if name == tag]


@pytest.fixture
def base(settings: Settings) -> Iterator[str]:
    service = Wiring.open(settings.replace(site_title="Daily Ledger"))
    ingest_raw(service.intake, ARTICLES, source="test")
    service.publisher.render_all()
    with live_server(create_app(wiring=service)) as url:
        yield url
    close_service(service)


def test_feeds_are_grouped_under_headings(base: str) -> None:
    page = Page(fetch(f"{base}/feeds/").body.decode())
    assert [t for _, t in page.all("h2")] == ["Everything", "Sections", "Authors"]
    labels = [t for _, t in page.all("h3")]
    assert labels == ["Daily Ledger", "Politics", "Weather", "Транспорт", "Jane Doe", "山田 花子"]
    assert not any(label.startswith("Daily Ledger:") for label in labels)


def test_each_feed_shows_its_address_with_a_copy_button(base: str) -> None:
    page = Page(fetch(f"{base}/feeds/").body.decode())
    inputs = page.all("input")
    addresses = [a["value"] for a, _ in inputs]
    assert addresses[0] == "https://feeds.example.com/feeds/all.rss"
    assert (
        "https://feeds.example.com/feeds/category/%D1%82%D1%80%D0%B0%D0%BD%D1%81%D0%BF%D0%BE%D1%80%D1%82.rss"
        in addresses
    )
    assert all("readonly" in a for a, _ in inputs)
    buttons = [a for a, _ in page.all("button")]
    assert [b["data-copy"] for b in buttons] == [a["id"] for a, _ in inputs]
    script = fetch(f"{base}/static/feeds.js")
    assert script.status == 200 and b"clipboard" in script.body


def test_each_feed_shows_its_item_count_and_last_update(base: str) -> None:
    html = fetch(f"{base}/feeds/").body.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Daily Ledger 3 items · last updated 12 Nov 2026, 09:30 UTC" in text
    assert "Politics 2 items · last updated 11 Nov 2026, 09:00 UTC" in text
    assert "山田 花子 1 item · last updated 11 Nov 2026, 09:00 UTC" in text
    times = [a["datetime"] for a, _ in Page(html).all("time")]
    assert datetime.fromisoformat(times[0]) == datetime(2026, 11, 12, 9, 30, tzinfo=UTC)


def test_an_empty_site_says_so(settings: Settings) -> None:
    service = Wiring.open(settings)
    try:
        with live_server(create_app(wiring=service)) as url:
            page = fetch(f"{url}/feeds/")
    finally:
        close_service(service)
    assert page.status == 200
    assert "Everything" in page.body.decode() and "0 items" in page.body.decode()


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
def test_copy_button_puts_the_address_on_the_clipboard(settings: Settings) -> None:
    """In Chromium the Copy button appears (script on) and copies the feed's address."""
    from playwright.sync_api import sync_playwright

    service = Wiring.open(settings)
    ingest_raw(service.intake, ARTICLES[:1], source="test")
    service.publisher.render_all()
    try:
        with live_server(create_app(wiring=service)) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"]
            )
            try:
                context = browser.new_context()
                context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
                tab = context.new_page()
                tab.goto(f"{url}/feeds/")
                button = tab.locator("button[data-copy]").first
                button.click()
                tab.wait_for_function(
                    "document.querySelector('button[data-copy]').textContent == 'Copied'"
                )
                copied = tab.evaluate("navigator.clipboard.readText()")
            finally:
                browser.close()
    finally:
        close_service(service)
    assert copied == "https://feeds.example.com/feeds/all.rss"
