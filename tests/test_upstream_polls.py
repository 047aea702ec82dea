"""Upstream polls made visible (API, CLI, /admin, /metrics, log) and the entry rules:
identity, duplicates, authors, encodings and entities, over a real upstream server."""

from __future__ import annotations

import codecs
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from upstream_server import Feed, Upstream, send

from syndicate.cli import main
from syndicate.config import Settings
from syndicate.feeds.common import Site
from syndicate.feeds.render import render
from syndicate.ingest.feedbytes import expand_entities
from syndicate.ingest.poll_record import PROBLEMS_KEPT, poll_outcomes
from syndicate.ingest.upstream import poll_upstream
from syndicate.ingest.upstream_entries import article_id, entry_key, split_author
from syndicate.models import FeedSpec, UpstreamSpec
from syndicate.store import Store
from syndicate.wiring import Wiring, create_app
from tests.conftest import Clock
from tests.feedcheck import check
from tests.live import live_server

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

MIXED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Mixed</title><link>https://m.example/</link>
<description>d</description>
<item><title>Good</title><link>https://m.example/good</link><guid>g1</guid>
<description>Fine.</description></item>
<item><guid isPermaLink="false">g2</guid><link>https://m.example/empty</link></item>
<item><title>Mailto link</title><link>mailto:desk@m.example</link>
<guid isPermaLink="false">g3</guid><description>Kept without its link.</description></item>
</channel></rss>"""


def rss(*items: str, encoding: str = "utf-8") -> bytes:
    head = f'<?xml version="1.0" encoding="{encoding}"?>\n'
    channel = "<title>T</title><link>https://t.example/</link><description>d</description>"
    return (head + f'<rss version="2.0"><channel>{channel}{"".join(items)}</channel></rss>').encode(
        "utf-8" if encoding.lower() == "utf-8" else encoding
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with Upstream() as up:
        up.routes["/mixed.rss"] = Feed(MIXED)
        yield up


def wire(up: Upstream, path: str = "/mixed.rss", name: str = "wire") -> UpstreamSpec:
    return UpstreamSpec(name=name, url=up.url(path), allow_loopback=True)


@pytest.fixture
def service(settings: Settings, store: Store, clock: Clock, upstream: Upstream) -> Wiring:
    return Wiring(settings.replace(upstream=(wire(upstream),)), store, clock)


def test_poll_outcomes_are_visible_in_api_metrics_and_admin(
    service: Wiring, upstream: Upstream, clock: Clock
) -> None:
    """Each poll is stored; /api/upstreams (token required), /metrics and /admin show it."""
    first = poll_upstream(service.intake, wire(upstream))
    assert (first.created, [p.position for p in first.rejected]) == (2, [2])
    clock.now = T0 + timedelta(minutes=15)
    assert poll_upstream(service.intake, wire(upstream)).status == "not-modified"
    with live_server(create_app(wiring=service)) as base:
        assert requests.get(f"{base}/api/upstreams", timeout=10).status_code == 401
        auth = {"Authorization": f"Bearer {service.settings.api_token}"}
        body = requests.get(f"{base}/api/upstreams", headers=auth, timeout=10).json()
        metrics = requests.get(f"{base}/metrics", timeout=10).text
        page = requests.get(f"{base}/admin", timeout=10).text
        script = requests.get(f"{base}/static/upstreams.js", timeout=10)
    [outcome] = body["upstreams"]
    assert (outcome["name"], outcome["url"], outcome["configured"]) == (
        "wire", upstream.url("/mixed.rss"), True,
    )  # fmt: skip
    last = outcome["last_poll"]
    assert (last["at"], last["outcome"], last["http_status"], last["conditional"]) == (
        "2025-03-01T12:15:00Z", "not-modified", 304, "not-modified",
    )  # fmt: skip
    assert outcome["totals"] == {
        "polls": {"ok": 1, "not-modified": 1},
        "entries": {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1, "repeated": 0},
    }
    assert 'syndicate_upstream_polls_total{outcome="ok",upstream="wire"} 1.0' in metrics
    assert 'syndicate_upstream_entries_total{result="rejected",upstream="wire"} 1.0' in metrics
    assert 'id="upstreams"' in page and "/static/upstreams.js" in page
    assert script.status_code == 200 and "/api/upstreams" in script.text


def test_last_poll_lists_each_problem_with_its_reason(
    service: Wiring, upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    """A rejected entry and a dropped link are both listed with position, key and reason,
    and the rejected one is logged at WARNING naming the upstream and its position."""
    with caplog.at_level(logging.INFO, logger="syndicate.ingest.upstream"):
        poll_upstream(service.intake, wire(upstream))
    with live_server(create_app(wiring=service)) as base:
        auth = {"Authorization": f"Bearer {service.settings.api_token}"}
        last = requests.get(f"{base}/api/upstreams", headers=auth, timeout=10).json()
    poll = last["upstreams"][0]["last_poll"]
    assert (poll["outcome"], poll["http_status"], poll["conditional"]) == (
        "ok", 200, "unconditional",
    )  # fmt: skip
    assert poll["counts"] == {
        "seen": 3, "created": 2, "updated": 0, "unchanged": 0, "rejected": 1, "repeated": 0,
    }  # fmt: skip
    rejected, dropped = poll["problems"]
    assert (rejected["position"], rejected["key"], rejected["kind"]) == (2, "g2", "rejected")
    assert "no title, description or content" in rejected["reason"]
    assert (dropped["position"], dropped["label"], dropped["kind"]) == (3, "Mailto link", "warning")
    assert "mailto:desk@m.example" in dropped["reason"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "upstream wire: entry 2 ('g2') rejected: entry: has no title, description or content"
    ]


def test_cli_lists_upstreams_with_reasons(
    tmp_path: Path, upstream: Upstream, database_url: str
) -> None:
    """`syndicate upstreams` prints each upstream's last poll and every problem."""
    config = tmp_path / "syndicate.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\nfeeds_dir = "{tmp_path / "feeds"}"\n'
        f'database_url = "{database_url}"\nbase_url = "https://feeds.example.com"\n'
        f'[[upstream]]\nname = "wire"\nurl = "{upstream.url("/mixed.rss")}"\n'
        "allow_loopback = true\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    missing = runner.invoke(main, ["--config", str(config), "upstreams"])
    assert missing.exit_code == 1 and "no database at" in missing.stderr  # it creates none
    from syndicate.config import load

    settings = load(config, env={})
    service = Wiring.open(settings)
    before = runner.invoke(main, ["--config", str(config), "upstreams"])
    assert before.exit_code == 0 and "never polled yet" in before.output
    poll_upstream(service.intake, settings.upstream[0])
    service.close()
    result = runner.invoke(main, ["--config", str(config), "upstreams"])
    assert result.exit_code == 0, result.output
    assert "ok, HTTP 200, conditional GET unconditional" in result.output
    assert "3 seen, 2 created, 0 updated, 0 unchanged, 1 rejected, 0 repeated" in result.output
    assert "entry 2 rejected: entry: has no title, description or content" in result.output
    as_json = runner.invoke(main, ["--config", str(config), "upstreams", "--json"])
    assert '"reason": "entry: has no title, description or content"' in as_json.output


