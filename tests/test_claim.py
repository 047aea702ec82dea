"""A share backlog never stalls the service: the claim reads indexes, readers never wait.

The claim once ran a correlated NOT EXISTS over the whole backlog inside the write lock
(17,000 pending jobs: ~100 s per claim), and readers queued behind it. These tests read
the query plans the claim gets on SQLite and PostgreSQL (a prepared, generic plan
included), and check that readers and waiting writers get answers, not 500s.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from live import close_service, fetch, live_server
from sqlalchemy.dialects import postgresql

from syndicate import shares
from syndicate.config import Settings
from syndicate.errors import StoreBusy
from syndicate.shares import posting as worker
from syndicate.shares.ledger import WORKING
from syndicate.shares.posting import claim, drain, process
from syndicate.shares.view import list_jobs
from syndicate.store.schema import share, share_account
from syndicate.wiring import Wiring, create_app
from tests.conftest import Clock
from tests.share_helpers import account, article, make_service

ACCOUNTS = [account("x"), account("facebook"), account("reddit"), account("linkedin")]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(settings: Settings, database_url: str, clock: Clock) -> Iterator[Wiring]:
    service = make_service(settings, database_url, ACCOUNTS, clock)
    yield service
    service.close()


def backlog(service: Wiring, clock: Clock, count: int) -> None:
    """*count* articles, each queued for the four accounts, at one-second steps."""
    for n in range(count):
        service.store.upsert_article(article(f"a{n:04d}", now=clock.now), clock.now)
        clock.advance(1)


def statements(now: Any) -> dict[str, tuple[sa.Select[Any], dict[str, Any]]]:
    """The claim's read statements with the parameters a claim binds."""
    busy = sa.select(share.c.network, share.c.account).where(
        worker.states_in(share.c.state, WORKING)
    )
    return {
        "free accounts": (worker._FREE_ACCOUNTS, {"now": now}),
        "busy accounts": (busy, {}),
        "earliest due": (worker._EARLIEST_DUE, {"now": now, "network": "x", "account": "desk"}),
    }


def test_claim_takes_the_earliest_due_job_of_a_free_account(service: Wiring, clock: Clock) -> None:
    """Busy, held and paced accounts are skipped; the free one's earliest due job is taken."""
    backlog(service, clock, 50)
    first = claim(service.outbox, "w1", now=clock.now)
    assert first is not None and first.article_id == "a0000"
    with service.store.begin() as conn:
        conn.execute(
            share_account.update()
            .where(share_account.c.network == "facebook")
            .values(held_reason="token revoked")
        )
        conn.execute(
            share_account.update()
            .where(share_account.c.network == "reddit")
            .values(paced_until=clock.now + timedelta(hours=1))
        )
    second = claim(service.outbox, "w1", now=clock.now)
    assert second is not None
    assert (second.network, second.article_id) == ("linkedin", "a0000")
    assert claim(service.outbox, "w1", now=clock.now) is None  # every account is taken
    clock.advance(3600)
    third = claim(service.outbox, "w1", now=clock.now)
    assert third is not None and (third.network, third.article_id) == ("reddit", "a0000")


def test_pacing_pauses_the_account_instead_of_churning_its_jobs(
    settings: Settings, database_url: str, clock: Clock
) -> None:
    """A paced account's wait is stored once; its other jobs are not claimed and pushed."""
    paced = account("x", min_spacing=3600)
    service = make_service(settings, database_url, [paced], clock)
    try:
        backlog(service, clock, 30)
        assert drain(service.outbox, limit=50) == 2  # one sent, one found paced
        jobs = list_jobs(service.store, limit=100)
        states = sorted(j["state"] for j in jobs)
        assert states.count("sent") == 1 and states.count("pending") == 29
        with service.store.read() as conn:
            events = conn.execute(sa.text("SELECT count(*) FROM share_event")).scalar()
            paced_until = conn.execute(sa.select(share_account.c.paced_until)).scalar()
            rows = conn.execute(
                sa.text("SELECT share_id, from_state, to_state, actor, detail FROM share_event")
            ).all()
        # queued ×30; claimed, in flight, sent; claimed, paced: and nothing more
        assert events == 30 + 3 + 2, rows[30:]
        assert paced_until is not None and paced_until > clock.now
        assert drain(service.outbox, limit=50) == 0  # skipped until the pace allows
    finally:
        service.close()


