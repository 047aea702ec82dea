"""Articles in the database: SQLite by default, PostgreSQL when one machine is outgrown.

All SQL lives here (and in the ledger's own module); callers get and give
:class:`~syndicate.models.Article` values.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from syndicate.errors import RefusedByStore, StoreBusy, StoreError
from syndicate.models import Article, Image, Term
from syndicate.store.schema import article, article_term, change_counter

ChangeKind = Literal["created", "updated", "republished", "unchanged"]
# Runs inside the transaction that wrote the article (the share outbox hooks in here).
WriteHook = Callable[[Connection, Article, ChangeKind, datetime], None]

MIGRATIONS = Path(__file__).parent.parent / "migrations"


@dataclass(frozen=True, slots=True)
class Change:
    """What an upsert did to one article."""

    kind: ChangeKind
    article: Article


def make_engine(url: str, busy_seconds: float = 10) -> Engine:
    """Create an engine with the settings each backend needs for a durable ledger.

    On SQLite a write waits at most *busy_seconds* for another writer, then fails with
    :class:`StoreBusy` (the web answers 503 with Retry-After; ticks try again later).
    """
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            create_private_file(Path(path))
        engine = sa.create_engine(
            url, connect_args={"timeout": busy_seconds, "check_same_thread": False}
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # A deferred transaction that reads then writes can fail with SQLITE_BUSY
            # even with a busy timeout; taking the write lock up front avoids that.
            # Readers must not queue behind writers, so they begin deferred.
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def create_private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (0600) unless it exists.

    SQLite gives its -wal and -shm files the database file's mode, so they follow. An
    existing file keeps its mode: an operator may have widened it on purpose.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@dataclass(frozen=True)
class SchemaState:
    """Whether a database holds syndicate's tables, at which revision, and the newest one."""

    exists: bool
    current: str | None
    head: str


def schema_state(url: str) -> SchemaState:
    """Look at the database behind *url* without creating or changing anything.

    A SQLite file that does not exist is not created; raises SQLAlchemyError when the
    database cannot be reached.
    """
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head() or ""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:" or not Path(path).is_file():
            return SchemaState(False, None, head)
        engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    else:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    return SchemaState(current is not None, current, head)


