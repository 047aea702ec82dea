"""Upstream RSS/Atom polling: conditional GET, entry mapping, failures and XML attacks."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from upstream_server import Feed, Upstream, send, stall, status

from syndicate import net
from syndicate.config import Settings
from syndicate.errors import IngestError
from syndicate.ingest.upstream import (
    parse_feed,
    poll_job,
    poll_upstream,
)
from syndicate.ingest.upstream_entries import article_id, entry_key
from syndicate.models import UpstreamSpec
from syndicate.runtime import require_safe_expat
from syndicate.store import Store
from syndicate.store.upstreams import load_state
from syndicate.wiring import Wiring
from tests.conftest import Clock

DATA = Path(__file__).parent / "data" / "upstream"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    """The service's clock, starting at T0."""
    return Clock(T0)


@pytest.fixture
def service(settings: Settings, store: Store, clock: Clock) -> Wiring:
    """A service on the test store, in Europe/Berlin so naive dates are visible."""
    return Wiring(settings.replace(timezone="Europe/Berlin"), store, clock)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """A local upstream serving the sample RSS and Atom feeds with validators."""
    with Upstream() as up:
        up.routes["/news.rss"] = Feed((DATA / "news.rss").read_bytes())
        up.routes["/odd.atom"] = Feed(
            (DATA / "odd.atom").read_bytes(), "application/atom+xml", etag='"odd"'
        )
        yield up


def spec(up: Upstream, path: str, name: str = "wire", **kw: object) -> UpstreamSpec:
    return UpstreamSpec(name=name, url=up.url(path), allow_loopback=True, **kw)  # type: ignore[arg-type]


def test_first_poll_takes_every_entry(service: Wiring, upstream: Upstream) -> None:
    """A first poll creates one article per entry with stable ids, terms, image and state."""
    wire = spec(upstream, "/news.rss", categories=("World",))
    result = poll_upstream(service.intake, wire)
    assert (result.status, result.entries, result.created, result.problems) == ("ok", 3, 3, ())
    assert (result.http_status, result.conditional, result.encoding) == (
        200,
        "unconditional",
        "utf-8",
    )
    harbour = service.store.get_article(article_id("wire", "wire-1001"))
    assert harbour is not None and harbour.id == "wire-" + harbour.id.split("-")[1]
    assert harbour.source == "upstream:wire"
    assert harbour.url == "https://wire.example.org/2025/harbour-reopens"
    assert "“three days”" in harbour.content_html and "Ferries resume" in harbour.content_html
    assert harbour.summary == "The harbour reopened on Monday."
    assert harbour.author == "Ana Pereira"
    assert harbour.published == datetime(2025, 1, 6, 9, 30, tzinfo=UTC)
    assert [t.label for t in harbour.categories] == ["Local", "Weather", "World"]
    assert harbour.image is not None
    assert (harbour.image.url, harbour.image.type, harbour.image.length) == (
        "https://wire.example.org/img/harbour.jpg", "image/jpeg", 48213,
    )  # fmt: skip
    council = service.store.get_article(article_id("wire", "wire-1002"))
    assert council is not None
    assert council.url == upstream.url("/2025/council-budget")
    assert "seven votes to two" in council.content_html
    state = load_state(service.store, "wire")
    assert state is not None
    assert (state["etag"], state["last_status"], state["last_error"]) == ('"v1"', "200", None)
    assert state["fetched_at"] == T0 and state["next_fetch_at"] == T0 + timedelta(seconds=900)


def test_second_poll_is_conditional_and_takes_nothing(
    service: Wiring, upstream: Upstream, clock: Clock
) -> None:
    """The next poll sends If-None-Match / If-Modified-Since, gets 304 and stores nothing."""
    wire = spec(upstream, "/news.rss")
    poll_upstream(service.intake, wire)
    version = service.store.version()
    clock.now = T0 + timedelta(minutes=15)
    result = poll_upstream(service.intake, wire)
    assert result.status == "not-modified" and result.created == 0
    sent = upstream.seen[-1].headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == upstream.routes["/news.rss"].last_modified  # type: ignore[attr-defined]
    assert service.store.version() == version
    state = load_state(service.store, "wire")
    assert state is not None and state["last_status"] == "304"
    assert state["next_fetch_at"] == clock.now + timedelta(seconds=900)


def test_unchanged_feed_without_validators_changes_nothing(
    service: Wiring, upstream: Upstream
) -> None:
    """Re-reading identical entries (server ignores validators) leaves every article alone."""
    upstream.routes["/plain.rss"] = lambda h: send(h, 200, (DATA / "news.rss").read_bytes())
    wire = spec(upstream, "/plain.rss")
    poll_upstream(service.intake, wire)
    version = service.store.version()
    result = poll_upstream(service.intake, wire)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert service.store.version() == version