def test_claim_plans_read_indexes_on_sqlite(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    """EXPLAIN QUERY PLAN: no full scan of the share table in any claim statement."""
    service = make_service(settings, f"sqlite:///{tmp_path / 'plan.db'}", ACCOUNTS, clock)
    try:
        backlog(service, clock, 20)
        with service.store.read() as conn:
            for name, (stmt, params) in statements(clock.now).items():
                compiled = stmt.params(**params).compile(
                    dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
                )
                keys = compiled.positiontup or ()
                values = tuple(_plain(compiled.binds[k].effective_value) for k in keys)
                plan = " / ".join(
                    str(row[-1])
                    for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)
                )
                assert "SCAN share " not in plan + " " and not plan.endswith("SCAN share"), (
                    name,
                    plan,
                )
                if name == "busy accounts":  # a few working rows, found by index
                    assert "SEARCH share USING" in plan, plan
                if name == "earliest due":
                    assert "ix_share_claim" in plan, plan
    finally:
        service.close()


def _generic_plan(conn: sa.Connection, sql: str, types: str, args: str) -> str:
    """The plan PostgreSQL uses for a prepared statement once it switches to generic."""
    conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
    conn.exec_driver_sql("SET enable_seqscan = off")  # an index it can use, it will
    conn.exec_driver_sql(f"PREPARE probe{types} AS {sql}")
    try:
        rows = conn.exec_driver_sql(f"EXPLAIN EXECUTE probe{args}").all()
    finally:
        conn.exec_driver_sql("DEALLOCATE probe")
    return "\n".join(str(row[0]) for row in rows)


@pytest.mark.postgres
def test_generic_plans_use_the_claim_indexes_on_postgresql(
    settings: Settings, postgres_url: str, clock: Clock
) -> None:
    """Prepared (generic) plans of the claim use the partial index and the claim index.

    The same busy-account check with the states bound as an array (``state = ANY($1)``,
    what a bound IN list becomes) cannot use the partial index: the contrast shows the
    test would catch a regression.
    """
    service = make_service(settings, postgres_url, ACCOUNTS, clock)
    dialect = postgresql.psycopg.dialect(paramstyle="numeric_dollar")  # type: ignore[attr-defined]
    try:
        backlog(service, clock, 20)
        with service.store.read() as conn:
            for _ in range(10):  # psycopg prepares server-side after a few executions
                claim(service.outbox, "w", now=clock.now)
            for name, (stmt, params) in statements(clock.now).items():
                compiled = stmt.params(**params).compile(
                    dialect=dialect, compile_kwargs={"render_postcompile": True}
                )
                names = list(compiled.positiontup or ())
                values = [compiled.binds[n].effective_value for n in names]
                types = "(" + ", ".join(_pg_type(v) for v in values) + ")" if names else ""
                args = "(" + ", ".join(_pg_literal(v) for v in values) + ")" if names else ""
                plan = _generic_plan(conn, str(compiled), types, args)
                assert "Seq Scan on share " not in plan + " ", (name, plan)
                if name == "busy accounts":
                    assert "ux_share_one_working" in plan, plan
                if name == "earliest due":
                    assert "ix_share_claim" in plan, plan
            bound = _generic_plan(
                conn,
                "SELECT network, account FROM share WHERE state = ANY($1)",
                "(text[])",
                "(ARRAY['claimed', 'in_flight'])",
            )
            assert "ux_share_one_working" not in bound, bound
    finally:
        service.close()


def _plain(value: Any) -> Any:
    return value.replace(tzinfo=None).isoformat(" ") if hasattr(value, "isoformat") else value


