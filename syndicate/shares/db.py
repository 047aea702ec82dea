"""Ledger building blocks: locked reads, audited transitions, per-account state.

Every state change of a share job goes through :func:`move`, which checks the
transition against :mod:`syndicate.shares.ledger` and writes its ``share_event`` row in the
same transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from syndicate.shares.ledger import CLAIMABLE, ShareNotFound, State, check_transition, share_key
from syndicate.store import insert_into
from syndicate.store.schema import share, share_account, share_event

log = logging.getLogger(__name__)


def unlease() -> dict[str, Any]:
    return {"lease_owner": None, "lease_until": None}


def fresh(row: Row[Any], now: datetime) -> dict[str, Any]:
    generation = row.generation + 1
    return {
        "generation": generation,
        "share_key": share_key(row.article_id, row.network, row.account, generation),
        "attempts": 0,
        "lookups": 0,
        "remote_id": None,
        "permalink": None,
        "sent_at": None,
        "was_unknown": False,
        "dry_run": False,
        "ready_at": now,
        "next_attempt_at": now,
        "last_error_kind": None,
        "last_error": None,
    }


# -- transitions ----------------------------------------------------------------------


def rows(conn: Connection, *where: Any, lock: bool = True) -> list[Row[Any]]:
    query = sa.select(share).where(*where).order_by(share.c.id)
    return list(conn.execute(query.with_for_update() if lock else query))


def lock(conn: Connection, job_id: int) -> Row[Any]:
    found = rows(conn, share.c.id == job_id)
    if not found:
        raise ShareNotFound(job_id)
    return found[0]


def move(
    conn: Connection,
    row: Row[Any],
    dst: State,
    actor: str,
    now: datetime,
    detail: str | None = None,
    **values: Any,
) -> None:
    """Apply one allowed transition to a locked row, with its audit event."""
    check_transition(row.state, dst)
    conn.execute(
        share.update()
        .where(share.c.id == row.id, share.c.state == row.state)
        .values(state=dst, updated_at=now, **values)
    )
    event(conn, row.id, row.network, row.state, dst, actor, detail, now)


def event(
    conn: Connection,
    share_id: int,
    network: str,
    src: str | None,
    dst: str,
    actor: str,
    detail: str | None,
    now: datetime,
) -> None:
    conn.execute(
        share_event.insert().values(
            share_id=share_id,
            network=network,
            at=now,
            from_state=src,
            to_state=dst,
            actor=actor,
            detail=(detail or "")[:1000] or None,
        )
    )


def account_row(conn: Connection, network: str, account: str) -> Row[Any]:
    conn.execute(
        insert_into(share_account, conn.dialect.name)
        .values(network=network, account=account)
        .on_conflict_do_nothing(index_elements=["network", "account"])
    )
    query = sa.select(share_account).where(
        share_account.c.network == network, share_account.c.account == account
    )
    return conn.execute(query.with_for_update()).one()


def held_accounts(conn: Connection) -> dict[str, str]:
    """``network:account`` -> why it is held, for each account waiting for new credentials."""
    query = sa.select(
        share_account.c.network, share_account.c.account, share_account.c.held_reason
    ).where(share_account.c.held_reason.is_not(None))
    return {f"{network}:{account}": str(reason) for network, account, reason in conn.execute(query)}


def update_account(conn: Connection, network: str, account: str, **values: Any) -> None:
    account_row(conn, network, account)
    conn.execute(
        share_account.update()
        .where(share_account.c.network == network, share_account.c.account == account)
        .values(**values)
    )


def hold_account(conn: Connection, network: str, account: str, reason: str, now: datetime) -> None:
    """Hold every open job of one account until it is reconnected; others keep posting."""
    update_account(conn, network, account, held_reason=reason[:500] or "auth failed", held_at=now)
    for other in rows(
        conn, share.c.network == network, share.c.account == account, share.c.state.in_(CLAIMABLE)
    ):
        move(conn, other, State.HELD, "auth-hold", now, "account held: reconnect needed")


def release_account(
    conn: Connection, network: str, account: str, actor: str, now: datetime
) -> None:
    """Lift an account's hold: its held jobs go back to pending."""
    update_account(conn, network, account, held_reason=None, held_at=None)
    for row in rows(
        conn, share.c.network == network, share.c.account == account, share.c.state == State.HELD
    ):
        move(conn, row, State.PENDING, actor, now, "account released", next_attempt_at=now)