def test_duplicate_guids_are_never_overwritten(service: Wiring, upstream: Upstream) -> None:
    """A repeat is taken once; a clash keeps both articles; both are reported."""
    item = "<item><guid>dup</guid><title>{t}</title><description>{d}</description></item>"
    upstream.routes["/dup.rss"] = Feed(
        rss(
            item.format(t="First", d="One."),
            item.format(t="First", d="One."),
            item.format(t="Second", d="Two."),
        )
    )
    result = poll_upstream(service.intake, wire(upstream, "/dup.rss"))
    assert (result.entries, result.created, result.repeated, result.rejected) == (3, 2, 1, [])
    repeat, clash = result.warnings
    assert (repeat.position, repeat.reason) == (2, "repeats entry 1: taken once")
    assert clash.position == 3 and "also used by entry 1" in clash.reason
    first = service.store.get_article(article_id("wire", upstream.url("/dup")))
    assert first is not None and first.title == "First"
    titles = {a.title for a in service.store.recent_articles(limit=10)}
    assert titles == {"First", "Second"}
    again = poll_upstream(service.intake, wire(upstream, "/dup.rss"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 0) or again.status == (
        "not-modified"
    )


def test_identity_without_guid_or_link_survives_repolls_and_body_edits(
    service: Wiring, upstream: Upstream, clock: Clock
) -> None:
    """Description-only items and titled id-less items stay one article each."""
    feed = Feed(
        rss(
            "<item><description>Only a description, as RSS 2.0 allows.</description></item>",
            "<item><title>Titled</title><description>First text.</description></item>",
        )
    )
    upstream.routes["/bare.rss"] = feed
    first = poll_upstream(service.intake, wire(upstream, "/bare.rss"))
    assert (first.created, first.problems) == (2, ())
    feed.edit(feed.body.replace(b"First text.", b"Edited text."), '"v2"')
    clock.now = T0 + timedelta(hours=1)
    second = poll_upstream(service.intake, wire(upstream, "/bare.rss"))
    assert (second.created, second.updated, second.unchanged) == (0, 1, 1)
    key = entry_key({"title": "Titled"}, upstream.url("/bare.rss"))
    edited = service.store.get_article(article_id("wire", key))
    assert edited is not None and "Edited text." in edited.content_html


@pytest.mark.parametrize(
    ("raw", "name", "email"),
    [
        ("jbb@dallas.example.com (Joe Bob Briggs)", "Joe Bob Briggs", "jbb@dallas.example.com"),
        ("Joe Bob Briggs <jbb@dallas.example.com>", "Joe Bob Briggs", "jbb@dallas.example.com"),
        ("Jane Doe &lt;jane@x.example&gt;", "Jane Doe", "jane@x.example"),
        ("jbb@dallas.example.com", "", "jbb@dallas.example.com"),
        ("Ana Pereira", "Ana Pereira", None),
        ("山田 太郎 (taro@example.jp)", "山田 太郎", "taro@example.jp"),
        ("Desk: news@x.example, Ana", "Desk, Ana", "news@x.example"),
    ],
)
def test_authors_are_split_into_name_and_email(raw: str, name: str, email: str | None) -> None:
    """No e-mail address ever stays in the name."""
    assert split_author(raw) == (name, email)


def test_author_email_is_kept_out_of_name_and_slug(service: Wiring, upstream: Upstream) -> None:
    upstream.routes["/authors.rss"] = Feed(
        rss(
            "<item><guid>a1</guid><title>One</title><description>x</description>"
            "<author>jbb@dallas.example.com (Joe Bob Briggs)</author></item>",
            "<item><guid>a2</guid><title>Two</title><description>x</description>"
            "<author>only@example.com</author></item>",
        )
    )
    spec = UpstreamSpec(
        name="wire", url=upstream.url("/authors.rss"), allow_loopback=True, author="Wire Desk"
    )
    poll_upstream(service.intake, spec)
    one = service.store.get_article(article_id("wire", upstream.url("/a1")))
    two = service.store.get_article(article_id("wire", upstream.url("/a2")))
    assert one is not None and (one.author, one.author_slug) == ("Joe Bob Briggs", "joe-bob-briggs")
    assert two is not None and two.author == "Wire Desk"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/rss+xml", "text/xml", "text/xml; charset=iso-8859-1",
        "application/xml; charset=utf-8", "text/html",
    ],
)  # fmt: skip
def test_served_content_type_does_not_change_the_text(
    service: Wiring, upstream: Upstream, content_type: str
) -> None:
    """A UTF-8 document reads the same whatever Content-Type it is served with."""
    body = rss("<item><guid>e1</guid><title>Café – “Zürich” 東京 👩‍💻</title>"
               "<description>naïve</description></item>")  # fmt: skip
    upstream.routes["/ct.rss"] = lambda h: send(h, 200, body, content_type)
    result = poll_upstream(service.intake, wire(upstream, "/ct.rss"))
    assert result.created == 1 and result.encoding == "utf-8"
    item = service.store.get_article(article_id("wire", upstream.url("/e1")))
    assert item is not None and item.title == "Café – “Zürich” 東京 👩‍💻"