def safe_url(url: str) -> str:
    """*url* with its password hidden, fit for messages and logs."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


class Store:
    """The article store. One per process; thread-safe through the engine's pool."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.write_hooks: list[WriteHook] = []

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, busy_seconds: float = 10) -> Store:
        store = cls(make_engine(url, busy_seconds))
        if migrate:
            store.migrate()
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Create the schema or upgrade it in place to the newest revision."""
        cfg = _alembic_config()
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                # Two processes starting at once must not both create the tables.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74737301)")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            if conn.execute(sa.select(change_counter.c.id)).first() is None:
                conn.execute(change_counter.insert().values(id=1, version=0, changed_at=_epoch()))

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def begin(self, *, durable: bool = True) -> Iterator[Connection]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite).

        ``durable=False`` lets the commit return before it reaches the disk: it is still
        atomic and survives the process dying, only a power cut may lose it. Use it only
        where losing the write is safe (it is then redone or reconciled); the next
        durable commit flushes it too (SQLite's WAL is a single append-only log).
        """
        try:
            with self.engine.connect() as conn:
                if self.dialect == "sqlite":
                    # Set outside the transaction: the pragma is per connection.
                    level = "FULL" if durable else "NORMAL"
                    conn.connection.dbapi_connection.execute(f"PRAGMA synchronous={level}")  # type: ignore[union-attr]
                with conn.begin():
                    if not durable and self.dialect == "postgresql":
                        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                    yield conn
        except sa.exc.OperationalError as exc:
            raise _store_error("write", exc) from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction: on SQLite a plain (deferred) ``BEGIN``, so a reader
        never waits for the write lock; WAL lets it read beside a writer."""
        try:
            with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            raise _store_error("read", exc) from exc

    # -- writing ---------------------------------------------------------------------

    def upsert_article(self, item: Article, now: datetime) -> Change:
        return self.upsert_articles([item], now)[0]

    def upsert_articles(self, items: Sequence[Article], now: datetime) -> list[Change]:
        """Create or update articles in one transaction; unchanged ones are left alone.

        An article is matched by id. Its guid and first ``published`` time are kept
        forever; an edit gets a new ``updated`` time (the given one if later, else *now*).
        """
        for attempt in range(3):
            try:
                with self.begin() as conn:
                    changes = self._upsert_batch(conn, items, now)
                    if any(c.kind != "unchanged" for c in changes):
                        _bump(conn, now)
                return changes
            except sa.exc.IntegrityError as exc:
                # A concurrent writer inserted the same id first (PostgreSQL, READ
                # COMMITTED); run again and the row is found and updated instead.
                if attempt == 2:
                    raise RefusedByStore(_reason(exc)) from exc
            except (sa.exc.DataError, sa.exc.StatementError) as exc:
                # A value the column cannot hold (length, range, NUL on PostgreSQL): the
                # caller retries item by item to find which one.
                raise RefusedByStore(_reason(exc)) from exc
        raise AssertionError("unreachable")

    def _upsert_batch(
        self, conn: Connection, items: Sequence[Article], now: datetime
    ) -> list[Change]:
        existing = _existing(conn, [item.id for item in items])
        changes: list[Change] = []
        inserts: dict[str, tuple[dict[str, Any], Article]] = {}

        def flush() -> None:
            if inserts:
                conn.execute(article.insert(), [values for values, _ in inserts.values()])
                _write_terms(conn, [created for _, created in inserts.values()])
                inserts.clear()

        for item in items:
            item = replace(item, categories=_unique(item.categories), tags=_unique(item.tags))
            digest = content_hash(item)
            if item.id in inserts:
                flush()  # the same id twice in one batch: the second is an update
            row = existing.get(item.id)
            if row is None:
                values = _row(item, digest) | {"created_at": now, "modified_at": now}
                inserts[item.id] = (values, item)
                existing[item.id] = _Existing(
                    item.guid, digest, item.status, item.published, item.updated
                )
                changes.append(Change("created", item))
                continue
            kept = replace(item, guid=row.guid, published=row.published)
            if row.content_hash == digest and row.status == item.status:
                changes.append(Change("unchanged", replace(kept, updated=row.updated)))
                continue
            if row.content_hash == digest:
                updated = row.updated
            else:
                updated = item.updated if item.updated > row.updated else max(now, row.updated)
            kept = replace(kept, updated=updated)
            values = _row(kept, digest) | {"modified_at": now}
            del values["id"]
            conn.execute(article.update().where(article.c.id == item.id).values(values))
            conn.execute(article_term.delete().where(article_term.c.article_id == item.id))
            _write_terms(conn, [kept])
            existing[item.id] = _Existing(row.guid, digest, item.status, row.published, updated)
            kind: ChangeKind = "republished" if row.status != "published" else "updated"
            changes.append(Change(kind, kept))
        flush()
        for change in changes:
            if change.kind != "unchanged":
                for hook in self.write_hooks:
                    hook(conn, change.article, change.kind, now)
        return changes

    def unpublish(self, article_id: str, now: datetime) -> bool:
        """Take an article out of every feed; the record is kept. False if unknown.

        Unpublishing an article that is already unpublished changes nothing.
        """
        with self.begin() as conn:
            status = conn.execute(
                sa.select(article.c.status).where(article.c.id == article_id)
            ).scalar()
            if status is None:
                return False
            if status != "unpublished":
                conn.execute(
                    article.update()
                    .where(article.c.id == article_id)
                    .values(status="unpublished", modified_at=now)
                )
                _bump(conn, now)
                stored = self._load(conn, article_id)
                assert stored is not None
                for hook in self.write_hooks:
                    hook(conn, stored, "updated", now)
            return True

    # -- reading ---------------------------------------------------------------------

    def get_article(self, article_id: str) -> Article | None:
        with self.read() as conn:
            return self._load(conn, article_id)

    def find_id_by_url(self, url: str) -> str | None:
        with self.read() as conn:
            return conn.execute(
                sa.select(article.c.id).where(article.c.url == url).order_by(article.c.created_at)
            ).scalar()

    def recent_articles(
        self,
        *,
        category: str | None = None,
        tag: str | None = None,
        author: str | None = None,
        source: str | None = None,
        limit: int = 50,
        status: str | None = "published",
        offset: int = 0,
    ) -> list[Article]:
        """Newest first (by first publication, then id), filtered by slug."""
        query = sa.select(article)
        if status:
            query = query.where(article.c.status == status)
        for kind, slug in (("category", category), ("tag", tag)):
            if slug is not None:
                query = query.where(
                    sa.exists().where(
                        article_term.c.article_id == article.c.id,
                        article_term.c.kind == kind,
                        article_term.c.slug == slug,
                    )
                )
        if author is not None:
            query = query.where(article.c.author_slug == author)
        if source is not None:
            query = query.where(article.c.source == source)
        query = query.order_by(article.c.published.desc(), article.c.id.desc())
        query = query.limit(limit).offset(offset)
        with self.read() as conn:
            rows = conn.execute(query).all()
            return _with_terms(conn, rows)

    def terms(self, kind: str, status: str | None = "published") -> list[Term]:
        """Categories (or tags) of articles with *status* (None: any), by slug."""
        query = (
            sa.select(article_term.c.slug, sa.func.min(article_term.c.label))
            .join(article, article.c.id == article_term.c.article_id)
            .where(article_term.c.kind == kind)
            .group_by(article_term.c.slug)
            .order_by(article_term.c.slug)
        )
        if status:
            query = query.where(article.c.status == status)
        with self.read() as conn:
            return [Term(slug, label) for slug, label in conn.execute(query)]

    def authors(self, status: str | None = "published") -> list[Term]:
        """Authors of articles with *status* (None: any): slug and display name."""
        query = (
            sa.select(article.c.author_slug, sa.func.min(article.c.author))
            .where(article.c.author_slug != "")
            .group_by(article.c.author_slug)
            .order_by(article.c.author_slug)
        )
        if status:
            query = query.where(article.c.status == status)
        with self.read() as conn:
            return [Term(slug, name) for slug, name in conn.execute(query)]

    def published_counts(self) -> dict[str, int]:
        """Published articles per site-wide and section feed name: ``all``,
        ``category/<slug>``, ``tag/<slug>``, ``author/<slug>``."""
        published = article.c.status == "published"
        terms = (
            sa.select(article_term.c.kind, article_term.c.slug, sa.func.count())
            .join(article, article.c.id == article_term.c.article_id)
            .where(published)
            .group_by(article_term.c.kind, article_term.c.slug)
        )
        authors = (
            sa.select(article.c.author_slug, sa.func.count())
            .where(published, article.c.author_slug != "")
            .group_by(article.c.author_slug)
        )
        total = sa.select(sa.func.count()).select_from(article).where(published)
        with self.read() as conn:
            counts = {f"{kind}/{slug}": int(n) for kind, slug, n in conn.execute(terms)}
            counts.update({f"author/{slug}": int(n) for slug, n in conn.execute(authors)})
            counts["all"] = int(conn.execute(total).scalar_one())
        return counts

    def count_articles(self, status: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(article)
        if status:
            query = query.where(article.c.status == status)
        with self.read() as conn:
            return int(conn.execute(query).scalar_one())

    def article_summaries(self, limit: int) -> list[Any]:
        """Id, title, URL, published time and status of the newest articles, any status."""
        query = (
            sa.select(
                article.c.id, article.c.title, article.c.url, article.c.published, article.c.status
            )
            .order_by(article.c.published.desc(), article.c.id.desc())
            .limit(limit)
        )
        with self.read() as conn:
            return list(conn.execute(query).all())

    def version(self) -> int:
        """A number that grows whenever any article changes."""
        with self.read() as conn:
            return int(conn.execute(sa.select(change_counter.c.version)).scalar_one())

    def ping(self) -> None:
        with self.read() as conn:
            conn.execute(sa.text("SELECT 1"))

    def _load(self, conn: Connection, article_id: str) -> Article | None:
        row = conn.execute(sa.select(article).where(article.c.id == article_id)).first()
        return _with_terms(conn, [row])[0] if row else None


def insert_into(table: sa.Table, dialect: str) -> Any:
    """The dialect's INSERT for *table*, which knows ``ON CONFLICT`` on both backends."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def content_hash(item: Article) -> str:
    """Hash of everything a reader sees; equal hashes mean "nothing changed"."""
    image = item.image
    data = [
        item.title,
        item.url,
        item.content_html,
        item.summary,
        item.author,
        [[t.slug, t.label] for t in item.categories],
        [[t.slug, t.label] for t in item.tags],
        [image.url, image.type, image.length, image.width, image.height] if image else None,
        item.published.isoformat(),
        item.source,
    ]
    if item.author_email:  # appended only when set, so older digests stay valid
        data.append(item.author_email)
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