def _pg_type(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return "timestamp"
    return "integer" if isinstance(value, int) else "varchar"


def _pg_literal(value: Any) -> str:
    return str(value) if isinstance(value, int) else f"'{_plain(value)}'"


def test_readers_never_wait_for_the_write_lock(
    settings: Settings, tmp_path: Path, clock: Clock
) -> None:
    """While another connection holds SQLite's write lock, reads answer at once."""
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    service = make_service(settings, url, ACCOUNTS, clock)
    holder = make_service(settings, url, ACCOUNTS, clock)
    service.store.engine.dispose()
    from syndicate.store import make_engine

    service.store.engine = make_engine(url, busy_seconds=0.5)
    backlog(service, clock, 5)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.store.begin():
            locked.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(5)
        assert len(service.store.recent_articles()) == 5
        assert service.store.get_article("a0001") is not None
        assert len(list_jobs(service.store, limit=100)) == 20
        with pytest.raises(StoreBusy):
            service.store.unpublish("a0001", clock.now)  # a writer does wait, then gives up
    finally:
        release.set()
        thread.join()
        holder.close()
        service.close()


def test_a_write_that_waits_gets_503_with_retry_after(settings: Settings) -> None:
    """Behind a held write lock: POST answers 503 + Retry-After; pages and /readyz answer."""
    service = Wiring.open(settings.replace(db_busy_seconds=1))
    service.publisher.render_all()
    shares.heartbeat(service.outbox)
    holder = Wiring.open(settings)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.store.begin():
            locked.set()
            release.wait(20)

    headers = {
        "Authorization": f"Bearer {settings.api_token}",
        "Content-Type": "application/json",
    }
    body = json.dumps({"title": "Late story", "text": "Written while the lock is held."})
    try:
        with live_server(create_app(wiring=service)) as base:
            thread = threading.Thread(target=hold)
            thread.start()
            assert locked.wait(5)
            reply = fetch(
                f"{base}/api/articles", method="POST", headers=headers, body=body.encode()
            )
            assert reply.status == 503, reply.body
            assert reply.header("Retry-After") == "5"
            assert "try again" in json.loads(reply.body)["error"]
            assert fetch(f"{base}/").status == 200
            assert fetch(f"{base}/readyz").status == 200
            assert fetch(f"{base}/feeds/all.rss").status == 200
            release.set()
            thread.join()
            reply = fetch(
                f"{base}/api/articles", method="POST", headers=headers, body=body.encode()
            )
            assert reply.status == 201
    finally:
        release.set()
        holder.close()
        close_service(service)


# -- republish re-queues what unpublish cancelled ---------------------------------------


def _job_states(service: Wiring) -> dict[tuple[str, str], str]:
    return {(j["article"], j["network"]): j["state"] for j in list_jobs(service.store)}


def test_republish_requeues_the_jobs_unpublish_cancelled(service: Wiring, clock: Clock) -> None:
    """Unpublish cancels the open jobs; republish brings each back once, with history."""
    backlog(service, clock, 1)
    sent = claim(service.outbox, "w", now=clock.now)
    assert sent is not None and sent.network == "x"
    process(service.outbox, sent, "w")
    by_operator = next(j for j in list_jobs(service.store) if j["network"] == "reddit")
    shares.act(service.outbox, by_operator["id"], "cancel")
    clock.advance(60)
    service.store.unpublish("a0000", clock.now)
    assert _job_states(service) == {
        ("a0000", "x"): "sent",
        ("a0000", "facebook"): "cancelled",
        ("a0000", "reddit"): "cancelled",
        ("a0000", "linkedin"): "cancelled",
    }
    for _ in range(2):  # the second round: unpublish and republish again
        clock.advance(60)
        republished = article("a0000", now=clock.now, updated=clock.now)
        assert service.store.upsert_article(republished, clock.now).kind == "republished"
        assert _job_states(service) == {
            ("a0000", "x"): "sent",  # never sent twice
            ("a0000", "facebook"): "pending",
            ("a0000", "reddit"): "cancelled",  # the operator's cancel stands
            ("a0000", "linkedin"): "pending",
        }
        service.store.unpublish("a0000", clock.now)
    job = next(j for j in list_jobs(service.store) if j["network"] == "facebook")
    with service.store.read() as conn:
        details = conn.execute(
            sa.text("SELECT actor, detail FROM share_event WHERE share_id = :id ORDER BY id"),
            {"id": job["id"]},
        ).all()
    assert [actor for actor, _ in details].count("republish") == 2
    assert any("re-queued" in (detail or "") for _, detail in details)


def test_an_edit_of_a_published_article_requeues_nothing(service: Wiring, clock: Clock) -> None:
    """Only a republish re-queues: editing a live article leaves cancelled jobs alone."""
    backlog(service, clock, 1)
    job = next(j for j in list_jobs(service.store) if j["network"] == "x")
    shares.act(service.outbox, job["id"], "cancel")
    clock.advance(60)
    edited = article("a0000", now=clock.now, title="New title", updated=clock.now)
    assert service.store.upsert_article(edited, clock.now).kind == "updated"
    assert _job_states(service)[("a0000", "x")] == "cancelled"
