"""A multilingual newsroom's articles, end to end: every feed valid, every label its feed.

At least 40 articles in many scripts, with hostile labels and URLs, dates out of order,
edits and unpublishes, ingested through the real pipeline, rendered, and fetched from the
real app over a socket in every format, with and without ``?limit``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import pytest
from live import fetch, live_server

from syndicate.config import Settings
from syndicate.content.text import feed_slug, section_key
from syndicate.ingest import ingest_raw
from syndicate.wiring import Wiring, create_app
from tests.conftest import Clock
from tests.feedcheck import check

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SCRIPTS = [
    ("World", "Breaking: talks resume", "Jane Doe"),
    ("Наука", "Учёные нашли воду на Марсе", "Анна Петрова"),
    ("Новости, мир", "Переговоры продолжаются", "Иван Иванов"),
    ("日本", "東京で新しい展示会", "山田太郎"),
    ("中国 经济", "经济增长放缓", "李小龙"),
    ("한국 뉴스", "서울에서 회의", "김민준"),
    ("العربية", "محادثات السلام تستأنف", "فاطمة الزهراء"),
    ("עברית", "שיחות השלום", "דוד כהן"),
    ("हिन्दी समाचार", "दिल्ली में बैठक", "राहुल शर्मा"),
    ("தமிழ்", "சென்னையில் மழை", "முருகன்"),
    ("ไทย", "ข่าวกรุงเทพ", "สมชาย"),
    ("Ελληνικά", "Νέα από την Αθήνα", "Νίκος Παπαδόπουλος"),
    ("🔥", "Wildfire season 🔥 begins", "José Núñez"),
    ("👩‍💻 Tech", "Coders 👩🏽‍💻 unite", "Jose Nunez"),
    ("C++", "C++26 ships", "Bjarne S."),
    ("C#", "C# 14 preview", "Mads T."),
    ("!!!", "Exclamations", "Punctuation Desk"),
    ("Rock & Roll <Live>", "Rock &amp; Roll &lt;Live&gt; tonight",
     "Music <music@news.example.com>"),
    ("Ж" * 100, "A label of a hundred Cyrillic letters", "Длинное Имя"),
    ("x" * 100, "A label of a hundred Latin letters", "Long Name"),
    ("a/b", "Slashes in a label", "O'Brien"),
    ("../etc", "Dots and slashes", "Dot Desk"),
    ("2026", "The year in numbers", "Numbers Desk"),
    ("Cafe\u0301", "Combining marks in a label", "Zoë Ångström"),
]  # fmt: skip


def corpus() -> list[dict[str, Any]]:
    """44 articles: one or two per script, hostile URLs, bodies and images, dates shuffled."""
    items = []
    for n in range(44):
        label, title, author = SCRIPTS[n % len(SCRIPTS)]
        age = (n * 7919) % 97  # out of order
        item: dict[str, Any] = {
            "id": f"c{n}",
            "title": title if n < len(SCRIPTS) else f"{title} ({n})",
            "url": _url(n),
            "body": _body(n),
            "author": author,
            "published": (START - timedelta(hours=age)).isoformat(),
            "categories": [label, SCRIPTS[(n + 5) % len(SCRIPTS)][0]],
            "tags": [SCRIPTS[(n + 11) % len(SCRIPTS)][0]],
        }
        if n % 3 == 0:
            item["image"] = {"url": f"https://cdn.example.com/фото {n}.jpg", "length": 1000 + n}
        elif n % 3 == 1:
            item["image"] = {"url": f"/img/{n} wide.png"}  # relative, no length
        if n % 11 == 4:
            del item["url"]  # syndicate makes the URL up; relative links follow it
        items.append(item)
    return items


def _url(n: int) -> str:
    return [
        f"https://news.example.com/world/story {n}",
        f"https://news.example.com/наука/{n}?q=мир&x=1",
        f"https://ñandú.example/{n}",
        f"https://news.example.com/%E6%97%A5%E6%9C%AC/{n}",
        f"https://news.example.com/a%zz/{n}#frag ment",
    ][n % 5]


def _body(n: int) -> str:
    return (
        f'<p dir="rtl" lang="ar">نص {n} <a href="#fn{n}">[1]</a></p>'
        f'<p>See <a href="../related/{n} more">related</a> and '
        f'<a href="https://例え.jp/パス?q=値">例え</a>.</p>'
        "<table><tr><td>Alpha</td><td>Beta</td></tr></table><ul><li>One</li><li>Two</li></ul>"
        f"<p>Bad refs &#0; &#xD800; &#xFFFE; and \ufdd0 \U0001fffe noncharacters {n}.</p>"
        f'<p id="fn{n}">Footnote <img src="pics/{n} x.jpg" alt="x"></p>'
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def service(settings: Settings, clock: Clock) -> Iterator[Wiring]:
    svc = Wiring.open(settings.replace(websub_hub="https://hub.example.com/"), clock=clock)
    yield svc
    svc.publisher.close()
    svc.close()


def _edit_and_unpublish(service: Wiring, items: list[dict[str, Any]], clock: Clock) -> None:
    clock.advance(600)
    edits = [
        items[1] | {"title": "Edited: Учёные нашли лёд", "categories": ["Наука"]},
        items[7] | {"categories": ["World"], "tags": []},  # edited out of its sections
        items[30] | {"published": (START - timedelta(days=30)).isoformat()},  # backdated
    ]
    changes = ingest_raw(service.intake, edits, source="corpus")
    assert all(change.kind != "unchanged" for change in changes)
    for article_id in ("c3", "c17", "c40"):
        assert service.store.unpublish(article_id, clock())


def test_every_feed_of_the_corpus_is_valid(service: Wiring, clock: Clock) -> None:
    """Every feed in every format, with and without ?limit, passes the validator rules
    with no problems and parses cleanly; no label is dropped or shares a feed."""
    items = corpus()
    ingest_raw(service.intake, items, source="corpus")
    service.publisher.render_all()
    _edit_and_unpublish(service, items, clock)
    service.publisher.render_all()
    publisher = service.publisher
    names = [spec.name for spec in publisher.specs()]
    labels = {label for item in items for label in (*item["categories"], *item["tags"])}
    by_key = {section_key(label): label for label in labels}
    categories = {label for item in items for label in item["categories"]}
    for label in categories:
        assert f"category/{feed_slug(label)}" in names, label
    assert len({feed_slug(label) for label in by_key.values()}) == len(by_key)
    assert len(names) > 50
    later = clock() + timedelta(seconds=1)
    with live_server(create_app(wiring=service)) as base:
        for name in names:
            for fmt in ("rss", "atom", "json"):
                for limit in (None, 3):
                    url = publisher.self_url(name, fmt, limit)  # type: ignore[arg-type]
                    reply = fetch(base + url.removeprefix(service.settings.public_url))
                    assert reply.status == 200, url
                    hub = "https://hub.example.com/"
                    assert check(fmt, reply.body, url, now=later, hub=hub) == [], url
                    if fmt != "json":
                        assert feedparser.parse(reply.body).bozo == 0, url
    unpublished = {b"c3", b"c17", b"c40"}
    for path in service.settings.feeds_dir.rglob("*.json"):
        ids = {
            item["id"].rsplit("/", 1)[-1].encode()
            for item in json.loads(path.read_bytes())["items"]
        }
        assert not ids & unpublished, path
    assert publisher.state.failing() == []


def test_content_fidelity(service: Wiring) -> None:
    """Relative links follow the article's URL, entities read the same in titles, dir is
    kept, bad references and noncharacters are gone, table cells keep word boundaries."""
    items = corpus()
    ingest_raw(service.intake, items, source="corpus")
    made_up = service.store.get_article("c4")  # no URL given: syndicate's own
    assert made_up is not None and made_up.url.endswith("/articles/c4")
    assert f'href="{made_up.url}#fn4"' in made_up.content_html
    assert 'dir="rtl"' in made_up.content_html
    first = service.store.get_article("c0")
    assert first is not None
    assert 'href="https://news.example.com/related/0%20more"' in first.content_html
    assert "https://xn--r8jz45g.jp/%E3%83%91%E3%82%B9?q=%E5%80%A4" in first.content_html
    assert "\ufffd" not in first.content_html and "\ufdd0" not in first.content_html
    assert "Alpha Beta" in first.summary or "Alpha" in first.summary.split("Beta")[0]
    assert "AlphaBeta" not in first.summary and "OneTwo" not in first.summary
    music = service.store.get_article("c17")
    assert music is not None and music.title == "Rock & Roll <Live> tonight"
    assert first.image is not None and first.image.url.isascii()
    page = create_app(wiring=service).test_client().get("/articles/c1").get_data(as_text=True)
    assert 'href="/feeds/category/%D0%BD%D0%B0%D1%83%D0%BA%D0%B0.rss"' in page
    nauka = "%D0%BD%D0%B0%D1%83%D0%BA%D0%B0"
    assert f'rel="canonical" href="https://news.example.com/{nauka}/1?' in page
    service.publisher.render_all()
    for fmt in ("rss", "atom"):  # an image without a byte length is still described
        body = service.publisher.path("all", fmt).read_bytes()  # type: ignore[arg-type]
        assert b'url="https://news.example.com/img/1%20wide.png" medium="image"' in body


@pytest.mark.parametrize("opt_in", [False, True])
def test_author_email_is_split_and_published_only_on_opt_in(
    settings: Settings, opt_in: bool
) -> None:
    """ "Name <email>" names the person; the address appears (RSS <author>, Atom <email>)
    only when the publisher opts in, and never inside a name."""
    service = Wiring.open(settings.replace(feed_author_email=opt_in))
    try:
        raw = {"id": "e1", "title": "T", "body": "<p>b</p>", "author": "Ana Lima <ana@ex.com>"}
        ingest_raw(service.intake, [raw], source="test")
        stored = service.store.get_article("e1")
        assert stored is not None and stored.author == "Ana Lima"
        assert stored.author_slug == "ana-lima"
        service.publisher.render_all()
        rss = service.publisher.path("all", "rss").read_bytes()
        atom = service.publisher.path("all", "atom").read_bytes()
        assert (b"<author>ana@ex.com (Ana Lima)</author>" in rss) is opt_in
        assert (b"<email>ana@ex.com</email>" in atom) is opt_in
        assert (b"ana@ex.com" in rss + atom) is opt_in
        for fmt, body in (("rss", rss), ("atom", atom)):
            assert check(fmt, body, service.publisher.self_url("all", fmt)) == []  # type: ignore[arg-type]
    finally:
        service.publisher.close()
        service.close()