READ_ONLY = "syndicate_read_only"


def _store_error(what: str, exc: sa.exc.OperationalError) -> StoreError:
    text = str(exc.orig)
    if "locked" in text or "busy" in text:
        return StoreBusy(f"database {what} waited too long for another writer: {text}")
    return StoreError(f"database {what} failed: {text}")


def _reason(exc: sa.exc.StatementError) -> str:
    text = str(exc.orig if exc.orig is not None else exc).splitlines()[0]
    return text[:300]


def _epoch() -> datetime:
    return datetime.fromtimestamp(0).astimezone()


def _bump(conn: Connection, now: datetime) -> None:
    conn.execute(
        change_counter.update().values(version=change_counter.c.version + 1, changed_at=now)
    )


def _row(item: Article, digest: str) -> dict[str, Any]:
    image = item.image
    return {
        "id": item.id,
        "guid": item.guid,
        "source": item.source,
        "url": item.url,
        "title": item.title,
        "summary": item.summary,
        "content_html": item.content_html,
        "author": item.author,
        "author_slug": item.author_slug,
        "author_email": item.author_email,
        "image_url": image.url if image else None,
        "image_type": image.type if image else None,
        "image_length": image.length if image else None,
        "image_width": image.width if image else None,
        "image_height": image.height if image else None,
        "published": item.published,
        "updated": item.updated,
        "status": item.status,
        "content_hash": digest,
    }