def test_undecodable_feed_is_refused_with_the_reason(service: Wiring, upstream: Upstream) -> None:
    """Bytes no declared or detected encoding reads cleanly: nothing stored, reason kept."""
    body = codecs.BOM_UTF8 + b'<?xml version="1.0" encoding="utf-8"?><rss>\xff\xfe\x80\x81</rss>'
    upstream.routes["/bad.rss"] = lambda h: send(h, 200, body, "application/rss+xml")
    result = poll_upstream(service.intake, wire(upstream, "/bad.rss"))
    assert result.status == "error" and "encoding" in (result.error or "")
    assert "is not utf-8" in (result.error or "")
    assert service.store.count_articles() == 0


def test_internal_entities_are_expanded_within_limits() -> None:
    text, notes = expand_entities(
        '<!DOCTYPE rss [<!ENTITY co "Example &amp; Co"><!ENTITY who "&co; desk">]>'
        "<rss><t>&who; &nbsp;&eacute;<![CDATA[&co;]]></t></rss>"
    )
    assert (
        text == "<!DOCTYPE rss><rss><t>Example &amp; Co desk &#160;&#233;<![CDATA[&co;]]></t></rss>"
    )
    assert notes == ["expanded 2 internal entities"]
    big = "x" * 9_000
    with pytest.raises(Exception, match="expansion adds more than"):
        expand_entities(f'<!DOCTYPE r [<!ENTITY b "{big}">]><r>{"&b;" * 200}</r>')


