"""Upstream tables: ``upstream_state`` (conditional-GET validators, when to poll next) and
``upstream_poll`` (what the last poll of each upstream did, and running totals)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from syndicate.store import Store, insert_into
from syndicate.store.schema import upstream_poll, upstream_state


def load_state(store: Store, name: str) -> dict[str, Any] | None:
    """The stored state row of upstream *name*, or None before its first poll."""
    with store.read() as conn:
        row = conn.execute(sa.select(upstream_state).where(upstream_state.c.name == name)).first()
    return dict(row._mapping) if row else None


def save_state(store: Store, name: str, values: Mapping[str, Any]) -> None:
    """Insert or replace the state row of upstream *name*."""
    with store.begin() as conn:
        updated = conn.execute(
            upstream_state.update().where(upstream_state.c.name == name).values(dict(values))
        )
        if not updated.rowcount:
            conn.execute(upstream_state.insert().values(name=name, **values))


def save_poll(
    store: Store, name: str, values: Callable[[Mapping[str, Any] | None], dict[str, Any]]
) -> None:
    """Write the last-poll row of upstream *name*; *values* gets the old running totals."""
    with store.begin() as conn:
        row = conn.execute(
            sa.select(upstream_poll.c.totals).where(upstream_poll.c.name == name)
        ).first()
        new = values(row.totals if row else None)
        if row is None:
            # Two workers polling a new upstream at once: the later one's row wins.
            insert = insert_into(upstream_poll, conn.dialect.name)
            conn.execute(
                insert.values(name=name, **new).on_conflict_do_update(
                    index_elements=[upstream_poll.c.name], set_=new
                )
            )
        else:
            conn.execute(upstream_poll.update().where(upstream_poll.c.name == name).values(new))


def polls_and_states(
    store: Store,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Every upstream's last-poll row and state row, by upstream name."""
    with store.read() as conn:
        polls = {r.name: dict(r._mapping) for r in conn.execute(sa.select(upstream_poll))}
        states = {r.name: dict(r._mapping) for r in conn.execute(sa.select(upstream_state))}
    return polls, states
