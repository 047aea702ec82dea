"""Rendering RSS, Atom and JSON Feed: validity rules, round-trips, determinism, hostile input."""

from __future__ import annotations

import dataclasses
import html
import json
from datetime import UTC, datetime, timedelta

import feedparser
import pytest

from syndicate.feeds import common as feed_common
from syndicate.feeds import render as rendering
from syndicate.feeds.common import FRAGMENTS, Site
from syndicate.feeds.render import EMPTY_FEED_DATE, render
from syndicate.models import Article, FeedSpec, Image, Term
from tests.feedcheck import check

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SITE = Site(
    title="Demo News",
    home_url="https://news.example.com/",
    public_url="https://feeds.example.com",
    hub_url="https://hub.example.net/",
)
SPEC = FeedSpec("all", "Demo News", "Latest articles", "")
FORMATS = ("rss", "atom", "json")


def url(fmt: str, query: str = "") -> str:
    return f"https://feeds.example.com/feeds/all.{fmt}{query}"


def make(n: int, **changes: object) -> Article:
    base = Article(
        id=f"a{n}",
        title=f"Story {n}",
        url=f"https://news.example.com/story-{n}",
        content_html=f'<p>Story {n} and <a href="https://news.example.com/x">a link</a>.</p>',
        summary=f"Summary {n}",
        author="Jane Doe" if n % 2 else "John Roe",
        published=T0 + timedelta(hours=n),
        updated=T0 + timedelta(hours=n, minutes=30),
        categories=(Term("world", "World"),),
        tags=(Term("rock-roll", "Rock & Roll"),),
        image=Image(f"https://news.example.com/img/{n}.jpg", "image/jpeg", 2048 + n, 800, 600),
        guid=f"tag:news.example.com,2026:article/{n}",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


ARTICLES = [make(n) for n in range(1, 6)]


@pytest.fixture(autouse=True)
def cold_cache() -> None:
    """Each test starts with an empty fragment memo."""
    FRAGMENTS.clear()


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_xml_round_trips_through_feedparser(fmt: str) -> None:
    """feedparser reads RSS and Atom with bozo 0 and gets back ids, links, dates, media, content."""
    parsed = feedparser.parse(render(SPEC, ARTICLES, fmt, SITE, self_url=url(fmt)).body)
    assert parsed.bozo == 0
    assert parsed.feed.link == "https://news.example.com/"
    newest_first = sorted(ARTICLES, key=lambda a: a.published, reverse=True)
    assert [e.id for e in parsed.entries] == [a.guid for a in newest_first]
    for entry, item in zip(parsed.entries, newest_first, strict=True):
        assert entry.link == item.url
        assert datetime(*entry.published_parsed[:6], tzinfo=UTC) == item.published
        assert entry.enclosures[0].href == item.image.url
        assert entry.enclosures[0].type == "image/jpeg"
        assert int(entry.enclosures[0].length) == item.image.length
        assert entry.content[0].value == item.content_html
        assert entry.summary == item.summary
        assert entry.author == item.author
        assert {t.term for t in entry.tags} == {"World", "Rock & Roll"}
        if fmt == "atom":
            assert datetime(*entry.updated_parsed[:6], tzinfo=UTC) == item.updated


def test_json_round_trips() -> None:
    """JSON Feed items carry id, url, dates, content, authors, tags, image and attachment."""
    feed = json.loads(render(SPEC, ARTICLES, "json", SITE, self_url=url("json")).body)
    item = feed["items"][0]
    newest = ARTICLES[-1]
    assert item["id"] == newest.guid and item["url"] == newest.url
    assert datetime.fromisoformat(item["date_published"]) == newest.published
    assert datetime.fromisoformat(item["date_modified"]) == newest.updated
    assert item["content_html"] == newest.content_html and item["summary"] == newest.summary
    assert item["authors"] == [{"name": newest.author}]
    assert item["tags"] == ["World", "Rock & Roll"]
    assert item["image"] == newest.image.url
    assert item["attachments"] == [
        {"url": newest.image.url, "mime_type": "image/jpeg", "size_in_bytes": newest.image.length}
    ]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("query", ["", "?limit=3"])
def test_feeds_pass_own_checks(fmt: str, query: str) -> None:
    """Self link equals the exact URL, channel link is the site, dates and enclosures are right."""
    rendered = render(SPEC, ARTICLES, fmt, SITE, self_url=url(fmt, query))
    newest = max(a.updated for a in ARTICLES)
    assert check(fmt, rendered.body, url(fmt, query), now=NOW, hub=SITE.hub_url) == []
    assert rendered.last_modified == newest
    assert rendered.media_type == rendering.MEDIA_TYPES[fmt]


def test_rss_plain_text_uses_hex_references() -> None:
    """`<` and `&` in RSS titles, categories and creators are written as &#x3C; and &#x26;."""
    item = make(1, title="a <Live> & b", author="Tom & <Jerry>")
    body = render(SPEC, [item], "rss", SITE, self_url=url("rss")).body
    assert b"<title>a &#x3C;Live&gt; &#x26; b</title>" in body
    assert b"<category>Rock &#x26; Roll</category>" in body
    assert b"<dc:creator>Tom &#x26; &#x3C;Jerry&gt;</dc:creator>" in body
    assert check("rss", body, url("rss"), hub=SITE.hub_url) == []
    assert feedparser.parse(body).entries[0].title == "a <Live> & b"


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_is_deterministic_and_cache_matches_cold(fmt: str) -> None:
    """Same input → same bytes; a render from cached fragments equals a cold render."""
    first = render(SPEC, ARTICLES, fmt, SITE, self_url=url(fmt)).body
    warm = render(SPEC, list(reversed(ARTICLES)), fmt, SITE, self_url=url(fmt)).body
    more = [make(9), *ARTICLES]
    incremental = render(SPEC, more, fmt, SITE, self_url=url(fmt)).body
    FRAGMENTS.clear()
    assert render(SPEC, ARTICLES, fmt, SITE, self_url=url(fmt)).body == first == warm
    assert render(SPEC, more, fmt, SITE, self_url=url(fmt)).body == incremental


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_assembled_bytes_equal_whole_document_feedgen(fmt: str) -> None:
    """Fragment assembly gives exactly the bytes feedgen writes for the whole document."""
    updated = max(a.updated for a in ARTICLES)
    gen = rendering.generator(SPEC, fmt, SITE, url(fmt), updated)
    for item in feed_common.ordered(ARTICLES):
        gen.add_entry(rendering.entry(item, SPEC, SITE, None), order="append")
    expected = gen.rss_str() if fmt == "rss" else gen.atom_str()
    if fmt == "rss":
        expected = rendering.fix_plain_text(expected)
    assert render(SPEC, ARTICLES, fmt, SITE, self_url=url(fmt)).body == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_edited_article_is_not_served_from_cache(fmt: str) -> None:
    """An article edited under the same guid shows its new content on the next render."""
    render(SPEC, ARTICLES, fmt, SITE, self_url=url(fmt))
    edited = [*ARTICLES[:-1], dataclasses.replace(ARTICLES[-1], content_html="<p>Fixed</p>")]
    body = render(SPEC, edited, fmt, SITE, self_url=url(fmt)).body
    assert b"Fixed" in body


HOSTILE = make(
    7,
    title="Bad\x00\x0b title ]]> </title><script>alert(1)</script> & more 😀 שלום 日本語",
    content_html="<p>]]> & bare \x01 &amp; <b>bold</b> \ud800 مرحبا</p>",
    summary="a < b && c > d \x1f",
    author="O'Brien & <Sons>",
    tags=(Term("x", "</category><x>"),),
    published=datetime(2026, 3, 2, 8, 0),  # naive: taken as UTC; the newest
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_content_builds_and_parses(fmt: str) -> None:
    """Control characters, `]]>`, markup in titles, bare `&`, surrogates, emoji/RTL/CJK survive."""
    body = render(SPEC, [HOSTILE, *ARTICLES], fmt, SITE, self_url=url(fmt)).body
    if fmt == "json":
        item = json.loads(body)["items"][0]
        title = item["title"]
    else:
        parsed = feedparser.parse(body)
        assert parsed.bozo == 0
        title = parsed.entries[0].title
        if fmt == "atom":  # markup-like text is declared html, escaped (no undeclared HTML)
            assert parsed.entries[0].title_detail.type == "text/html"
            title = html.unescape(title)
    assert title == "Bad title ]]> </title><script>alert(1)</script> & more 😀 שלום 日本語"
    assert check(fmt, body, url(fmt), hub=SITE.hub_url) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_feed_has_fixed_date(fmt: str) -> None:
    """An empty feed is valid, has no Last-Modified and a fixed, plausible feed date."""
    rendered = render(SPEC, [], fmt, SITE, self_url=url(fmt))
    assert rendered.last_modified is None
    assert check(fmt, rendered.body, url(fmt), hub=SITE.hub_url, updated=EMPTY_FEED_DATE) == []
    assert rendered.body == render(SPEC, [], fmt, SITE, self_url=url(fmt)).body
    if fmt == "rss":
        assert b"<lastBuildDate>Sat, 01 Jan 2000 00:00:00 +0000</lastBuildDate>" in rendered.body


def test_excerpt_feed_has_no_full_content() -> None:
    """With full_content off, RSS has no content:encoded and JSON gives content_text."""
    spec = dataclasses.replace(SPEC, full_content=False)
    rss = render(spec, ARTICLES, "rss", SITE, self_url=url("rss")).body
    atom = render(spec, ARTICLES, "atom", SITE, self_url=url("atom")).body
    feed = json.loads(render(spec, ARTICLES, "json", SITE, self_url=url("json")).body)
    assert b"content:encoded" not in rss and b"<content" not in atom
    assert feed["items"][0]["content_text"] == ARTICLES[-1].summary
    assert check("atom", atom, url("atom"), hub=SITE.hub_url) == []


def test_share_links_are_appended_to_full_content() -> None:
    """A feed with share_links appends the share bar HTML after each article body."""
    spec = dataclasses.replace(SPEC, share_links=True)

    def bar(item: Article) -> str:
        return f'<p class="share"><a href="https://x.example/{item.id}">Share</a></p>'

    for fmt in FORMATS:
        body = render(spec, ARTICLES, fmt, SITE, self_url=url(fmt), share_html=bar).body
        assert body.count(b"https://x.example/a") == len(ARTICLES)
    plain = render(SPEC, ARTICLES, "rss", SITE, self_url=url("rss"), share_html=bar).body
    assert b"x.example" not in plain


def test_image_without_length_gives_no_enclosure_but_json_image() -> None:
    """An image of unknown size is no enclosure (RSS needs a length); JSON still has image."""
    item = make(1, image=Image("https://news.example.com/i.png"))
    for fmt in ("rss", "atom"):
        body = render(SPEC, [item], fmt, SITE, self_url=url(fmt)).body
        assert b"enclosure" not in body
    feed = json.loads(render(SPEC, [item], "json", SITE, self_url=url("json")).body)
    assert feed["items"][0]["image"] == "https://news.example.com/i.png"
    assert "attachments" not in feed["items"][0]


def test_guessed_enclosure_type_and_no_hub_without_setting() -> None:
    """A missing image type is guessed from the URL; without a hub no hub links appear."""
    site = dataclasses.replace(SITE, hub_url="")
    item = make(1, image=Image("https://news.example.com/i.png", None, 99))
    for fmt in FORMATS:
        body = render(SPEC, [item], fmt, site, self_url=url(fmt)).body
        assert b"image/png" in body and b"hub" not in body
        assert check(fmt, body, url(fmt)) == []


def test_channel_link_uses_spec_link_and_rejects_unknown_format() -> None:
    """A spec's own link becomes the channel link; an unknown format is a ValueError."""
    spec = dataclasses.replace(SPEC, link="https://news.example.com/world/")
    body = render(spec, ARTICLES, "rss", SITE, self_url=url("rss")).body
    assert b"<link>https://news.example.com/world/</link>" in body
    with pytest.raises(ValueError, match="unknown feed format"):
        render(SPEC, ARTICLES, "xml", SITE, self_url=url("rss"))  # type: ignore[arg-type]


def test_duplicate_guids_render_once() -> None:
    """The same article given twice appears once."""
    body = render(SPEC, [ARTICLES[0], ARTICLES[0]], "atom", SITE, self_url=url("atom")).body
    assert body.count(b"<entry>") == 1


def test_fragment_cache_is_bounded() -> None:
    """The memo evicts the least recently used fragments beyond its limits."""
    cache = feed_common.FragmentCache(max_entries=2, max_bytes=1000)
    cache.put_many([(1, ARTICLES[0], b"a"), (2, ARTICLES[1], b"b"), (3, ARTICLES[2], b"c")])
    assert len(cache) == 2
    assert cache.get_many([1, 3], [ARTICLES[0], ARTICLES[2]]) == [None, b"c"]
    cache.put_many([(4, ARTICLES[3], b"x" * 2000)])
    assert len(cache) == 0


def test_site_from_settings(settings) -> None:  # type: ignore[no-untyped-def]
    """Site takes its title, URLs, language, TTL and hub from the settings."""
    site = Site.from_settings(settings.replace(websub_hub="https://hub.example.net/"))
    assert site.public_url == "https://feeds.example.com"
    assert site.home_url == "https://news.example.com/"
    assert site.ttl_minutes == settings.feed_ttl and site.hub_url == "https://hub.example.net/"