@pytest.mark.parametrize("opt_in", [False, True])
def test_author_email_is_published_only_on_opt_in(
    service: Wiring, upstream: Upstream, opt_in: bool
) -> None:
    """Without publish_author_email the address is dropped; with it, feeds carry it."""
    upstream.routes["/mail.rss"] = Feed(
        rss(
            "<item><guid>m1</guid><title>Mail</title><description>x</description>"
            "<author>jbb@dallas.example.com (Joe Bob Briggs)</author></item>"
        )
    )
    spec = UpstreamSpec(
        name="wire", url=upstream.url("/mail.rss"), allow_loopback=True,
        publish_author_email=opt_in,
    )  # fmt: skip
    poll_upstream(service.intake, spec)
    item = service.store.get_article(article_id("wire", upstream.url("/m1")))
    assert item is not None and (item.author, item.author_slug) == (
        "Joe Bob Briggs",
        "joe-bob-briggs",
    )
    assert item.author_email == ("jbb@dallas.example.com" if opt_in else None)
    site = Site("Demo", "https://news.example.com/", "https://feeds.example.com")
    spec_all = FeedSpec("all", "Demo", "Latest", "")
    for fmt in ("rss", "atom", "json"):
        self_url = f"https://feeds.example.com/feeds/all.{fmt}"
        body = render(spec_all, [item], fmt, site, self_url=self_url).body
        assert check(fmt, body, self_url) == []
        assert (b"jbb@dallas.example.com" in body) == (opt_in and fmt != "json")
    if opt_in:
        rss_body = render(spec_all, [item], "rss", site, self_url="https://f.example/a.rss").body
        assert b"<author>jbb@dallas.example.com (Joe Bob Briggs)</author>" in rss_body


def test_a_feed_with_many_problems_keeps_the_first_and_says_how_many_more(
    service: Wiring, upstream: Upstream
) -> None:
    """Past the kept problems the poll record says how many were left out."""
    empty = "<item><guid>e{n}</guid><link>https://t.example/{n}</link></item>"
    upstream.routes["/empty.rss"] = Feed(
        rss(*(empty.format(n=n) for n in range(PROBLEMS_KEPT + 5)))
    )
    result = poll_upstream(service.intake, wire(upstream, "/empty.rss"))
    assert len(result.rejected) == PROBLEMS_KEPT + 5
    [outcome] = [
        o for o in poll_outcomes(service.store, service.settings.upstream) if o["name"] == "wire"
    ]
    last = outcome["last_poll"]
    assert (
        len(last["problems"]) == PROBLEMS_KEPT and last["counts"]["rejected"] == PROBLEMS_KEPT + 5
    )
    assert last["notes"] == [f"5 more problems not kept (the first {PROBLEMS_KEPT} are)"]


def test_a_bad_author_email_is_dropped_and_the_entry_kept(
    service: Wiring, upstream: Upstream
) -> None:
    """With the opt-in, an address the normaliser refuses is dropped with a warning."""
    upstream.routes["/odd-mail.rss"] = Feed(
        rss(
            "<item><guid>o1</guid><title>Odd</title><description>x</description>"
            "<author>desk@localhost (Night Desk)</author></item>"
        )
    )
    spec = UpstreamSpec(
        name="wire", url=upstream.url("/odd-mail.rss"), allow_loopback=True,
        publish_author_email=True,
    )  # fmt: skip
    result = poll_upstream(service.intake, spec)
    assert result.created == 1 and [w.reason[:22] for w in result.warnings] == [
        "author_email dropped: "
    ]
    item = service.store.get_article(article_id("wire", upstream.url("/o1")))
    assert item is not None and (item.author, item.author_email) == ("Night Desk", None)


def test_a_newer_item_reusing_a_guid_never_takes_over_the_old_article(
    service: Wiring, upstream: Upstream, clock: Clock
) -> None:
    """The older entry keeps the id whatever the order; the newer one gets its own."""
    old = (
        "<item><guid>reused</guid><title>Original</title><description>First story.</description>"
        "<pubDate>Mon, 06 Jan 2025 09:30:00 GMT</pubDate></item>"
    )
    new = (
        "<item><guid>reused</guid><title>Newcomer</title><description>Other story.</description>"
        "<pubDate>Tue, 07 Jan 2025 09:30:00 GMT</pubDate></item>"
    )
    feed = Feed(rss(old))
    upstream.routes["/reuse.rss"] = feed
    poll_upstream(service.intake, wire(upstream, "/reuse.rss"))
    feed.edit(rss(new, old), '"v2"')
    clock.now = T0 + timedelta(hours=1)
    result = poll_upstream(service.intake, wire(upstream, "/reuse.rss"))
    assert (result.created, result.updated, result.unchanged) == (1, 0, 1)
    [clash] = result.warnings
    assert clash.position == 1 and "also used by entry 2" in clash.reason
    original = service.store.get_article(article_id("wire", upstream.url("/reused")))
    assert original is not None and original.title == "Original"
    assert {a.title for a in service.store.recent_articles(limit=10)} == {"Original", "Newcomer"}