def _write_terms(conn: Connection, items: Sequence[Article]) -> None:
    rows = [
        {
            "article_id": item.id,
            "kind": kind,
            "slug": term.slug,
            "label": term.label,
            "position": pos,
        }
        for item in items
        for kind, terms in (("category", item.categories), ("tag", item.tags))
        for pos, term in enumerate(terms)
    ]
    if rows:
        conn.execute(article_term.insert(), rows)


def _unique(terms: Iterable[Term]) -> tuple[Term, ...]:
    seen: dict[str, Term] = {}
    for term in terms:
        seen.setdefault(term.slug, term)
    return tuple(seen.values())


class _Existing(NamedTuple):
    guid: str
    content_hash: str
    status: str
    published: datetime
    updated: datetime


def _existing(conn: Connection, ids: Sequence[str]) -> dict[str, _Existing]:
    """What the store holds for *ids*, fetched in chunks rather than one query each."""
    cols = (
        article.c.id,
        article.c.guid,
        article.c.content_hash,
        article.c.status,
        article.c.published,
        article.c.updated,
    )
    found: dict[str, _Existing] = {}
    unique_ids = list(dict.fromkeys(ids))
    for start in range(0, len(unique_ids), 500):
        chunk = unique_ids[start : start + 500]
        for row in conn.execute(sa.select(*cols).where(article.c.id.in_(chunk))):
            found[row.id] = _Existing(*row[1:])
    return found


def _with_terms(conn: Connection, rows: Sequence[Any]) -> list[Article]:
    if not rows:
        return []
    ids = [r.id for r in rows]
    terms: dict[str, dict[str, list[Term]]] = {i: {"category": [], "tag": []} for i in ids}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for t in conn.execute(
            sa.select(article_term)
            .where(article_term.c.article_id.in_(chunk))
            .order_by(article_term.c.article_id, article_term.c.kind, article_term.c.position)
        ):
            terms[t.article_id][t.kind].append(Term(t.slug, t.label))
    return [_article(r, terms[r.id]) for r in rows]


def _article(row: Any, terms: dict[str, list[Term]]) -> Article:
    image = (
        Image(row.image_url, row.image_type, row.image_length, row.image_width, row.image_height)
        if row.image_url
        else None
    )
    return Article(
        id=row.id,
        title=row.title,
        url=row.url,
        content_html=row.content_html,
        summary=row.summary,
        author=row.author,
        published=row.published,
        updated=row.updated,
        categories=tuple(terms["category"]),
        tags=tuple(terms["tag"]),
        image=image,
        source=row.source,
        guid=row.guid,
        status=row.status,
        author_email=row.author_email,
    )
