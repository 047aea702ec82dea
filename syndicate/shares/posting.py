"""The posting worker: claim a due job, commit it in flight, send, record; recover.

The promise (docs/reliability.md §2.1): each (article, network, account) is posted at most
once automatically; an unknown outcome is reconciled or flagged, never retried blindly.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import socket
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from syndicate import metrics
from syndicate.adapters.base import Account, Outcome, ShareAdapter, ShareRequest, ShareResult
from syndicate.shares import db
from syndicate.shares.ledger import (
    CLAIMABLE,
    WORKING,
    Bucket,
    Pacing,
    RetryPolicy,
    State,
    decide,
    take_token,
)
from syndicate.store.schema import share, share_account

if TYPE_CHECKING:
    from syndicate.shares.outbox import Outbox

log = logging.getLogger(__name__)


CRASHPOINT_ENV = "SYNDICATE_CRASHPOINT"  # test hook: "<point>[@<nth>]" → SIGKILL self
_rng = random.Random()
_crash_hits: Counter[str] = Counter()


@dataclass(frozen=True)
class Job:
    """A claimed job, as the worker needs it."""

    id: int
    article_id: str
    network: str
    account: str
    share_key: str


def owner_id() -> str:
    """This process's lease owner name."""
    return f"{socket.gethostname()}:{os.getpid()}"


def crashpoint(name: str) -> None:
    """Kill this process at a named step when the crash test asks for it."""
    spec = os.environ.get(CRASHPOINT_ENV, "")
    point, _, nth = spec.partition("@")
    if point == name:
        _crash_hits[name] += 1
        if _crash_hits[name] >= int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)


# -- claiming ---------------------------------------------------------------------------


def claim(outbox: Outbox, owner: str, now: datetime | None = None) -> Job | None:
    """Atomically lease one due job whose account is free, or None.

    Cost is O(accounts × log jobs), whatever the backlog: the free accounts come from
    ``share_account`` and the busy check reads the partial index of working jobs; each
    free account's earliest due job is one descent of ``ix_share_claim``. Across accounts
    the job due longest goes first.

    SQLite: the transaction is ``BEGIN IMMEDIATE``, so the conditional UPDATE is alone.
    PostgreSQL: the conditional UPDATE re-checks the state after any row lock; the
    partial unique index on working jobs per account turns a lost race into an
    IntegrityError, and the savepoint lets us move on to the next candidate.
    """
    now = now or outbox.now()
    lease = timedelta(seconds=outbox.option("lease_seconds", 120))
    # A claim lost to a power cut is harmless (nothing was sent; the job is due again),
    # and the in-flight commit that must reach the disk flushes it anyway.
    with outbox.store.begin(durable=False) as conn:
        for candidate in due_candidates(conn, now):
            try:
                with conn.begin_nested():
                    row = conn.execute(
                        share.update()
                        .where(
                            share.c.id == candidate.id,
                            share.c.state == candidate.state,
                            share.c.next_attempt_at <= now,
                        )
                        .values(
                            state=State.CLAIMED,
                            lease_owner=owner,
                            lease_until=now + lease,
                            updated_at=now,
                        )
                        .returning(share)
                    ).first()
            except sa.exc.IntegrityError:
                continue  # another worker took this account's slot first
            if row is not None:
                db.event(
                    conn, row.id, row.network, candidate.state, State.CLAIMED, owner, None, now
                )
                return Job(row.id, row.article_id, row.network, row.account, row.share_key)
    return None


def due_candidates(conn: Connection, now: datetime) -> list[Row[Any]]:
    """The earliest due job of every free account, the one due longest first."""
    busy = _busy_accounts(conn)
    free = [
        (a.network, a.account)
        for a in conn.execute(_FREE_ACCOUNTS, {"now": now})
        if (a.network, a.account) not in busy
    ]
    ids = [
        job_id
        for network, account in free
        for job_id in conn.execute(
            _EARLIEST_DUE, {"now": now, "network": network, "account": account}
        ).one()
        if job_id is not None
    ]
    if not ids:
        return []
    query = (
        sa.select(share.c.id, share.c.state, share.c.next_attempt_at)
        .where(share.c.id.in_(ids))
        .order_by(share.c.next_attempt_at, share.c.id)
    )
    return list(conn.execute(query))


def states_in(column: sa.ColumnElement[str], states: Iterable[str]) -> sa.ColumnElement[bool]:
    """``column IN ('a', 'b')`` with the values written into the SQL, never bound.

    A partial index ``WHERE state IN ('claimed', 'in_flight')`` can only serve a query
    whose condition visibly implies it. Bound values turn into ``state = ANY($1)`` under
    a prepared (generic) plan on PostgreSQL, which the planner cannot match to the index.
    """
    values = [str(state) for state in states]
    return column.in_(sa.bindparam(f"in_{'_'.join(values)}", values, literal_execute=True))


def _busy_accounts(conn: Connection) -> set[tuple[str, str]]:
    query = sa.select(share.c.network, share.c.account).where(states_in(share.c.state, WORKING))
    return {(r.network, r.account) for r in conn.execute(query)}


