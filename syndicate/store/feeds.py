"""Feed state in the database: the catalog of feeds, their aliases, and their validators.

Every process and node reads the same rows, so all of them give the same
``Last-Modified`` for the same bytes. The rules (docs/feeds.md, "Feed state"):

- A feed enters the catalog the first time it is rendered and never leaves it: a section
  whose articles are all edited away or unpublished is re-rendered as an empty feed.
- ``last_modified`` of an output changes only when its digest changes, and then to
  ``max(now, previous + 1 s)`` in whole seconds: strictly increasing, so a client that
  sends only ``If-Modified-Since`` sees every change, whatever the entries' own dates.
- A feed that fails to render is marked ``failing`` with a retry time (backoff); the
  others carry on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syndicate.store import Store, insert_into
from syndicate.store.schema import feed, feed_alias, feed_output

FILE_VARIANT = ""
RETRY_BASE_SECONDS = 30.0
RETRY_MAX_SECONDS = 3600.0
ERROR_LIMIT = 1000

OutputKey = tuple[str, str, str]  # (name, format, variant)


@dataclass(frozen=True, slots=True)
class Output:
    """What the database knows of one published representation."""

    digest: str
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One feed of the catalog."""

    name: str
    kind: str
    slug: str
    label: str
    state: str = "ok"
    failures: int = 0
    next_attempt_at: datetime | None = None
    failed_at: datetime | None = None
    last_error: str | None = None


def variant_of(limit: int | None = None, page: int | None = None) -> str:
    """The query of a representation: ``""`` (the file), ``limit=N`` or ``page=N``."""
    if limit is not None:
        return f"limit={limit}"
    return f"page={page}" if page is not None else FILE_VARIANT


def next_modified(previous: datetime | None, now: datetime) -> datetime:
    """The new Last-Modified: *now* in whole seconds, and after *previous* by at least 1 s."""
    current = now.replace(microsecond=0)
    if previous is None:
        return current
    return max(current, previous.replace(microsecond=0) + timedelta(seconds=1))


def retry_delay(failures: int) -> float:
    """Seconds before retrying a feed that failed *failures* times in a row."""
    return min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2.0 ** max(0, failures - 1))


