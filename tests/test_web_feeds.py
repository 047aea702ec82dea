"""Serving feeds over a real socket: conditional GET, gzip, HEAD, ?limit, 404, WebSub links."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest
from live import close_service, fetch, live_server
from prometheus_client import REGISTRY
from werkzeug.http import http_date

from syndicate.config import Settings
from syndicate.ingest import ingest_raw
from syndicate.web.feeds import CachedFeed, build_feed, valid_feed_name
from syndicate.wiring import Wiring, create_app

MEDIA = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json",
}
ARTICLES = [
    {
        "id": f"story-{n}",
        "title": f"Story number {n}",
        "url": f"https://news.example.com/2026/story-{n}",
        "body": f"<p>Body of story {n}, with “quotes” and détails.</p>",
        "author": "Jane Doe" if n % 2 else "Sam Roe",
        "published": f"2026-11-0{n}T08:00:00Z",
        "categories": ["World" if n % 2 else "Tech"],
        "image": {"url": f"https://news.example.com/img/{n}.jpg", "length": 1234 * n},
    }
    for n in range(1, 4)
]


def open_service(settings: Settings) -> Wiring:
    """A service with three stored articles and every feed rendered to disk."""
    service = Wiring.open(settings)
    ingest_raw(service.intake, ARTICLES, source="test")
    service.publisher.render_all(force=True)
    return service


@pytest.fixture
def service(settings: Settings) -> Iterator[Wiring]:
    """The service under test, closed afterwards."""
    service = open_service(settings)
    yield service
    close_service(service)


@pytest.fixture
def base(service: Wiring) -> Iterator[str]:
    """Base URL of the app served on a free port."""
    with live_server(create_app(wiring=service)) as url:
        yield url


def feed_file(service: Wiring, name: str = "all", fmt: str = "rss") -> bytes:
    return service.publisher.path(name, fmt).read_bytes()


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_200_carries_validators_type_and_cache_headers(base: str, service: Wiring, fmt: str):
    """A plain GET answers the file on disk with its media type, ETag, Last-Modified, TTL."""
    reply = fetch(f"{base}/feeds/all.{fmt}")
    assert reply.status == 200
    assert reply.body == feed_file(service, "all", fmt)
    assert reply.header("Content-Type") == MEDIA[fmt]
    etag = reply.header("ETag")
    assert etag and etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert reply.header("Last-Modified").endswith(" GMT")
    assert reply.header("Cache-Control") == f"public, max-age={service.settings.feed_ttl * 60}"
    assert reply.header("Vary") == "Accept-Encoding"
    assert reply.header("Content-Encoding") is None
    assert reply.header("Content-Length") == str(len(reply.body))


def test_last_modified_is_when_the_bytes_changed(base: str, service: Wiring):
    """Last-Modified is the time the feed's bytes last changed, from the feed state table
    (the file's mtime carries it), not the newest entry's date."""
    reply = fetch(f"{base}/feeds/all.atom")
    stored = service.publisher.state.output(("all", "atom", ""))
    assert stored is not None
    assert reply.header("Last-Modified") == http_date(stored.last_modified)
    assert reply.header("Last-Modified") != "Tue, 03 Nov 2026 08:00:00 GMT"


def test_if_none_match_gives_304_with_same_validators(base: str):
    """If-None-Match with the current ETag gives 304, no body, same ETag/Cache-Control/Vary."""
    first = fetch(f"{base}/feeds/all.rss")
    reply = fetch(f"{base}/feeds/all.rss", headers={"If-None-Match": first.header("ETag")})
    assert reply.status == 304
    assert reply.body == b""
    for name in ("ETag", "Cache-Control", "Vary"):
        assert reply.header(name) == first.header(name)


@pytest.mark.parametrize(
    "template", ["W/{tag}", '"nope", {tag}', "*", '{tag},"other"', " W/{tag} "]
)
def test_if_none_match_weak_comparison_lists_and_star(base: str, template: str):
    """If-None-Match matches weakly, inside a list, and as ``*``."""
    tag = fetch(f"{base}/feeds/all.json").header("ETag")
    reply = fetch(f"{base}/feeds/all.json", headers={"If-None-Match": template.format(tag=tag)})
    assert reply.status == 304


def test_if_none_match_stale_tag_gives_200(base: str):
    """An ETag of another body is answered with the full feed."""
    reply = fetch(f"{base}/feeds/all.rss", headers={"If-None-Match": '"0123abcd"'})
    assert reply.status == 200 and reply.body


def test_if_modified_since(base: str):
    """If-Modified-Since at or after Last-Modified gives 304; an older date gives 200."""
    lm = fetch(f"{base}/feeds/all.rss").header("Last-Modified")
    assert fetch(f"{base}/feeds/all.rss", headers={"If-Modified-Since": lm}).status == 304
    older = "Mon, 02 Nov 2026 08:00:00 GMT"
    assert fetch(f"{base}/feeds/all.rss", headers={"If-Modified-Since": older}).status == 200
    garbage = fetch(f"{base}/feeds/all.rss", headers={"If-Modified-Since": "yesterday"})
    assert garbage.status == 200


def test_if_none_match_overrides_if_modified_since(base: str):
    """A non-matching If-None-Match wins over a matching If-Modified-Since (RFC 9110)."""
    lm = fetch(f"{base}/feeds/all.rss").header("Last-Modified")
    reply = fetch(
        f"{base}/feeds/all.rss", headers={"If-None-Match": '"stale"', "If-Modified-Since": lm}
    )
    assert reply.status == 200


def test_gzip_has_its_own_validator_and_decompresses_to_identity(base: str):
    """Accept-Encoding: gzip gives a gzip body equal to the identity body, with its own ETag."""
    plain = fetch(f"{base}/feeds/all.atom")
    zipped = fetch(f"{base}/feeds/all.atom", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.status == 200
    assert zipped.header("Content-Encoding") == "gzip"
    assert zipped.header("Vary") == "Accept-Encoding"
    assert zipped.header("Content-Type") == MEDIA["atom"]
    assert gzip.decompress(zipped.body) == plain.body
    assert zipped.header("ETag") != plain.header("ETag")
    assert zipped.header("Last-Modified") == plain.header("Last-Modified")


def test_gzip_etag_and_mangled_forms_give_304(base: str):
    """The gzip ETag, and proxy-mangled forms (W/, -gzip), are all recognised (R14)."""
    url = f"{base}/feeds/all.rss"
    plain_tag = fetch(url).header("ETag")
    gz_tag = fetch(url, headers={"Accept-Encoding": "gzip"}).header("ETag")
    opaque = plain_tag.strip('"')
    for sent in (gz_tag, f"W/{gz_tag}", f'"{opaque}-gzip"', f'W/"{opaque}-gzip"', plain_tag):
        reply = fetch(url, headers={"Accept-Encoding": "gzip", "If-None-Match": sent})
        assert reply.status == 304, sent
        assert reply.body == b""
    reply = fetch(url, headers={"Accept-Encoding": "gzip", "If-None-Match": gz_tag})
    assert reply.header("ETag") == gz_tag


@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [
        ("gzip;q=0", False),
        ("identity", False),
        ("br;q=1, gzip;q=0.5", True),
        ("*", True),
        ("*;q=0.1, gzip;q=0", False),
        ("", False),
    ],
)
def test_accept_encoding_q_values(base: str, accept: str, gzipped: bool):
    """gzip is sent only when Accept-Encoding allows it, q-values respected."""
    reply = fetch(f"{base}/feeds/all.rss", headers={"Accept-Encoding": accept})
    assert (reply.header("Content-Encoding") == "gzip") is gzipped


def test_head_is_get_without_body(base: str):
    """HEAD answers the GET headers (length included) and no body."""
    got = fetch(f"{base}/feeds/all.rss")
    head = fetch(f"{base}/feeds/all.rss", method="HEAD")
    assert head.status == 200
    assert head.body == b""
    for name in ("ETag", "Last-Modified", "Content-Type", "Content-Length", "Cache-Control"):
        assert head.header(name) == got.header(name)


def test_new_render_changes_etag_and_is_served(base: str, service: Wiring):
    """After a new article is rendered by any process, the old ETag gets a 200 with a new one."""
    old = fetch(f"{base}/feeds/all.rss")
    extra = dict(ARTICLES[0], id="story-9", url="https://news.example.com/s9", title="Fresh")
    ingest_raw(service.intake, [extra], source="test")
    service.publisher.render_all()
    reply = fetch(f"{base}/feeds/all.rss", headers={"If-None-Match": old.header("ETag")})
    assert reply.status == 200
    assert reply.header("ETag") != old.header("ETag")
    assert b"Fresh" in reply.body


def test_unchanged_rerender_keeps_etag(base: str, service: Wiring):
    """Re-rendering unchanged articles keeps the ETag, so readers keep getting 304."""
    tag = fetch(f"{base}/feeds/all.rss").header("ETag")
    service.publisher.render_all(force=True)
    assert fetch(f"{base}/feeds/all.rss", headers={"If-None-Match": tag}).status == 304


def test_stale_gz_file_is_not_served(base: str, service: Wiring):
    """A .gz left over from an earlier render is ignored; gzip always matches the identity body."""
    path = service.publisher.path("all", "rss")
    Path(f"{path}.gz").write_bytes(gzip.compress(b"<rss>old</rss>"))
    body = path.read_bytes()
    reply = fetch(f"{base}/feeds/all.rss", headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(reply.body) == body


def test_limit_renders_a_capped_variant_with_its_self_link(settings: Settings):
    """?limit=N gives N items and self = the exact URL with the query; over the cap is capped."""
    service = open_service(settings.replace(feed_max_limit=2))
    try:
        with live_server(create_app(wiring=service)) as base:
            one = fetch(f"{base}/feeds/all.atom?limit=1")
            assert one.status == 200 and one.header("Content-Type") == MEDIA["atom"]
            parsed = feedparser.parse(one.body)
            assert len(parsed.entries) == 1
            selfs = [link.href for link in parsed.feed.links if link.rel == "self"]
            assert selfs == ["https://feeds.example.com/feeds/all.atom?limit=1"]
            capped = json.loads(fetch(f"{base}/feeds/all.json?limit=999").body)
            assert len(capped["items"]) == 2
            assert capped["feed_url"] == "https://feeds.example.com/feeds/all.json?limit=2"
            tag = one.header("ETag")
            again = fetch(f"{base}/feeds/all.atom?limit=1", headers={"If-None-Match": tag})
            assert again.status == 304
    finally:
        close_service(service)


@pytest.mark.parametrize("limit", ["abc", "0", "-1", "1.5", "", "%C2%B2", "1e3", "9" * 5000])
def test_bad_limit_is_400_json(base: str, limit: str):
    """A limit that is not a positive whole number is a 400 naming the parameter."""
    reply = fetch(f"{base}/feeds/all.rss?limit={limit}")
    assert reply.status == 400
    assert reply.header("Content-Type") == "application/json"
    assert "limit" in json.loads(reply.body)["fields"]


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/nope.rss",
        "/feeds/category/no-such-section.atom",
        "/feeds/../data/syndicate.db.json",
        "/feeds/.hidden.rss",
        "/feeds/all.xml",
        "/feeds/nope.rss?limit=3",
    ],
)
def test_unknown_feed_is_404(base: str, path: str):
    """An unknown feed (or a path trying to leave the feeds dir) is a 404."""
    assert fetch(base + path).status == 404


def test_unknown_feed_404_is_json_for_json_clients(base: str):
    """A client asking for JSON gets a JSON 404 pointing at the feed list."""
    reply = fetch(f"{base}/feeds/nope.json", headers={"Accept": "application/json"})
    assert reply.status == 404
    assert json.loads(reply.body)["feeds"] == "https://feeds.example.com/feeds/"


def test_category_and_author_feeds_are_served(base: str):
    """Section feeds are served like the site feed."""
    assert fetch(f"{base}/feeds/category/world.rss").status == 200
    assert fetch(f"{base}/feeds/author/jane-doe.json").status == 200


def test_emptied_section_is_200_with_zero_items(base: str, service: Wiring):
    """A section whose articles were all unpublished still answers 200, with no items (R17)."""
    for article_id in ("story-1", "story-3"):
        service.store.unpublish(article_id, service.now())
    service.publisher.render_all()
    reply = fetch(f"{base}/feeds/category/world.json")
    assert reply.status == 200
    assert json.loads(reply.body)["items"] == []


def test_missing_file_of_known_feed_is_rendered_once(base: str, service: Wiring):
    """A known feed whose file is not written yet is rendered on first request."""
    path = service.publisher.path("all", "json")
    path.unlink()
    reply = fetch(f"{base}/feeds/all.json")
    assert reply.status == 200
    assert reply.body == path.read_bytes()


def test_websub_link_headers(settings: Settings):
    """With a hub configured, every feed response carries Link rel=hub and rel=self."""
    service = open_service(settings.replace(websub_hub="https://hub.example.com/"))
    try:
        with live_server(create_app(wiring=service)) as base:
            reply = fetch(f"{base}/feeds/category/world.rss")
            limited = fetch(f"{base}/feeds/all.json?limit=1")
    finally:
        close_service(service)
    assert reply.header("Link") == (
        '<https://hub.example.com/>; rel="hub", '
        '<https://feeds.example.com/feeds/category/world.rss>; rel="self"'
    )
    assert '<https://feeds.example.com/feeds/all.json?limit=1>; rel="self"' in limited.header(
        "Link"
    )


def test_non_ascii_category_feed_has_an_ascii_url(settings: Settings):
    """A category like 日本 gets a feed whose self URL and Link header are percent-encoded."""
    service = open_service(settings.replace(websub_hub="https://hub.example.com/"))
    article = {**ARTICLES[0], "id": "tokyo", "url": "https://news.example.com/tokyo"}
    ingest_raw(service.intake, [{**article, "categories": ["日本"]}], source="test")
    service.publisher.render_all()
    encoded = "%E6%97%A5%E6%9C%AC"
    try:
        with live_server(create_app(wiring=service)) as base:
            reply = fetch(f"{base}/feeds/category/{encoded}.atom")
    finally:
        close_service(service)
    assert reply.status == 200
    self_url = f"https://feeds.example.com/feeds/category/{encoded}.atom"
    assert f'<{self_url}>; rel="self"' in reply.header("Link")
    parsed = feedparser.parse(reply.body)
    assert parsed.bozo == 0
    assert [link.href for link in parsed.feed.links if link.rel == "self"] == [self_url]
    assert [e.id for e in parsed.entries] == ["tag:feeds.example.com,2026:article/tokyo"]


def test_no_link_header_without_hub(base: str):
    """Without a hub there is no WebSub Link header."""
    assert fetch(f"{base}/feeds/all.rss").header("Link") is None


def test_requests_are_counted_by_status(base: str):
    """Each feed response bumps the feed request counter of its status."""

    def count(status: str) -> float:
        value = REGISTRY.get_sample_value("syndicate_feed_requests_total", {"status": status})
        return value or 0.0

    before = count("304"), count("404")
    tag = fetch(f"{base}/feeds/all.rss").header("ETag")
    fetch(f"{base}/feeds/all.rss", headers={"If-None-Match": tag})
    fetch(f"{base}/feeds/missing.rss")
    assert (count("304"), count("404")) == (before[0] + 1, before[1] + 1)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.alternates: list[dict[str, str | None]] = []
        self.anchors: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "link" and dict(attrs).get("rel") == "alternate":
            self.alternates.append(dict(attrs))
        if tag == "a":
            self.anchors.append(dict(attrs).get("href"))


def test_feed_index_lists_every_feed_with_autodiscovery(base: str, service: Wiring):
    """/feeds/ lists every feed in three formats, each with a <link rel=alternate> tag."""
    reply = fetch(f"{base}/feeds/")
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    page = _Links()
    page.feed(reply.body.decode())
    specs = service.publisher.specs()
    assert len(page.alternates) == 3 * len(specs)
    hrefs = {link["href"] for link in page.alternates}
    for spec in specs:
        for fmt in MEDIA:
            url = f"https://feeds.example.com/feeds/{spec.name}.{fmt}"
            assert url in hrefs and url in page.anchors
    types = {link["type"] for link in page.alternates}
    assert types == {"application/rss+xml", "application/atom+xml", "application/feed+json"}
    assert all(link["title"] for link in page.alternates)


def test_cached_feed_matching_rules():
    """The pure If-None-Match matcher: both encodings, weak and mangled forms, nothing else."""
    feed: CachedFeed = build_feed(
        b"<rss/>", None, media_type=MEDIA["rss"], modified=0, max_age=60, link=None
    )
    d = feed.digest
    assert feed.matching(f'"{d}"', feed.gzipped) is feed.plain
    assert feed.matching(f'W/"{d}-gz"', feed.plain) is feed.gzipped
    assert feed.matching(f'"{d}-gzip"', feed.plain) is feed.gzipped
    assert feed.matching("*", feed.gzipped) is feed.gzipped
    assert feed.matching(f'"{d}x"', feed.plain) is None
    assert feed.matching(f'"{d[:-1]}-gz"', feed.plain) is None
    assert feed.matching("", feed.plain) is None


def test_feed_name_validation():
    """Feed names may nest but never climb out or name hidden files."""
    assert valid_feed_name("all") and valid_feed_name("category/world")
    for bad in ("../x", "a/../b", ".x", "a//b", "/abs", "a\\b", "a\x00"):
        assert not valid_feed_name(bad)