def _free_accounts_query() -> sa.Select[Any]:
    now = sa.bindparam("now", type_=share_account.c.blocked_until.type)
    acct = share_account.c
    return sa.select(acct.network, acct.account).where(
        acct.held_reason.is_(None),
        sa.or_(acct.blocked_until.is_(None), acct.blocked_until <= now),
        sa.or_(acct.paced_until.is_(None), acct.paced_until <= now),
    )


def _earliest_due_query() -> sa.Select[Any]:
    """One row: per claimable state, the id of the account's earliest due job (or NULL)."""
    now = sa.bindparam("now", type_=share.c.next_attempt_at.type)
    network = sa.bindparam("network", type_=share.c.network.type)
    account = sa.bindparam("account", type_=share.c.account.type)

    def earliest(state: str) -> sa.ScalarSelect[Any]:
        return (
            sa.select(share.c.id)
            .where(
                share.c.network == network,
                share.c.account == account,
                share.c.state == sa.literal(str(state), literal_execute=True),
                share.c.next_attempt_at <= now,
            )
            .order_by(share.c.next_attempt_at, share.c.id)
            .limit(1)
            .scalar_subquery()
        )

    return sa.select(*(earliest(state).label(str(state)) for state in CLAIMABLE))


_FREE_ACCOUNTS = _free_accounts_query()
_EARLIEST_DUE = _earliest_due_query()


# -- posting -----------------------------------------------------------------------------


def process(outbox: Outbox, job: Job, owner: str) -> str:
    """Take a claimed job through in-flight to its recorded result; returns the end state."""
    account = outbox.enabled_accounts().get(f"{job.network}:{job.account}")
    adapter = _adapter(outbox, job.network)
    started = _start(outbox, job, owner, account, adapter)
    if isinstance(started, str):
        return started
    assert account is not None and adapter is not None  # _start ended the job otherwise
    crashpoint("after_in_flight")
    try:
        result = adapter.send(started, account, outbox.now())
    except Exception as exc:  # the contract says never raise; if it does, assume sent
        log.error("adapter %s raised %s on share %s", job.network, type(exc).__name__, job.id)
        result = ShareResult(Outcome.UNKNOWN, reason=f"adapter raised {type(exc).__name__}")
    crashpoint("after_send")
    state = record(outbox, job.id, result, owner)
    crashpoint("after_record")
    return state


def _start(
    outbox: Outbox,
    job: Job,
    owner: str,
    account: Account | None,
    adapter: ShareAdapter | None,
) -> ShareRequest | str:
    """Commit the job in flight and return its request, or end it here and return its state."""
    article = outbox.store.get_article(job.article_id)
    now = outbox.now()
    with outbox.store.begin() as conn:
        row = db.lock(conn, job.id)
        if row.state != State.CLAIMED or row.lease_owner != owner:
            return str(row.state)  # our lease expired and someone else moved it
        if article is None or article.status != "published":
            return _end(conn, row, State.CANCELLED, owner, now, "article not published")
        if account is None or adapter is None:
            why = "account not configured" if account is None else "no adapter installed"
            return _end(conn, row, State.HELD, owner, now, why, last_error_kind="config")
        try:
            wait_until = _paced(conn, row, account, outbox, now)
        except (ValueError, KeyError, TypeError) as exc:  # bad pacing or rate options
            why = f"bad pacing options for {account.key}: {exc}"
            return _end(conn, row, State.HELD, owner, now, why, last_error_kind="config")
        if wait_until is not None:
            detail = f"paced until {wait_until.isoformat()}"
            return _end(conn, row, State.PENDING, owner, now, detail, next_attempt_at=wait_until)
        try:
            request = outbox.sharing.build_request(article, account, now, marker=row.share_key)
        except Exception as exc:  # any build failure is permanent for this job
            why = f"request could not be built: {exc}"
            return _end(conn, row, State.DEAD, owner, now, why, last_error_kind="build")
        preview = json.dumps(request.preview(), ensure_ascii=False)
        if outbox.sharing.config.dry_run or account.options.get("dry_run"):
            metrics.share_posts.labels(network=job.network, outcome="dry_run").inc()
            detail = "dry run: nothing sent"
            values = {"dry_run": True, "request_preview": preview, "sent_at": now}
            return _end(conn, row, State.SENT, owner, now, detail, **values)
        lease = timedelta(seconds=outbox.option("lease_seconds", 120))
        db.move(
            conn,
            row,
            State.IN_FLIGHT,
            owner,
            now,
            None,
            in_flight_at=now,
            lease_until=now + lease,
            attempts=row.attempts + 1,
            request_preview=preview,
        )
    return request


def _adapter(outbox: Outbox, network: str) -> ShareAdapter | None:
    try:
        return outbox.sharing.adapter(network)
    except LookupError:
        return None


def _end(
    conn: Connection,
    row: Row[Any],
    state: State,
    owner: str,
    now: datetime,
    detail: str,
    **values: Any,
) -> str:
    """Finish a claimed job without sending: release the lease, record why."""
    if state in (State.HELD, State.DEAD):
        values |= {"last_error": detail[:1000]}
    db.move(conn, row, state, owner, now, detail, **db.unlease(), **values)
    return state


