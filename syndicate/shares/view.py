"""Read-side of the share ledger: job listings, alerts, and numbers for /metrics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Row

from syndicate import adapters as registry
from syndicate.errors import AdapterNotFound
from syndicate.shares.ledger import State
from syndicate.store.schema import share, share_account, share_event, worker_heartbeat

if TYPE_CHECKING:
    from syndicate.store import Store

LIST_FIELDS = (
    "article",
    "network",
    "account",
    "state",
    "attempts",
    "next_attempt_at",
    "remote_id",
    "permalink",
    "last_error",
)
UNKNOWN_ALERT_AFTER = timedelta(minutes=10)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def network_label(network: str) -> str:
    """The network's name as its adapter spells it ("LinkedIn"), else capitalised."""
    try:
        return registry.load(network).label
    except AdapterNotFound:
        return network.capitalize()


def job_dict(row: Row[Any]) -> dict[str, Any]:
    """One job as JSON: the listed fields plus what an operator needs to act on it."""
    return {
        "id": row.id,
        "article": row.article_id,
        "network": row.network,
        "account": row.account,
        "state": row.state,
        "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at),
        "remote_id": row.remote_id,
        "permalink": row.permalink,
        "last_error": row.last_error,
        "last_error_kind": row.last_error_kind,
        "share_key": row.share_key,
        "dry_run": bool(row.dry_run),
        "sent_at": _iso(row.sent_at),
        "updated_at": _iso(row.updated_at),
    }


def list_jobs(
    store: Store,
    *,
    article: str | None = None,
    state: str | None = None,
    network: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Jobs filtered by article id, state and network, newest first."""
    query = sa.select(share).order_by(share.c.id.desc()).limit(limit)
    for column, value in (
        (share.c.article_id, article),
        (share.c.state, state),
        (share.c.network, network),
    ):
        if value:
            query = query.where(column == value)
    with store.read() as conn:
        return [job_dict(r) for r in conn.execute(query)]


def get_job(store: Store, job_id: int) -> dict[str, Any] | None:
    """One job by id, or None."""
    with store.read() as conn:
        row = conn.execute(sa.select(share).where(share.c.id == job_id)).first()
    return job_dict(row) if row is not None else None


def jobs_for_article(store: Store, article_id: str) -> list[dict[str, Any]]:
    """Every job of one article (for the article's share JSON), by network and account."""
    query = (
        sa.select(share)
        .where(share.c.article_id == article_id)
        .order_by(share.c.network, share.c.account)
    )
    with store.read() as conn:
        return [job_dict(r) for r in conn.execute(query)]


def marker_for(store: Store, article_id: str, network: str, account: str) -> str | None:
    """The share key of the article's job on the account, or None when it has none yet."""
    query = sa.select(share.c.share_key).where(
        share.c.article_id == article_id, share.c.network == network, share.c.account == account
    )
    with store.read() as conn:
        value: str | None = conn.execute(query).scalar()
    return value


def request_preview(store: Store, job_id: int) -> str | None:
    """The recorded (redacted) request of a job: what was, or in a dry run would be, sent."""
    with store.read() as conn:
        value = conn.execute(sa.select(share.c.request_preview).where(share.c.id == job_id))
        return value.scalar()


def events(store: Store, job_id: int) -> list[dict[str, Any]]:
    """The audit trail of one job, oldest first."""
    query = (
        sa.select(share_event).where(share_event.c.share_id == job_id).order_by(share_event.c.id)
    )
    with store.read() as conn:
        return [
            {
                "at": _iso(e.at),
                "from": e.from_state,
                "to": e.to_state,
                "actor": e.actor,
                "detail": e.detail,
            }
            for e in conn.execute(query)
        ]


def alerts(store: Store, now: datetime) -> list[dict[str, Any]]:
    """What needs a human: held accounts, jobs to review, old unknowns, dead jobs."""
    found: list[dict[str, Any]] = []
    with store.read() as conn:
        for acct in conn.execute(
            sa.select(share_account)
            .where(share_account.c.held_reason.is_not(None))
            .order_by(share_account.c.network)
        ):
            label = network_label(acct.network)
            found.append(
                {
                    "kind": "reconnect",
                    "network": acct.network,
                    "account": acct.account,
                    "message": f"reconnect {label} account @{acct.account}: {acct.held_reason}",
                }
            )
        stuck = sa.or_(
            share.c.state.in_((State.NEEDS_REVIEW, State.DEAD)),
            sa.and_(share.c.state == State.UNKNOWN, share.c.updated_at < now - UNKNOWN_ALERT_AFTER),
            # held for a configuration problem (not an account hold): nothing else says so
            sa.and_(share.c.state == State.HELD, share.c.last_error_kind == "config"),
        )
        for row in conn.execute(sa.select(share).where(stuck).order_by(share.c.id).limit(100)):
            found.append(
                {
                    "kind": "config" if row.last_error_kind == "config" else row.state,
                    "network": row.network,
                    "account": row.account,
                    "job": row.id,
                    "article": row.article_id,
                    "message": f"share {row.id} ({row.network} @{row.account}, article "
                    f"{row.article_id}) is {row.state}: {row.last_error or 'no detail'}",
                }
            )
    return found


def articles_with_jobs(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    """Recent articles with each of their jobs, for the operator page."""
    arts = store.article_summaries(limit)
    ids = [a.id for a in arts]
    with store.read() as conn:
        rows = (
            conn.execute(
                sa.select(share)
                .where(share.c.article_id.in_(ids))
                .order_by(share.c.network, share.c.account)
            ).all()
            if ids
            else []
        )
    jobs: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    for row in rows:
        jobs[row.article_id].append(job_dict(row))
    return [
        {
            "id": a.id,
            "title": a.title,
            "url": a.url,
            "published": _iso(a.published),
            "status": a.status,
            "shares": jobs[a.id],
        }
        for a in arts
    ]


# -- numbers for /metrics and /readyz -----------------------------------------------------


def state_counts(store: Store) -> dict[str, int]:
    """How many jobs are in each state (every state listed, zeros included)."""
    with store.read() as conn:
        rows = conn.execute(sa.select(share.c.state, sa.func.count()).group_by(share.c.state))
        counts = {state: count for state, count in rows}
    return {s.value: int(counts.get(s.value, 0)) for s in State}


def oldest_pending_age(store: Store, now: datetime) -> float:
    """Seconds the longest-due pending job has waited past its due time (0 if none)."""
    with store.read() as conn:
        oldest: datetime | None = conn.execute(
            sa.select(sa.func.min(share.c.next_attempt_at)).where(
                share.c.state.in_((State.PENDING, State.RETRY_WAIT))
            )
        ).scalar()
    if oldest is None:
        return 0.0
    return max((now - oldest).total_seconds(), 0.0)


def outcome_counts(store: Store) -> dict[tuple[str, str], int]:
    """Posting outcomes so far, from the audit trail: (network, outcome) → count."""
    query = (
        sa.select(share_event.c.network, share_event.c.to_state, sa.func.count())
        .where(share_event.c.from_state.in_((State.IN_FLIGHT, State.RECONCILING)))
        .group_by(share_event.c.network, share_event.c.to_state)
    )
    with store.read() as conn:
        return {(n, s): int(c) for n, s, c in conn.execute(query)}


def last_heartbeat(store: Store) -> datetime | None:
    """When any worker last reported alive."""
    with store.read() as conn:
        value: datetime | None = conn.execute(
            sa.select(sa.func.max(worker_heartbeat.c.beat_at))
        ).scalar()
    return value