class FeedState:
    """The feed tables, for one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- catalog ----------------------------------------------------------------------

    def catalog(self) -> list[CatalogEntry]:
        with self.store.read() as conn:
            rows = conn.execute(sa.select(feed).order_by(feed.c.name)).all()
        return [_entry(row) for row in rows]

    def remember(self, entries: Iterable[CatalogEntry], now: datetime) -> None:
        """Add the feeds the catalog does not hold yet (known ones are left alone)."""
        wanted = {e.name: e for e in entries}
        if not wanted:
            return
        names = list(wanted)
        known: set[str] = set()
        with self.store.read() as conn:
            for start in range(0, len(names), 500):
                chunk = names[start : start + 500]
                known.update(
                    conn.execute(sa.select(feed.c.name).where(feed.c.name.in_(chunk))).scalars()
                )
        rows = [
            {"name": e.name, "kind": e.kind, "slug": e.slug, "label": e.label, "created_at": now}
            for e in wanted.values()
            if e.name not in known
        ]
        if rows:
            stmt = insert_into(feed, self.store.dialect).values(rows).on_conflict_do_nothing()
            with self.store.begin() as conn:
                conn.execute(stmt)

    def aliases(self) -> dict[str, str]:
        """Old name -> current name."""
        with self.store.read() as conn:
            return dict(conn.execute(sa.select(feed_alias.c.alias, feed_alias.c.name)).all())

    # -- outputs ----------------------------------------------------------------------

    def outputs(self, variant: str | None = FILE_VARIANT) -> dict[OutputKey, Output]:
        """Every output (of *variant*, or all when None)."""
        query = sa.select(feed_output)
        if variant is not None:
            query = query.where(feed_output.c.variant == variant)
        with self.store.read() as conn:
            return {
                (r.name, r.format, r.variant): Output(r.digest, r.last_modified)
                for r in conn.execute(query)
            }

    def output(self, key: OutputKey) -> Output | None:
        return self.outputs_of([key]).get(key)

    def outputs_of(self, keys: Sequence[OutputKey]) -> dict[OutputKey, Output]:
        with self.store.read() as conn:
            return _rows(conn, list(keys))

    def record(self, digests: dict[OutputKey, str], now: datetime) -> dict[OutputKey, Output]:
        """Store new digests; an output whose digest changed gets a new Last-Modified.

        Runs in one write transaction that re-reads the rows, so two processes recording
        the same bytes agree on one time, and a changed digest always moves it forward.
        """
        if not digests:
            return {}
        out: dict[OutputKey, Output] = {}
        with self.store.begin() as conn:
            if self.store.dialect == "postgresql":
                # Serialise recorders; the lock ends with the transaction.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74737308)")
            stored = _rows(conn, list(digests))
            for key, digest in digests.items():
                old = stored.get(key)
                if old is not None and old.digest == digest:
                    out[key] = old
                    continue
                new = Output(digest, next_modified(old.last_modified if old else None, now))
                _upsert_output(conn, self.store.dialect, key, new)
                out[key] = new
        return out

    def variants(self, name: str, fmt: str) -> list[str]:
        """The ``?limit=N`` variants of a feed that have been served (WebSub topics)."""
        with self.store.read() as conn:
            return list(
                conn.execute(
                    sa.select(feed_output.c.variant).where(
                        feed_output.c.name == name,
                        feed_output.c.format == fmt,
                        feed_output.c.variant != FILE_VARIANT,
                    )
                ).scalars()
            )

    # -- health -----------------------------------------------------------------------

    def mark_failed(self, name: str, error: str, now: datetime) -> int:
        """Count one more failure and set the retry time; returns failures in a row."""
        with self.store.begin() as conn:
            failures = 1 + int(
                conn.execute(sa.select(feed.c.failures).where(feed.c.name == name)).scalar() or 0
            )
            conn.execute(
                feed.update()
                .where(feed.c.name == name)
                .values(
                    state="failing",
                    failures=failures,
                    failed_at=now,
                    next_attempt_at=now + timedelta(seconds=retry_delay(failures)),
                    last_error=error[:ERROR_LIMIT],
                )
            )
        return failures

    def mark_ok(self, names: Iterable[str]) -> None:
        names = list(names)
        if not names:
            return
        with self.store.begin() as conn:
            conn.execute(
                feed.update()
                .where(feed.c.name.in_(names))
                .values(state="ok", failures=0, next_attempt_at=None, last_error=None)
            )

    def failing(self) -> list[CatalogEntry]:
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(feed).where(feed.c.state == "failing").order_by(feed.c.name)
            ).all()
        return [_entry(row) for row in rows]


def feed_alerts(state: FeedState) -> list[dict[str, Any]]:
    """One operator alert per failing feed (the admin page lists them)."""
    return [
        {
            "kind": "feed",
            "feed": entry.name,
            "failures": entry.failures,
            "next_attempt_at": entry.next_attempt_at.isoformat() if entry.next_attempt_at else None,
            "message": f"feed {entry.name} fails to render ({entry.failures} in a row, "
            f"retrying with backoff): {entry.last_error or 'no detail'}",
        }
        for entry in state.failing()
    ]


def _entry(row: Any) -> CatalogEntry:
    return CatalogEntry(
        row.name,
        row.kind,
        row.slug,
        row.label,
        row.state,
        row.failures,
        row.next_attempt_at,
        row.failed_at,
        row.last_error,
    )


def _rows(conn: Connection, keys: list[OutputKey]) -> dict[OutputKey, Output]:
    names = list({k[0] for k in keys})
    wanted = set(keys)
    found: dict[OutputKey, Output] = {}
    for start in range(0, len(names), 500):
        query = sa.select(feed_output).where(feed_output.c.name.in_(names[start : start + 500]))
        for r in conn.execute(query):
            key = (r.name, r.format, r.variant)
            if key in wanted:
                found[key] = Output(r.digest, r.last_modified)
    return found


def _upsert_output(conn: Connection, dialect: str, key: OutputKey, new: Output) -> None:
    name, fmt, variant = key
    values = {"digest": new.digest, "last_modified": new.last_modified}
    stmt = insert_into(feed_output, dialect).values(
        name=name, format=fmt, variant=variant, **values
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[feed_output.c.name, feed_output.c.format, feed_output.c.variant],
            set_=values,
        )
    )
