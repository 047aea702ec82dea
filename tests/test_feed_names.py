"""Feed names: every label its own stable feed, any script or length; old URLs redirect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from live import fetch, live_server

from syndicate.config import Settings
from syndicate.content.text import FEED_SLUG_BYTES, feed_slug, is_feed_slug, section_key
from syndicate.errors import IngestError
from syndicate.ingest import ingest_raw
from syndicate.store import MIGRATIONS, Store, make_engine
from syndicate.store.schema import feed_alias
from syndicate.wiring import Wiring, create_app
from tests.feedcheck import check

HOSTILE = [
    "World", "World News", "World-News", "world--news", "C++", "C#", "C", "Наука",
    "Наука!", "Наука?", "Новости, мир", "한국 뉴스", "2026", "日本", "日本の政治", "José Núñez",
    "Jose Nunez", "🔥", "🔥🔥", "👩‍💻", "👩🏽‍🚀 space", "!!!", "...", "?", "-", "_", "a/b", "a\\b",
    "../etc", ".hidden", "हिन्दी समाचार", "तमिल", "العربية", "עברית", "ไทย", "con", "NUL",
    "Ж" * 100, "x" * 100, "日本" * 50, "a b", "a  b", "a_b", "a.b", "%E6%97%A5", "%20",
    "e\u0301", "ﬁnance", "Ελληνικά", "ΣΊΣΥΦΟΣ", "İstanbul", "istanbul", "Ω", "Ω",
]  # fmt: skip


def test_every_distinct_label_gets_its_own_safe_name() -> None:
    """Distinct section keys never share a name; names are non-empty, bounded, path-safe."""
    by_key: dict[str, str] = {}
    for label in HOSTILE:
        slug = feed_slug(label)
        assert slug and is_feed_slug(slug), label
        assert len(slug.encode()) <= FEED_SLUG_BYTES
        assert not {"/", "\\", ".", "%", " ", "\x00"} & set(slug), slug
        assert slug not in {"con", "nul"}
        by_key.setdefault(section_key(label), slug)
    assert len(set(by_key.values())) == len(by_key)


@pytest.mark.parametrize(
    ("one", "other"),
    [("World", "WORLD"), ("Café", "Cafe\u0301"), ("ＷＯＲＬＤ", "world"), ("Ω", "Ω"),
     ("Straße", "STRASSE"), ("  World   News ", "world news")],
)  # fmt: skip
def test_case_and_normalisation_variants_are_one_section(one: str, other: str) -> None:
    assert feed_slug(one) == feed_slug(other)


def test_names_are_stable() -> None:
    """Published names never change: these are pinned."""
    assert feed_slug("World") == "world"
    assert feed_slug("World News") == "world-news"
    assert feed_slug("Наука") == "наука"
    assert feed_slug("한국 뉴스") == "한국-뉴스"
    assert feed_slug("हिन्दी समाचार") == "हिन्दी-समाचार"
    assert feed_slug("C++") == "c--z3nrxld67t"
    assert feed_slug("🔥") == "fire--5wgygblfx7"


def raw(n: int, categories: list[str], author: str = "Jane Doe") -> dict[str, object]:
    return {
        "id": f"n{n}",
        "title": f"Story {n}",
        "url": f"https://news.example.com/n/{n}",
        "body": f"<p>Body {n}</p>",
        "author": author,
        "published": f"2026-11-{1 + n % 28:02d}T08:00:00Z",
        "categories": categories,
        "tags": categories[:1],
    }


@pytest.fixture
def service(settings: Settings) -> Iterator[Wiring]:
    svc = Wiring.open(settings)
    yield svc
    svc.publisher.close()
    svc.close()


def test_no_label_dropped_or_merged_and_no_render_stopped(service: Wiring) -> None:
    """Every label and author has its own feed file holding its article; long and
    non-Latin labels never stop a render."""
    labels = [label for label in HOSTILE if label.strip(" -_.?!")]
    authors = ["José Núñez", "Jose Nunez", "Анна Петрова", "李小龙", "🔥", "O'Brien"]
    items = [raw(n, [label], authors[n % len(authors)]) for n, label in enumerate(labels)]
    ingest_raw(service.intake, items, source="test")
    service.publisher.render_all()
    names = {spec.name for spec in service.publisher.specs()}
    for item in items:
        for label in item["categories"]:  # type: ignore[attr-defined]
            name = f"category/{feed_slug(label)}"
            assert name in names, label
            body = service.publisher.path(name, "atom").read_bytes()
            assert f"Story {str(item['id'])[1:]}".encode() in body, label
    author_names = {f"author/{feed_slug(a)}" for a in authors}
    assert len(author_names) == len(authors) and author_names <= names
    assert service.publisher.state.failing() == []


def test_other_spellings_redirect_to_the_canonical_url(service: Wiring) -> None:
    """Another case, normalisation or the label itself answers 301 to the canonical URL."""
    ingest_raw(service.intake, [raw(1, ["World", "C++", "Café"])], source="test")
    service.publisher.render_all()
    with live_server(create_app(wiring=service)) as base:
        public = service.settings.public_url
        cases = {
            "/feeds/category/World.rss": "category/world",
            "/feeds/category/WORLD.atom?limit=5": "category/world",
            "/feeds/Category/world.json": "category/world",
            "/feeds/category/C++.rss": "category/" + feed_slug("C++"),
            "/feeds/category/Cafe%CC%81.rss": "category/café",
            "/feeds/ALL.rss": "all",
        }
        for path, target in cases.items():
            reply = fetch(base + path)
            assert reply.status == 301, path
            fmt = path.split("?")[0].rsplit(".", 1)[1]
            want = service.publisher.self_url(target, fmt)  # type: ignore[arg-type]
            want += "?limit=5" if "?" in path else ""
            assert reply.header("Location") == want
            assert fetch(base + want.removeprefix(public)).status == 200
        assert fetch(base + "/feeds/category/nowhere.rss").status == 404


def _old_slug(label: str) -> str:
    """The slug rule before feed names (ASCII fold, everything else dropped)."""
    import re
    import unicodedata

    folded = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    if not folded.strip():
        folded = unicodedata.normalize("NFC", label)
    slug = re.sub(r"[\s_-]+", "-", re.sub(r"[^\w\s-]", "", folded).strip().lower())
    return slug.strip("-")


def test_migration_keeps_old_urls_as_aliases(settings: Settings, tmp_path: Path) -> None:
    """A database written with the old slugs is upgraded: new names, old ones redirect, and
    no old file keeps serving stale bytes."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    cfg = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006_i8_feed_state")
    engine.dispose()
    old = Store.open(url, migrate=False)
    labels = ["C++", "C#", "World", "한국 2026"]
    rows = [("a1", "C++"), ("a2", "C#"), ("a3", "World"), ("a4", "한국 2026")]
    _write_old_articles(old, rows)
    old.close()
    feeds = settings.feeds_dir
    for label in labels:
        path = feeds / "category" / f"{_old_slug(label)}.rss"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"<rss>stale old bytes</rss>")
    service = Wiring.open(settings.replace(database_url=url))
    try:
        with service.store.read() as conn:
            aliases = dict(conn.execute(sa.select(feed_alias.c.alias, feed_alias.c.name)).all())
        assert aliases["category/c"] in {
            f"category/{feed_slug('C++')}",
            f"category/{feed_slug('C#')}",
        }
        assert "category/world" not in aliases  # unchanged name
        service.publisher.render_all()
        for label in labels:
            name = f"category/{feed_slug(label)}"
            body = service.publisher.path(name, "rss").read_bytes()
            assert check("rss", body, service.publisher.self_url(name, "rss")) == []
        with live_server(create_app(wiring=service)) as base:
            for label in labels:
                reply = fetch(f"{base}/feeds/category/{_old_slug(label)}.rss")
                assert reply.status in (200, 301), label
                assert b"stale old bytes" not in reply.body
                if reply.status == 301:
                    location = reply.header("Location") or ""
                    path = location.removeprefix(service.settings.public_url)
                    assert fetch(base + path).status == 200
    finally:
        service.publisher.close()
        service.close()


def _write_old_articles(store: Store, rows: list[tuple[str, str]]) -> None:
    from datetime import UTC, datetime

    from syndicate.store.schema import article, article_term

    when = datetime(2026, 11, 1, tzinfo=UTC)
    with store.begin() as conn:
        for article_id, label in rows:
            conn.execute(
                article.insert().values(
                    id=article_id, guid=f"tag:x,2026:{article_id}", source="test",
                    url=f"https://news.example.com/{article_id}", title=f"Old {article_id}",
                    summary="", content_html="<p>x</p>", author="Анна Петрова",
                    author_slug=_old_slug("Анна Петрова"), published=when, updated=when,
                    status="published", content_hash="0", created_at=when, modified_at=when,
                )
            )  # fmt: skip
            conn.execute(
                article_term.insert().values(
                    article_id=article_id, kind="category", slug=_old_slug(label),
                    label=label, position=0,
                )
            )  # fmt: skip


def test_label_longer_than_the_limit_is_a_clear_error(service: Wiring) -> None:
    with pytest.raises(IngestError) as info:
        ingest_raw(service.intake, [raw(1, ["Ж" * 201])], source="test")
    assert "categories" in info.value.problems
