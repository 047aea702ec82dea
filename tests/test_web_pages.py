"""The human pages over a real socket: home page and the article fallback page."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from live import close_service, fetch, live_server
from markupsafe import Markup

from syndicate.config import Settings
from syndicate.errors import ConfigError
from syndicate.ingest import ingest_raw
from syndicate.wiring import Wiring, create_app

ARTICLE = {
    "id": "no-url-story",
    "title": "Tides & <b>storms</b> ahead",
    "body": "<h2>What’s next?</h2><p>Rain, then “sun”.</p><img src='/x.png' onerror='evil()'>",
    "author": "Sam Roe",
    "published": "2026-11-12T10:15:00Z",
    "categories": ["Weather"],
    "image": {"url": "https://news.example.com/img/tide.jpg", "width": 800, "height": 450},
}


@pytest.fixture
def service(settings: Settings) -> Iterator[Wiring]:
    """A service holding one article that has no URL of its own."""
    service = Wiring.open(settings)
    ingest_raw(service.intake, [ARTICLE], source="test")
    yield service
    close_service(service)


@pytest.fixture
def base(service: Wiring) -> Iterator[str]:
    with live_server(create_app(wiring=service)) as url:
        yield url


class Page(HTMLParser):
    """Collects the tags of a page with their attributes, and its text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [
            a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]


def test_home_page_links_feeds_list_and_admin(base: str):
    """/ says what this is and links the feed list, the admin and the site feed URLs."""
    reply = fetch(f"{base}/")
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    page = Page(reply.body.decode())
    hrefs = {a["href"] for a in page.find("a")}
    assert {"/feeds/", "/admin"} <= hrefs
    for fmt in ("rss", "atom", "json"):
        assert f"https://feeds.example.com/feeds/all.{fmt}" in hrefs
    assert len(page.find("link", rel="alternate")) == 3
    assert "syndicate" in "".join(page.text)
    latest = [h for h in hrefs if str(h).startswith("/articles/")]
    assert len(latest) == 1, latest  # the latest articles list links the stored one
    assert fetch(f"{base}{latest[0]}").status == 200
    assert "Tides & <b>storms</b> ahead" in "".join(page.text)  # escaped, shown as text


def test_article_page_shows_the_article_accessibly(base: str, service: Wiring):
    """/articles/<id> shows title, author, date, image and sanitised content, escaped."""
    reply = fetch(f"{base}/articles/no-url-story")
    assert reply.status == 200
    html = reply.body.decode()
    page = Page(html)
    assert page.tags[0][0] == "html" and page.tags[0][1]["lang"] == "en"
    text = "".join(page.text)
    assert "Tides & <b>storms</b> ahead" in text  # shown as text, never as markup
    assert not page.find("b")
    assert "Sam Roe" in text and "What’s next?" in text and "“sun”" in text
    assert page.find("time", datetime="2026-11-12T10:15:00+00:00")
    assert "12 November 2026, 10:15 UTC" in text
    assert page.find("img", src="https://news.example.com/img/tide.jpg", width="800", alt="")
    assert "onerror" not in html and "evil()" not in html
    assert page.find("main", id="main") and page.find("article") and page.find("h1")
    url = service.store.get_article("no-url-story").url
    assert page.find("link", rel="canonical", href=url)


def test_unknown_article_is_404_and_unpublished_is_410(base: str, service: Wiring):
    """An unknown id is a 404 page; an unpublished article is 410 Gone."""
    assert fetch(f"{base}/articles/nope").status == 404
    service.store.unpublish("no-url-story", service.now())
    reply = fetch(f"{base}/articles/no-url-story")
    assert reply.status == 410
    assert b"Tides" not in reply.body


def test_article_template_exposes_share_blocks(service: Wiring):
    """The share feature's hooks (template globals) land in the head_meta and share blocks."""
    app = create_app(wiring=service)
    meta = "<meta property='og:title' content='{}'>"
    app.add_template_global(lambda a: Markup(meta.format(a.id)), "share_head_meta")
    app.add_template_global(lambda a: Markup(f"<nav class='share-bar'>{a.id}</nav>"), "share_bar")
    with live_server(app) as base:
        html = fetch(f"{base}/articles/no-url-story").body.decode()
    head, body = html.split("</head>")
    assert "og:title" in head
    assert "<nav class='share-bar'>no-url-story</nav>" in body


def test_app_under_a_wsgi_server_needs_an_api_token(settings: Settings) -> None:
    """create_app() refuses to start without SYNDICATE_API_TOKEN, naming the setting."""
    with pytest.raises(ConfigError, match="SYNDICATE_API_TOKEN"):
        create_app(settings.replace(api_token=""))
