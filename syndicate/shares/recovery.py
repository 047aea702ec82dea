"""Recovery: expired leases are swept, unknown outcomes reconciled through the adapter.

The unknown-outcome rule (docs/reliability.md §2.3): a job that may have been posted never
goes back to pending without a lookup that proves it absent, or an operator.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from syndicate import metrics
from syndicate.adapters.base import Outcome, ShareResult
from syndicate.shares import db
from syndicate.shares.ledger import State, after_lookup
from syndicate.shares.posting import posted_values
from syndicate.store.schema import share

if TYPE_CHECKING:
    from syndicate.shares.outbox import Outbox

log = logging.getLogger(__name__)
LOOKUP_WINDOW = timedelta(minutes=15)


def sweep(outbox: Outbox, now: datetime | None = None) -> int:
    """Expired leases: claimed → pending (nothing sent), in_flight → unknown (maybe sent)."""
    now = now or outbox.now()
    working = (State.CLAIMED, State.IN_FLIGHT, State.RECONCILING)
    with outbox.store.begin() as conn:
        rows = db.rows(conn, share.c.state.in_(working), share.c.lease_until < now)
        for row in rows:
            if row.state == State.CLAIMED:
                db.move(
                    conn,
                    row,
                    State.PENDING,
                    "sweeper",
                    now,
                    "lease expired before sending",
                    **db.unlease(),
                )
            elif row.state == State.IN_FLIGHT:
                db.move(
                    conn,
                    row,
                    State.UNKNOWN,
                    "sweeper",
                    now,
                    "lease expired while in flight: outcome unknown",
                    **db.unlease(),
                    was_unknown=True,
                    last_error_kind="unknown",
                    last_error="worker stopped while the request was in flight",
                )
                metrics.share_unknown.labels(network=row.network).inc()
            else:
                db.move(
                    conn,
                    row,
                    State.UNKNOWN,
                    "sweeper",
                    now,
                    "reconciliation interrupted",
                    **db.unlease(),
                )
    return len(rows)


def reconcile(outbox: Outbox, owner: str, now: datetime | None = None, limit: int = 20) -> int:
    """Look unknown jobs up through their adapter: found → sent, else review (or resend)."""
    now = now or outbox.now()
    lease = timedelta(seconds=outbox.option("lease_seconds", 120))
    with outbox.store.begin() as conn:
        rows = conn.execute(
            sa.select(share)
            .where(share.c.state == State.UNKNOWN)
            .order_by(share.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            db.move(
                conn,
                row,
                State.RECONCILING,
                owner,
                now,
                None,
                lease_owner=owner,
                lease_until=now + lease,
            )
    for row in rows:
        _reconcile_one(outbox, row, owner, now)
    return len(rows)


def _reconcile_one(outbox: Outbox, row: Row[Any], owner: str, now: datetime) -> None:
    account = outbox.enabled_accounts().get(f"{row.network}:{row.account}")
    adapter = outbox.sharing.adapter(row.network) if account else None
    found: ShareResult | None = None
    if account is None or adapter is None or not adapter.can_lookup:
        dst, detail = State.NEEDS_REVIEW, "no lookup possible: check the account by hand"
    else:
        since = (row.in_flight_at or row.updated_at) - LOOKUP_WINDOW
        try:
            found = adapter.lookup(account, row.share_key, since)
        except Exception as exc:  # an inconclusive lookup: try again later
            found = ShareResult(Outcome.UNKNOWN, reason=f"lookup raised {type(exc).__name__}")
        settle = timedelta(seconds=outbox.option("settle_seconds", 60))
        dst = after_lookup(
            found,
            authoritative=bool(adapter.capabilities().get("lookup_authoritative")),
            settled=now - (row.in_flight_at or row.updated_at) >= settle,
            tries=row.lookups,
        )
        detail = {
            State.SENT: "found on the network",
            State.PENDING: "absent: safe to send",
            State.NEEDS_REVIEW: "not found: check by hand",
            State.UNKNOWN: "lookup inconclusive",
        }[dst]
    with outbox.store.begin() as conn:
        current = db.lock(conn, row.id)
        if current.state != State.RECONCILING or current.lease_owner != owner:
            return
        values: dict[str, Any] = db.unlease() | {"lookups": current.lookups + 1}
        if dst == State.SENT and found is not None:
            values |= posted_values(found, current)
        elif dst == State.PENDING:
            values["next_attempt_at"] = now
        db.move(conn, current, dst, owner, now, detail, **values)
