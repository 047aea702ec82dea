"""The article store on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import sqlalchemy as sa

from syndicate.models import Article, Image, Term
from syndicate.store import Store
from tests.conftest import FROZEN_NOW


def make(article_id: str = "a1", **changes: object) -> Article:
    base = Article(
        id=article_id,
        title="Budget approved",
        url=f"https://news.example.com/{article_id}",
        content_html="<p>The council voted.</p>",
        summary="The council voted.",
        author="Jane Doe",
        published=FROZEN_NOW - timedelta(hours=1),
        updated=FROZEN_NOW - timedelta(hours=1),
        categories=(Term("politics", "Politics"),),
        tags=(Term("budget", "Budget"),),
        image=Image("https://news.example.com/i.jpg", "image/jpeg", 1234, 1200, 630),
        guid=f"tag:news.example.com,2026:article/{article_id}",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_create_then_same_again_is_unchanged(store: Store) -> None:
    """Ingesting the same article twice changes nothing the second time."""
    assert store.upsert_article(make(), FROZEN_NOW).kind == "created"
    version = store.version()
    assert store.upsert_article(make(), FROZEN_NOW).kind == "unchanged"
    assert store.version() == version


def test_edit_keeps_id_guid_and_published(store: Store) -> None:
    """An edit keeps the guid and first publication time and moves `updated` forward."""
    store.upsert_article(make(), FROZEN_NOW)
    later = FROZEN_NOW + timedelta(minutes=5)
    change = store.upsert_article(
        make(title="Budget approved 7-2", guid="tag:other", published=FROZEN_NOW), later
    )
    assert change.kind == "updated"
    assert change.article.guid == "tag:news.example.com,2026:article/a1"
    assert change.article.published == FROZEN_NOW - timedelta(hours=1)
    assert change.article.updated == later
    assert change.article.title == "Budget approved 7-2"


def test_round_trip_keeps_every_field(store: Store) -> None:
    """What goes in comes out: terms in order, image, aware UTC dates."""
    article = make(categories=(Term("world", "World"), Term("politics", "Politics")))
    store.upsert_article(article, FROZEN_NOW)
    loaded = store.get_article("a1")
    assert loaded == article
    assert loaded.published.tzinfo is not None


def test_unpublish_hides_but_keeps_the_record(store: Store) -> None:
    """An unpublished article leaves the feeds' query but stays in the store."""
    store.upsert_article(make(), FROZEN_NOW)
    assert store.unpublish("a1", FROZEN_NOW)
    assert store.recent_articles() == []
    assert store.get_article("a1").status == "unpublished"
    assert not store.unpublish("missing", FROZEN_NOW)
    version = store.version()
    assert store.unpublish("a1", FROZEN_NOW)  # again: nothing changes
    assert store.version() == version
    again = store.upsert_article(make(), FROZEN_NOW)
    assert again.kind == "republished"


def test_filters_and_order(store: Store) -> None:
    """Newest first by publication, tie broken by id; filters by category, tag, author."""
    store.upsert_articles(
        [
            make("a", published=FROZEN_NOW - timedelta(hours=3)),
            make(
                "b",
                published=FROZEN_NOW - timedelta(hours=2),
                author="Kenji Sato",
                categories=(Term("world", "World"),),
            ),
            make("c", published=FROZEN_NOW - timedelta(hours=2)),
        ],
        FROZEN_NOW,
    )
    assert [a.id for a in store.recent_articles()] == ["c", "b", "a"]
    assert [a.id for a in store.recent_articles(category="world")] == ["b"]
    assert [a.id for a in store.recent_articles(author="kenji-sato")] == ["b"]
    assert [a.id for a in store.recent_articles(tag="budget", limit=1)] == ["c"]
    assert [t.slug for t in store.terms("category")] == ["politics", "world"]
    assert [t.label for t in store.authors()] == ["Jane Doe", "Kenji Sato"]


def test_migrate_twice_is_harmless(database_url: str) -> None:
    """Opening an existing database upgrades in place and keeps its data."""
    first = Store.open(database_url)
    first.upsert_article(make(), FROZEN_NOW)
    first.close()
    second = Store.open(database_url)
    assert second.get_article("a1") is not None
    with second.read() as conn:
        head = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert head is not None
    second.close()


def test_concurrent_ingest_of_one_article_makes_one_row(store: Store) -> None:
    """Two writers racing on the same id end with one article (T10)."""
    errors: list[BaseException] = []

    def write() -> None:
        try:
            store.upsert_article(make(), FROZEN_NOW)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count_articles() == 1


def test_only_durable_commits_wait_for_the_disk(store: Store) -> None:
    """begin(durable=False) relaxes the commit's flush for that transaction only."""
    query = "PRAGMA synchronous" if store.dialect == "sqlite" else "SHOW synchronous_commit"
    with store.begin(durable=False) as conn:
        relaxed = conn.exec_driver_sql(query).scalar()
    with store.begin() as conn:
        durable = conn.exec_driver_sql(query).scalar()
    assert (relaxed, durable) in ((1, 2), ("off", "on"))  # SQLite NORMAL/FULL; PG off/on