def test_edited_entry_updates_the_same_article(
    service: Wiring, upstream: Upstream, clock: Clock
) -> None:
    """An entry edited upstream updates its article in place, keeping id and guid."""
    wire = spec(upstream, "/news.rss")
    poll_upstream(service.intake, wire)
    key = article_id("wire", "wire-1001")
    before = service.store.get_article(key)
    feed: Feed = upstream.routes["/news.rss"]  # type: ignore[assignment]
    feed.edit(feed.body.replace(b"Ferries resume at noon.", b"Ferries resume at 2 pm."), '"v2"')
    clock.now = T0 + timedelta(hours=1)
    result = poll_upstream(service.intake, wire)
    after = service.store.get_article(key)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert before is not None and after is not None
    assert "2 pm" in after.content_html and after.guid == before.guid
    assert after.updated == clock.now and after.published == before.published


def test_odd_entries_are_handled(service: Wiring, upstream: Upstream, clock: Clock) -> None:
    """Naive dates, plain text, scripts, relative links and an entry with only a summary."""
    result = poll_upstream(service.intake, spec(upstream, "/odd.atom", name="odd blog"))
    assert (result.created, result.problems) == (4, ())
    key = entry_key({"summary": "Nothing identifies this entry."}, upstream.url("/odd.atom"))
    anonymous = service.store.get_article(article_id("odd blog", key))
    assert anonymous is not None and anonymous.title == "Nothing identifies this entry"
    assert anonymous.url == f"{service.settings.public_url}/articles/{anonymous.id}"

    naive = service.store.get_article(article_id("odd blog", "urn:odd:1"))
    assert naive is not None and naive.id.startswith("odd-blog-")
    assert naive.published == datetime(2025, 2, 1, 9, 0, tzinfo=UTC)  # 10:00 Berlin time
    assert naive.url == "https://blog.example.net/posts/naive-date"
    assert "Use a &lt;b&gt; tag &amp; see." in naive.content_html
    assert "<b>" not in naive.content_html
    assert naive.author == "Blog Team"
    assert naive.image is not None
    assert (naive.image.url, naive.image.width, naive.image.height) == (
        "https://blog.example.net/img/naive.png", 640, 360,
    )  # fmt: skip

    script = service.store.get_article(article_id("odd blog", "urn:odd:2"))
    assert script is not None
    assert script.title == "Script inside" and script.author == "Mallory"
    for bad in ("<script", "alert(1)", "onclick", "javascript:"):
        assert bad not in script.content_html
    assert 'src="https://blog.example.net/posts/pic.png"' in script.content_html
    assert script.published == datetime(2025, 2, 2, 7, 15, tzinfo=UTC)

    undated = service.store.get_article(article_id("odd blog", "urn:odd:3"))
    assert undated is not None and undated.published == clock.now
    clock.now = T0 + timedelta(days=1)
    upstream.routes["/odd.atom"].etag = '"odd-again"'  # type: ignore[attr-defined]
    again = poll_upstream(service.intake, spec(upstream, "/odd.atom", name="odd blog"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)


def test_unusable_link_is_dropped_and_the_entry_kept(service: Wiring, upstream: Upstream) -> None:
    """An entry with a non-http link keeps its content on its own page, with a warning."""
    upstream.routes["/mixed.rss"] = lambda h: send(
        h,
        200,
        b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Mixed</title><link>https://m.example/</link>
<description>d</description>
<item><title>Good</title><link>https://m.example/good</link><guid>g1</guid>
<description>fine</description></item>
<item><title>Bad</title><link>ftp://m.example/bad</link><guid>g2</guid>
<description>ftp link</description></item>
</channel></rss>""",
    )
    result = poll_upstream(service.intake, spec(upstream, "/mixed.rss", name="mixed"))
    # feedparser reads a guid without isPermaLink="false" as a link, resolved to the feed.
    assert (result.created, result.rejected) == (2, [])
    [warning] = result.warnings
    assert (warning.position, warning.key, warning.label) == (2, upstream.url("/g2"), "Bad")
    assert "link dropped" in warning.reason and "ftp://m.example/bad" in warning.reason
    assert service.store.get_article(article_id("mixed", upstream.url("/g1"))) is not None
    bad = service.store.get_article(article_id("mixed", upstream.url("/g2")))
    assert bad is not None and bad.url == f"{service.settings.public_url}/articles/{bad.id}"


@pytest.mark.parametrize(
    ("route", "reason"),
    [(status(500), "HTTP 500"), (lambda h: send(h, 200, (DATA / "garbage.txt").read_bytes(),
                                                "text/html"), "not")],
    ids=["http-500", "garbage"],
)  # fmt: skip
def test_broken_upstream_records_its_error(
    service: Wiring, upstream: Upstream, route: object, reason: str
) -> None:
    """A failing upstream is recorded in upstream_state with its reason; nothing is stored."""
    upstream.routes["/broken"] = route  # type: ignore[assignment]
    result = poll_upstream(service.intake, spec(upstream, "/broken", name="broken"))
    assert result.status == "error" and reason in (result.error or "")
    state = load_state(service.store, "broken")
    assert state is not None and state["last_status"] == "error"
    assert reason in state["last_error"]
    assert service.store.count_articles() == 0


def test_timeout_is_recorded_as_an_error(service: Wiring, upstream: Upstream) -> None:
    """An upstream slower than the deadline is recorded as failed."""
    upstream.routes["/slow"] = stall(3)
    fetch = functools.partial(net.safe_fetch, read_timeout=0.5, deadline=0.5)
    result = poll_upstream(service.intake, spec(upstream, "/slow", name="slow"), fetch=fetch)
    assert result.status == "error" and "deadline" in (result.error or "")
    state = load_state(service.store, "slow")
    assert state is not None and "deadline" in state["last_error"]


def test_poll_job_honours_intervals_and_isolates_failures(
    settings: Settings, store: Store, upstream: Upstream, clock: Clock
) -> None:
    """Each spec is polled when due on its own interval; a broken one never stops the rest."""
    upstream.routes["/broken"] = status(500)
    specs = (
        spec(upstream, "/broken", name="broken", interval=60),
        spec(upstream, "/news.rss", name="wire", interval=600),
        spec(upstream, "/odd.atom", name="odd", interval=60),
    )
    service = Wiring(settings.replace(upstream=specs), store, clock)
    poll_job(service.intake)
    assert sorted(s.path for s in upstream.seen) == ["/broken", "/news.rss", "/odd.atom"]
    assert store.count_articles() == 7
    clock.now = T0 + timedelta(seconds=30)
    poll_job(service.intake)
    assert len(upstream.seen) == 3  # nothing due yet
    clock.now = T0 + timedelta(seconds=60)
    poll_job(service.intake)
    assert sorted(s.path for s in upstream.seen[3:]) == ["/broken", "/odd.atom"]
    broken = load_state(service.store, "broken")
    assert broken is not None and "HTTP 500" in broken["last_error"]
    clock.now = T0 + timedelta(seconds=600)
    poll_job(service.intake)
    assert "/news.rss" in [s.path for s in upstream.seen[5:]]


def test_private_upstream_is_refused_unless_allowed(service: Wiring, upstream: Upstream) -> None:
    """Without allow_private an upstream on 127.0.0.1 is refused and never contacted."""
    refused = UpstreamSpec(name="internal", url=upstream.url("/news.rss"))
    result = poll_upstream(service.intake, refused)
    assert result.status == "error" and "not a public address" in (result.error or "")
    assert upstream.connections == 0


@pytest.mark.parametrize("name", ["billion_laughs.xml", "xxe.xml"])
def test_entity_attacks_are_refused(service: Wiring, upstream: Upstream, name: str) -> None:
    """Feeds declaring entities (billion laughs, XXE) are refused and nothing is stored."""
    upstream.routes["/attack"] = lambda h: send(h, 200, (DATA / name).read_bytes(), "text/xml")
    result = poll_upstream(service.intake, spec(upstream, "/attack", name="attack"))
    assert result.status == "error" and "entities" in (result.error or "")
    assert service.store.count_articles() == 0


def test_feedparser_alone_does_not_expand_entity_attacks() -> None:
    """Below our guard, expat's limit and feedparser's settings still stop both attacks."""
    laughs = feedparser.parse(io.BytesIO((DATA / "billion_laughs.xml").read_bytes()))
    assert laughs.bozo  # entity stripped by feedparser or refused by expat's amplification cap
    assert all(len(e.get("title", "")) < 100 for e in laughs.entries)
    xxe = feedparser.parse(io.BytesIO((DATA / "xxe.xml").read_bytes()))
    passwd = Path("/etc/passwd").read_text(encoding="utf-8").splitlines()[0]
    assert all(passwd not in str(e) for e in xxe.entries)


def test_parse_feed_rejects_non_feeds_and_keeps_bozo_entries() -> None:
    """Garbage is refused; a malformed feed with entries is taken with a warning."""
    with pytest.raises(IngestError, match="feed"):
        parse_feed((DATA / "garbage.txt").read_bytes(), "https://x.example/feed")
    sloppy = (DATA / "news.rss").read_bytes().replace(b"</channel>", b"<broken></channel>")
    parsed = parse_feed(sloppy, "https://x.example/feed")
    assert len(parsed.entries) == 3 and parsed.warning


def test_old_expat_is_refused_with_a_clear_message() -> None:
    """An expat older than 2.4.1 stops start-up naming the required version."""
    require_safe_expat("expat_2.4.1")
    with pytest.raises(RuntimeError, match=r"expat_2\.2\.10 is too old.*expat >= 2\.4\.1"):
        require_safe_expat("expat_2.2.10")