def _paced(
    conn: Connection, row: Row[Any], account: Account, outbox: Outbox, now: datetime
) -> datetime | None:
    """When pacing, a rate block or the token bucket says to wait: until when; else None.

    A wait that holds for the whole account (its sending history, the bucket) is stored
    as ``paced_until``, so claims skip the account instead of taking its jobs one by one.
    """
    wait = _job_wait(conn, row, account, outbox, now)
    if wait is not None and row.ready_at <= now:  # else the job's own start time holds it
        db.update_account(conn, row.network, row.account, paced_until=wait)
    return wait


def _job_wait(
    conn: Connection, row: Row[Any], account: Account, outbox: Outbox, now: datetime
) -> datetime | None:
    pacing = Pacing.from_options(account.options, outbox.timezone)
    sends: list[datetime] = []
    if pacing.needs_history:
        sends = list(
            conn.execute(
                sa.select(share.c.sent_at).where(
                    share.c.network == row.network,
                    share.c.account == row.account,
                    share.c.sent_at >= now - timedelta(days=2),
                )
            ).scalars()
        )
    allowed = pacing.earliest(row.ready_at, sends)
    if allowed > now:
        return allowed
    acct = db.account_row(conn, row.network, row.account)
    if acct.blocked_until is not None and acct.blocked_until > now:
        blocked: datetime = acct.blocked_until
        return blocked
    rate = account.options.get("rate")
    if rate:
        bucket = Bucket(acct.tokens, acct.bucket_at) if acct.bucket_at else None
        new, wait = take_token(bucket, float(rate["capacity"]), float(rate["per_seconds"]), now)
        conn.execute(
            share_account.update()
            .where(share_account.c.network == row.network, share_account.c.account == row.account)
            .values(tokens=new.tokens, bucket_at=new.updated_at)
        )
        if wait:
            return now + timedelta(seconds=wait)
    return None


def record(outbox: Outbox, job_id: int, result: ShareResult, owner: str = "worker") -> str:
    """Record one attempt's result on an in-flight job (docs/reliability.md §2.4)."""
    now = outbox.now()
    policy = RetryPolicy.from_options(outbox.ledger)
    # Losing this commit to a power cut leaves the job in flight; the sweeper then calls
    # it unknown and reconciliation finds the post: never a second send.
    with outbox.store.begin(durable=False) as conn:
        row = db.lock(conn, job_id)
        if row.state != State.IN_FLIGHT:
            # The sweeper already called it unknown; only a confirmed post can settle it.
            if result.outcome == Outcome.POSTED and row.state in (State.UNKNOWN, State.RECONCILING):
                db.move(
                    conn,
                    row,
                    State.SENT,
                    owner,
                    now,
                    "late confirmation",
                    **posted_values(result, row),
                )
                return State.SENT
            return str(row.state)
        decision = decide(
            result,
            attempts=row.attempts,
            was_unknown=row.was_unknown,
            now=now,
            policy=policy,
            rng=_rng,
        )
        values: dict[str, Any] = db.unlease() | {
            "last_error_kind": decision.error_kind,
            "last_error": (decision.error or "")[:1000] or None,
        }
        if decision.state == State.SENT:
            values |= posted_values(result, row)
        elif decision.state == State.RETRY_WAIT:
            values["next_attempt_at"] = decision.next_attempt_at
        elif decision.state == State.UNKNOWN:
            values["was_unknown"] = True
            metrics.share_unknown.labels(network=row.network).inc()
        elif decision.state == State.HELD:
            values["attempts"] = max(row.attempts - 1, 0)  # held does not burn attempts
        db.move(conn, row, decision.state, owner, now, decision.error, **values)
        if decision.block_until is not None:
            db.update_account(conn, row.network, row.account, blocked_until=decision.block_until)
        if decision.hold_account:
            db.hold_account(conn, row.network, row.account, decision.error or "auth failed", now)
    metrics.share_posts.labels(network=row.network, outcome=_outcome_label(decision)).inc()
    return decision.state


def posted_values(result: ShareResult, row: Row[Any]) -> dict[str, Any]:
    return {
        "remote_id": result.remote_id,
        "permalink": result.permalink,
        "sent_at": row.in_flight_at or row.updated_at,
        **db.unlease(),
    }


def _outcome_label(decision: Any) -> str:
    if decision.error_kind == "duplicate_content":
        return "duplicate"
    return {State.RETRY_WAIT: "retry"}.get(decision.state, str(decision.state))


def drain(outbox: Outbox, limit: int = 50, owner: str | None = None) -> int:
    """Claim and post due jobs, one at a time, up to *limit*; returns how many were taken.

    Once the service is stopping no new job is claimed; the one in hand is finished.
    """
    owner = owner or owner_id()
    for done in range(limit):
        if outbox.stopping.is_set():
            return done
        job = claim(outbox, owner)
        if job is None:
            return done
        crashpoint("after_claim")
        process(outbox, job, owner)
    return limit
