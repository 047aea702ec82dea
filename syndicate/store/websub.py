"""The ``websub_ping`` outbox: hub pings waiting to be sent, with their backoff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from syndicate.store import Store, insert_into
from syndicate.store.schema import websub_ping


def queue_pings(store: Store, topics: Sequence[str], now: datetime) -> None:
    """Queue one ping per topic (an existing row is made due now, attempts reset)."""
    rows = [{"topic": t, "due_at": now, "attempts": 0, "last_error": None} for t in topics]
    stmt = insert_into(websub_ping, store.dialect).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[websub_ping.c.topic],
        set_={"due_at": now, "attempts": 0, "last_error": None},
    )
    with store.begin() as conn:
        conn.execute(stmt)


def due_pings(store: Store, now: datetime, limit: int) -> list[tuple[str, int]]:
    """(topic, attempts so far) of the pings due at *now*, most overdue first."""
    with store.read() as conn:
        rows = conn.execute(
            sa.select(websub_ping.c.topic, websub_ping.c.attempts)
            .where(websub_ping.c.due_at <= now)
            .order_by(websub_ping.c.due_at)
            .limit(limit)
        ).all()
    return [(topic, attempts) for topic, attempts in rows]


def drop_ping(store: Store, topic: str) -> None:
    """Forget the ping of *topic* (sent, or given up)."""
    with store.begin() as conn:
        conn.execute(websub_ping.delete().where(websub_ping.c.topic == topic))


def delay_ping(store: Store, topic: str, attempts: int, due: datetime, error: str) -> None:
    """Record a failed ping: its attempt count, when to try again and why it failed."""
    with store.begin() as conn:
        conn.execute(
            websub_ping.update()
            .where(websub_ping.c.topic == topic)
            .values(attempts=attempts, due_at=due, last_error=error[:1000])
        )
