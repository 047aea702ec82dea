"""The share ledger's public face: queueing with the article, operator actions, ticks.

Rules live in :mod:`syndicate.shares.ledger` (pure); the worker in :mod:`syndicate.shares.posting`;
read-side queries in :mod:`syndicate.shares.view`. The scheduler calls the ``*_job``
functions here.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from syndicate.adapters.base import Account
from syndicate.models import Article
from syndicate.shares import db
from syndicate.shares.ledger import Pacing, State, action_target, ready_at, share_key
from syndicate.shares.posting import drain, owner_id
from syndicate.shares.recovery import reconcile, sweep
from syndicate.shares.view import job_dict
from syndicate.store import insert_into
from syndicate.store.schema import share, share_account, share_event, worker_heartbeat

if TYPE_CHECKING:
    from syndicate.shares.outbox import Outbox
    from syndicate.store import ChangeKind

log = logging.getLogger(__name__)


# -- queueing (runs inside the article's write transaction) ---------------------------


def on_article_write(
    outbox: Outbox, conn: Connection, article: Article, kind: ChangeKind, now: datetime
) -> None:
    """Queue jobs for a newly published article; cancel or re-share on other changes."""
    if article.status != "published":
        if kind == "updated":
            _cancel_open(conn, article.id, now)
        return
    if kind not in ("created", "republished", "updated"):
        return
    if kind == "republished":
        _requeue_unpublished(conn, article.id, now)
    for account in outbox.enabled_accounts().values():
        if kind != "updated":
            enqueue(conn, article.id, account, now, outbox.timezone)
        elif account.options.get("reshare_on_edit"):
            _reshare_sent(conn, article.id, account, now)


def enqueue(
    conn: Connection, article_id: str, account: Account, now: datetime, tz: str
) -> int | None:
    """Insert one job unless it exists (UNIQUE article, network, account); returns its id."""
    try:
        due = ready_at(now, Pacing.from_options(account.options, tz))
    except ValueError:
        due = now  # never fail the article; the worker holds the job, naming the bad option
    values = {
        "article_id": article_id,
        "network": account.network,
        "account": account.name,
        "share_key": share_key(article_id, account.network, account.name),
        "state": State.PENDING,
        "ready_at": due,
        "next_attempt_at": due,
        "created_at": now,
        "updated_at": now,
    }
    insert: Any = insert_into(share, conn.dialect.name).values(values)
    new_id = conn.execute(
        insert.on_conflict_do_nothing(
            index_elements=["article_id", "network", "account"]
        ).returning(share.c.id)
    ).scalar()
    if new_id is not None:
        db.event(conn, new_id, account.network, None, State.PENDING, "publish", "queued", now)
        # The claim finds accounts through their share_account row.
        conn.execute(
            insert_into(share_account, conn.dialect.name)
            .values(network=account.network, account=account.name)
            .on_conflict_do_nothing(index_elements=["network", "account"])
        )
    return new_id


def _cancel_open(conn: Connection, article_id: str, now: datetime) -> None:
    open_states = (State.PENDING, State.RETRY_WAIT, State.HELD)
    for row in db.rows(conn, share.c.article_id == article_id, share.c.state.in_(open_states)):
        db.move(conn, row, State.CANCELLED, UNPUBLISH_ACTOR, now, "article unpublished")


UNPUBLISH_ACTOR = "unpublish"


def _requeue_unpublished(conn: Connection, article_id: str, now: datetime) -> None:
    """Republishing brings back the jobs that unpublishing cancelled, once each.

    A job an operator cancelled stays cancelled; one that was sent is not sent again.
    """
    for row in db.rows(conn, share.c.article_id == article_id, share.c.state == State.CANCELLED):
        last = conn.execute(
            sa.select(share_event.c.actor)
            .where(share_event.c.share_id == row.id)
            .order_by(share_event.c.id.desc())
            .limit(1)
        ).scalar()
        if last == UNPUBLISH_ACTOR:
            detail = "article republished: re-queued (it was cancelled by the unpublish)"
            db.move(conn, row, State.PENDING, "republish", now, detail, **db.fresh(row, now))


def _reshare_sent(conn: Connection, article_id: str, account: Account, now: datetime) -> None:
    for row in db.rows(
        conn,
        share.c.article_id == article_id,
        share.c.network == account.network,
        share.c.account == account.name,
        share.c.state == State.SENT,
    ):
        db.move(conn, row, State.PENDING, "edit", now, "article edited", **db.fresh(row, now))


# -- operator actions --------------------------------------------------------------------


def act(
    outbox: Outbox,
    job_id: int,
    action: str,
    *,
    actor: str = "operator",
    posted: bool = True,
    permalink: str | None = None,
) -> dict[str, Any]:
    """Apply an operator action (retry, cancel, resolve, reshare); audited like any move."""
    now = outbox.now()
    with outbox.store.begin() as conn:
        row = db.lock(conn, job_id)
        target = action_target(action, row.state, posted=posted)
        values: dict[str, Any] = db.unlease()
        if action == "retry":
            values |= {"next_attempt_at": now, "attempts": 0}
            if row.state == State.HELD:
                db.release_account(conn, row.network, row.account, actor, now)
                row = db.lock(conn, job_id)
                if row.state == State.PENDING:
                    return job_dict(row)
        elif action == "resolve" and target == State.SENT:
            values |= {
                "sent_at": now,
                "permalink": permalink or row.permalink,
                "last_error_kind": "resolved",
            }
        elif action == "resolve":
            values |= {"next_attempt_at": now}
        elif action == "reshare":
            values |= db.fresh(row, now)
        db.move(conn, row, target, actor, now, f"operator {action}", **values)
        return job_dict(db.lock(conn, job_id))


# -- ticks -------------------------------------------------------------------------------


def heartbeat(outbox: Outbox, worker: str | None = None) -> None:
    """Record that this worker is alive (``/readyz`` reads it)."""
    now = outbox.now()
    worker = worker or owner_id()
    with outbox.store.begin() as conn:
        done = conn.execute(
            worker_heartbeat.update().where(worker_heartbeat.c.worker == worker).values(beat_at=now)
        ).rowcount
        if not done:
            conn.execute(worker_heartbeat.insert().values(worker=worker, beat_at=now))
        conn.execute(
            worker_heartbeat.delete().where(worker_heartbeat.c.beat_at < now - timedelta(days=1))
        )


DRAIN_TICK_SECONDS = 10.0


def drain_job(outbox: Outbox) -> None:
    """Post due jobs in batches while there are more, for at most ~10 s a tick."""
    deadline = time.monotonic() + DRAIN_TICK_SECONDS
    batch = 50
    while drain(outbox, limit=batch) == batch and time.monotonic() < deadline:
        pass


def sweep_job(outbox: Outbox) -> None:
    sweep(outbox)


def reconcile_job(outbox: Outbox) -> None:
    reconcile(outbox, owner_id())


def heartbeat_job(outbox: Outbox) -> None:
    heartbeat(outbox)
