"""The share ledger in the database, on SQLite and PostgreSQL, with scripted adapters."""

from __future__ import annotations

import json
import logging
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from syndicate import config, shares
from syndicate.adapters.base import Outcome, ShareResult
from syndicate.cli.demo import DEMO_SECRETS
from syndicate.config import Settings
from syndicate.sandbox.server import Sandbox
from syndicate.shares import posting, recovery
from syndicate.shares import view as shares_view
from syndicate.shares.ledger import ShareActionError
from syndicate.store import Store
from syndicate.store.schema import share, share_account, share_event
from syndicate.wiring import Wiring
from tests.share_helpers import SECRET, Clock, account, article, make_service, write_config
from tests.test_worker_crash import MARKER, posted_markers

OWNER = "test-worker"
SECRET_KEYS = {"page_token", "access_token", "client_secret", "password"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(settings: Settings, database_url: str, clock: Clock) -> Iterator[Wiring]:
    """Two accounts (x, reddit) and one disabled account, on each backend."""
    accounts = [account("x"), account("reddit"), account("facebook", enabled=False)]
    svc = make_service(settings, database_url, accounts, clock)
    yield svc
    svc.close()


def _states(service: Wiring) -> dict[str, str]:
    return {
        f"{j['article']}/{j['network']}": j["state"] for j in shares_view.list_jobs(service.store)
    }


def _adapter(service: Wiring, network: str):  # type: ignore[no-untyped-def]
    return service.sharing.adapter(network)


def test_new_article_queues_one_job_per_enabled_account(service: Wiring, clock: Clock) -> None:
    """Publishing creates a pending job per enabled account; re-ingest and edits add none."""
    service.store.upsert_article(article("a1"), clock.now)
    service.store.upsert_article(article("a1"), clock.now)
    service.store.upsert_article(article("a1", title="Edited"), clock.now)
    assert _states(service) == {"a1/x": "pending", "a1/reddit": "pending"}


def test_jobs_are_written_in_the_article_transaction(service: Wiring, clock: Clock) -> None:
    """If the article's transaction fails after queueing, neither article nor jobs remain."""

    def boom(*_: object) -> None:
        raise RuntimeError("disk full")

    service.store.write_hooks.append(boom)
    with pytest.raises(RuntimeError):
        service.store.upsert_article(article("a1"), clock.now)
    assert service.store.get_article("a1") is None
    assert shares_view.list_jobs(service.store) == []


def test_unique_job_per_article_network_account(service: Wiring, clock: Clock) -> None:
    """The database refuses a second row for the same (article, network, account)."""
    service.store.upsert_article(article("a1"), clock.now)
    row = {
        "article_id": "a1",
        "network": "x",
        "account": "desk",
        "share_key": "other",
        "ready_at": clock.now,
        "next_attempt_at": clock.now,
        "created_at": clock.now,
        "updated_at": clock.now,
    }
    with pytest.raises(sa.exc.IntegrityError), service.store.engine.begin() as conn:
        conn.execute(share.insert().values(row))


def test_in_flight_is_committed_before_the_request(service: Wiring, clock: Clock) -> None:
    """While the adapter sends, another connection already sees the job in flight."""
    seen: list[tuple[str, int]] = []

    def peek(_request: object) -> None:
        with service.store.read() as conn:
            seen.append(
                tuple(
                    conn.execute(
                        sa.select(share.c.state, share.c.attempts).where(share.c.network == "x")
                    ).one()
                )
            )

    _adapter(service, "x").on_send = peek
    service.store.upsert_article(article("a1"), clock.now)
    assert posting.drain(service.outbox, owner=OWNER) == 2
    assert seen == [("in_flight", 1)]
    jobs = {j["network"]: j for j in shares_view.jobs_for_article(service.store, "a1")}
    assert jobs["x"]["state"] == "sent" and jobs["x"]["remote_id"] == "x-1"


def test_every_transition_is_audited(service: Wiring, clock: Clock) -> None:
    """pending → claimed → in_flight → sent leaves four events for each job."""
    service.store.upsert_article(article("a1"), clock.now)
    posting.drain(service.outbox, owner=OWNER)
    job = shares_view.jobs_for_article(service.store, "a1")[0]
    path = [(e["from"], e["to"]) for e in shares_view.events(service.store, job["id"])]
    assert path == [
        (None, "pending"),
        ("pending", "claimed"),
        ("claimed", "in_flight"),
        ("in_flight", "sent"),
    ]


def test_one_working_job_per_account(service: Wiring, clock: Clock) -> None:
    """While an account has a claimed job, its next job waits; other accounts are free."""
    for i in range(2):
        service.store.upsert_article(article(f"a{i}"), clock.now)
    first = posting.claim(service.outbox, OWNER)
    second = posting.claim(service.outbox, OWNER)
    third = posting.claim(service.outbox, OWNER)
    assert first is not None and second is not None
    assert first.network != second.network and third is None


def test_rate_limit_waits_for_reset_and_spares_other_accounts(
    service: Wiring, clock: Clock
) -> None:
    """A 429 blocks only that account until its reset; then the job is sent."""
    reset = clock.now + timedelta(minutes=15)
    _adapter(service, "x").script.append(
        ShareResult(Outcome.RETRY, retry_at=reset, status=429, reason="rate limited")
    )
    for i in range(2):
        service.store.upsert_article(article(f"a{i}"), clock.now)
    posting.drain(service.outbox, owner=OWNER)
    assert len(_adapter(service, "reddit").sent) == 2
    assert len(_adapter(service, "x").sent) == 1
    waiting = shares_view.list_jobs(service.store, network="x", state="retry_wait")[0]
    assert waiting["next_attempt_at"] >= reset.isoformat().replace("+00:00", "Z")
    clock.advance(14 * 60)
    posting.drain(service.outbox, owner=OWNER)
    assert len(_adapter(service, "x").sent) == 1  # still before the reset: nothing sent
    clock.advance(3600)
    posting.drain(service.outbox, owner=OWNER)
    assert len(_adapter(service, "x").sent) == 3
    assert set(_states(service).values()) == {"sent"}


def test_auth_failure_holds_only_that_account(service: Wiring, clock: Clock) -> None:
    """A 401 holds the account's queue with a reconnect alert; the others keep posting."""
    _adapter(service, "x").script.append(
        ShareResult(Outcome.AUTH, status=401, reason="token revoked")
    )
    for i in range(3):
        service.store.upsert_article(article(f"a{i}"), clock.now)
    posting.drain(service.outbox, owner=OWNER)
    assert len(_adapter(service, "x").sent) == 1 and len(_adapter(service, "reddit").sent) == 3
    assert {j["state"] for j in shares_view.list_jobs(service.store, network="x")} == {"held"}
    messages = [a["message"] for a in shares_view.alerts(service.store, service.now())]
    assert messages == ["reconnect X account @desk: token revoked"]
    held = shares_view.list_jobs(service.store, network="x")[0]
    assert held["attempts"] == 0  # a hold does not burn attempts
    shares.act(service.outbox, held["id"], "retry")  # operator reconnected the account
    posting.drain(service.outbox, owner=OWNER)
    assert (
        set(_states(service).values()) == {"sent"}
        and shares_view.alerts(service.store, service.now()) == []
    )


def test_permanent_failure_is_dead_with_reason(service: Wiring, clock: Clock) -> None:
    """A validation error ends dead with its reason; an operator retry requeues it, audited."""
    _adapter(service, "x").script.append(
        ShareResult(Outcome.PERMANENT, status=400, reason="text too long")
    )
    service.store.upsert_article(article("a1"), clock.now)
    posting.drain(service.outbox, owner=OWNER)
    dead = shares_view.list_jobs(service.store, state="dead")[0]
    assert dead["last_error"] == "text too long"
    shares.act(service.outbox, dead["id"], "retry", actor="alice")
    assert shares_view.events(service.store, dead["id"])[-1]["actor"] == "alice"
    posting.drain(service.outbox, owner=OWNER)
    assert set(_states(service).values()) == {"sent"}


def test_config_problem_is_dead_with_a_config_alert(service: Wiring, clock: Clock) -> None:
    """A sunset API version (LinkedIn 426) ends dead as a configuration problem, alerted."""
    _adapter(service, "x").script.append(
        ShareResult(
            Outcome.PERMANENT, status=426, reason="NONEXISTENT_VERSION", config_problem=True
        )
    )
    service.store.upsert_article(article("a1"), clock.now)
    posting.drain(service.outbox, owner=OWNER)
    dead = shares_view.list_jobs(service.store, state="dead")[0]
    assert (dead["network"], dead["last_error"]) == ("x", "NONEXISTENT_VERSION")
    assert [a["kind"] for a in shares_view.alerts(service.store, service.now())] == ["config"]


def test_unknown_outcome_is_reconciled_not_resent(service: Wiring, clock: Clock) -> None:
    """A timeout after sending becomes unknown; the lookup finds the post: sent, one request."""
    x = _adapter(service, "x")
    x.script.append(ShareResult(Outcome.UNKNOWN, reason="read timeout"))
    service.store.upsert_article(article("a1"), clock.now)
    posting.drain(service.outbox, owner=OWNER)
    job = shares_view.list_jobs(service.store, network="x")[0]
    assert job["state"] == "unknown"
    x.found[job["share_key"]] = ShareResult(Outcome.POSTED, remote_id="777")
    recovery.reconcile(service.outbox, OWNER)
    posting.drain(service.outbox, owner=OWNER)
    job = shares_view.list_jobs(service.store, network="x")[0]
    assert (job["state"], job["remote_id"], len(x.sent)) == ("sent", "777", 1)


def test_unknown_without_match_goes_to_review(service: Wiring, clock: Clock) -> None:
    """Not found after the settle delay (non-authoritative lookup) → needs_review, no resend."""
    x = _adapter(service, "x")
    x.script.append(ShareResult(Outcome.UNKNOWN, reason="502"))
    service.store.upsert_article(article("a1"), clock.now)
    posting.drain(service.outbox, owner=OWNER)
    recovery.reconcile(service.outbox, OWNER)
    assert shares_view.list_jobs(service.store, network="x")[0]["state"] == "unknown"  # too early
    clock.advance(120)
    recovery.reconcile(service.outbox, OWNER)
    posting.drain(service.outbox, owner=OWNER)
    assert shares_view.list_jobs(service.store, network="x")[0]["state"] == "needs_review"
    assert len(x.sent) == 1
    assert any(
        a["kind"] == "needs_review" for a in shares_view.alerts(service.store, service.now())
    )


def test_sweep_recovers_expired_leases(service: Wiring, clock: Clock) -> None:
    """An expired claim returns to pending; an expired in-flight job becomes unknown."""
    service.store.upsert_article(article("a1"), clock.now)
    first = posting.claim(service.outbox, OWNER)
    second = posting.claim(service.outbox, OWNER)
    assert first is not None and second is not None
    with service.store.begin() as conn:
        conn.execute(share.update().where(share.c.id == second.id).values(state="in_flight"))
    clock.advance(3600)
    assert recovery.sweep(service.outbox) == 2
    assert shares_view.list_jobs(service.store, network=first.network)[0]["state"] == "pending"
    assert shares_view.list_jobs(service.store, network=second.network)[0]["state"] == "unknown"


def test_dry_run_records_the_redacted_request_and_sends_nothing(
    settings: Settings, database_url: str, clock: Clock
) -> None:
    """A dry-run account's job is recorded with its exact request, secrets redacted."""
    svc = make_service(settings, database_url, [account("x", dry_run=True)], clock)
    try:
        svc.store.upsert_article(article("a1"), clock.now)
        posting.drain(svc.outbox, owner=OWNER)
        job = shares_view.list_jobs(svc.store)[0]
        preview = shares_view.request_preview(svc.store, job["id"])
        assert job["dry_run"] and job["state"] == "sent" and svc.sharing.adapter("x").sent == []
        assert preview is not None and SECRET not in preview
        body = json.loads(preview)
        assert job["share_key"] in body["body"]["text"]
        assert body["headers"]["Authorization"] == "Bearer <redacted>"
    finally:
        svc.close()


def test_spacing_and_token_bucket_trickle_a_burst(
    settings: Settings, database_url: str, clock: Clock
) -> None:
    """min_spacing 300 s paces a burst; a 2-per-hour bucket then caps it (injected clock)."""
    acct = account("x", min_spacing=300, rate={"capacity": 2, "per_seconds": 3600})
    svc = make_service(settings, database_url, [acct], clock)
    try:
        for i in range(4):
            svc.store.upsert_article(article(f"a{i}"), clock.now)
        sent_at = []
        for _ in range(30):
            posting.drain(svc.outbox, owner=OWNER)
            sent_at.extend(
                j["sent_at"]
                for j in shares_view.list_jobs(svc.store, state="sent")
                if j["sent_at"] not in sent_at
            )
            clock.advance(60)
        times = sorted(sent_at)
        assert len(times) == 2  # the bucket holds 2 per hour; 30 minutes passed
        assert times[1] >= (
            clock.now - timedelta(minutes=30) + timedelta(seconds=300)
        ).isoformat().replace("+00:00", "Z")
    finally:
        svc.close()


def test_unpublish_cancels_and_edit_reshares_when_asked(
    settings: Settings, database_url: str, clock: Clock
) -> None:
    """Unpublishing cancels open jobs; with reshare_on_edit an edit re-queues a sent job."""
    accts = [account("x", reshare_on_edit=True), account("reddit")]
    svc = make_service(settings, database_url, accts, clock)
    try:
        svc.store.upsert_article(article("a1"), clock.now)
        posting.drain(svc.outbox, owner=OWNER)
        old_key = shares_view.list_jobs(svc.store, network="x")[0]["share_key"]
        svc.store.upsert_article(article("a1", title="Corrected"), clock.now)
        x_job = shares_view.list_jobs(svc.store, network="x")[0]
        assert x_job["state"] == "pending" and x_job["share_key"] != old_key
        assert shares_view.list_jobs(svc.store, network="reddit")[0]["state"] == "sent"
        svc.store.unpublish("a1", clock.now)
        assert shares_view.list_jobs(svc.store, network="x")[0]["state"] == "cancelled"
    finally:
        svc.close()


def test_operator_actions(service: Wiring, clock: Clock) -> None:
    """cancel, resolve and reshare move jobs as allowed; a refused action says why."""
    service.store.upsert_article(article("a1"), clock.now)
    x_id = shares_view.list_jobs(service.store, network="x")[0]["id"]
    assert shares.act(service.outbox, x_id, "cancel")["state"] == "cancelled"
    with pytest.raises(ShareActionError, match="cannot resolve a job that is cancelled"):
        shares.act(service.outbox, x_id, "resolve")
    resent = shares.act(service.outbox, x_id, "reshare")
    assert resent["state"] == "pending" and resent["attempts"] == 0
    with service.store.begin() as conn:
        conn.execute(share.update().where(share.c.id == x_id).values(state="needs_review"))
    done = shares.act(service.outbox, x_id, "resolve", permalink="https://x.com/desk/status/1")
    assert (done["state"], done["permalink"]) == ("sent", "https://x.com/desk/status/1")
    with service.store.read() as conn:
        actors = conn.execute(
            sa.select(share_event.c.actor).where(
                share_event.c.share_id == x_id, share_event.c.actor == "operator"
            )
        ).all()
    assert len(actors) == 3
    with pytest.raises(KeyError):
        shares.act(service.outbox, 999_999, "cancel")


def test_republish_queues_jobs_for_a_draft(service: Wiring, clock: Clock) -> None:
    """An article stored unpublished gets its jobs when it is first published."""
    draft = article("a1", status="unpublished")
    service.store.upsert_article(draft, clock.now)
    assert shares_view.list_jobs(service.store) == []
    service.store.upsert_article(replace(draft, status="published"), clock.now)
    assert set(_states(service).values()) == {"pending"}


# -- against the sandbox: real adapters, the sandbox on the same injected clock ----------


@pytest.fixture
def live(tmp_path: Path, clock: Clock) -> Iterator[tuple[Wiring, Sandbox]]:
    """The four demo accounts posting to the sandbox; both read the test's clock."""
    with Sandbox(clock=lambda: clock.now.timestamp()) as box:
        path = write_config(tmp_path, box.url, f"sqlite:///{tmp_path / 'live.db'}")
        svc = Wiring(
            config.load(path, env={}), Store.open(f"sqlite:///{tmp_path / 'live.db'}"), clock
        )
        yield svc, box
        svc.sharing.close()
        svc.close()


def _run(service: Wiring, minutes: int) -> None:
    """Let the worker run for *minutes* of injected time, ticking every minute."""
    for _ in range(minutes):
        recovery.sweep(service.outbox)
        recovery.reconcile(service.outbox, OWNER)
        posting.drain(service.outbox, owner=OWNER)
        service.clock.advance(60)  # type: ignore[attr-defined]


def _post_log(box: Sandbox) -> list[dict[str, Any]]:
    return [e for e in box.requests() if MARKER.search(json.dumps(e.get("parsed")))]


def _publish(service: Wiring, count: int, first: int = 0) -> None:
    for i in range(first, first + count):
        service.store.upsert_article(article(f"s{i}", service.now()), service.now())


def test_429_storm_waits_for_every_reset_then_succeeds(live: tuple[Wiring, Sandbox]) -> None:
    """After a 429 no post to that network comes before its reset; all end sent, once."""
    service, box = live
    box.set_faults(rate_limit=4, reset_s=600, networks=["x", "reddit"])
    _publish(service, 5)
    _run(service, 60)
    log = _post_log(box)
    throttled = [e for e in log if e["status"] == 429]
    assert len(throttled) == 4
    for hit in throttled:
        later = [e for e in log if e["network"] == hit["network"] and e["seq"] > hit["seq"]]
        assert later and all(e["time"] >= hit["time"] + 600 for e in later)
    assert {j["state"] for j in shares_view.list_jobs(service.store)} == {"sent"}
    assert max(posted_markers(box).values()) == 1


def test_5xx_burst_is_reconciled_or_flagged_never_resent(live: tuple[Wiring, Sandbox]) -> None:
    """502s after acceptance reconcile to sent; unaccepted ones await review, then go out."""
    service, box = live
    box.set_faults(error_rate=1.0, error_accepts=True, networks=["x"])
    _publish(service, 2)
    posting.drain(service.outbox, owner=OWNER)
    box.set_faults(error_accepts=False)
    _publish(service, 1, first=2)  # its x job meets a 502 that did not post
    posting.drain(service.outbox, owner=OWNER)
    box.set_faults(error_rate=0.0)
    _run(service, 5)
    states = {j["article"]: j["state"] for j in shares_view.list_jobs(service.store, network="x")}
    assert states == {"s0": "sent", "s1": "sent", "s2": "needs_review"}
    review = shares_view.list_jobs(service.store, state="needs_review")[0]
    shares.act(service.outbox, review["id"], "resolve", posted=False)  # operator: it is not there
    _run(service, 2)
    assert {j["state"] for j in shares_view.list_jobs(service.store)} == {"sent"}
    assert set(posted_markers(box).values()) == {1}


def test_auth_failure_holds_one_account_against_the_sandbox(
    live: tuple[Wiring, Sandbox],
) -> None:
    """A revoked X token holds X with a named alert; Facebook, Reddit, LinkedIn keep posting."""
    service, box = live
    box.set_faults(auth_fail=["demo-x-user-token"])
    _publish(service, 3)
    _run(service, 3)
    by_state = Counter((j["network"], j["state"]) for j in shares_view.list_jobs(service.store))
    assert by_state == {
        ("x", "held"): 3,
        ("facebook", "sent"): 3,
        ("reddit", "sent"): 3,
        ("linkedin", "sent"): 3,
    }
    assert [
        a["message"].split(":")[0] for a in shares_view.alerts(service.store, service.now())
    ] == ["reconnect X account @demonews"]
    box.set_faults(auth_fail=[])
    shares.act(service.outbox, shares_view.list_jobs(service.store, network="x")[0]["id"], "retry")
    _run(service, 3)
    assert {j["state"] for j in shares_view.list_jobs(service.store)} == {"sent"}


def test_no_token_reaches_logs_or_the_ledger(
    live: tuple[Wiring, Sandbox], caplog: pytest.LogCaptureFixture
) -> None:
    """Posts, a refused token, 5xx and dry runs leave no credential in logs or any table."""
    caplog.set_level(logging.DEBUG)
    service, box = live
    box.set_faults(auth_fail=["demo-x-user-token"], error_rate=1.0, networks=["x", "facebook"])
    _publish(service, 2)
    _run(service, 3)
    states = {(j["network"], j["state"]) for j in shares_view.list_jobs(service.store)}
    assert {("x", "held"), ("reddit", "sent")} <= states
    assert {s for n, s in states if n == "facebook"} <= {"unknown", "needs_review"}
    with service.store.read() as conn:
        dump = " ".join(
            repr(row)
            for t in (share, share_event, share_account)
            for row in conn.execute(t.select())
        )
    dump += (
        caplog.text
        + json.dumps(box.requests())
        + json.dumps(shares_view.alerts(service.store, service.now()))
    )
    filed = tomllib.loads(DEMO_SECRETS)
    tables = [table for network in filed.values() for table in network.values()]
    tokens = [v for table in tables for k, v in table.items() if k in SECRET_KEYS]
    assert len(tokens) == 5
    for token in tokens:
        assert token not in dump


def test_bad_pacing_options_hold_the_job_with_the_reason(
    settings: Settings, database_url: str, clock: Clock
) -> None:
    """A malformed slot never fails the article; its job is held, naming the problem."""
    svc = make_service(settings, database_url, [account("x", slots=["8am"])], clock)
    try:
        svc.store.upsert_article(article("a1"), clock.now)
        posting.drain(svc.outbox, owner=OWNER)
        job = shares_view.list_jobs(svc.store)[0]
        assert job["state"] == "held" and "bad pacing options for x:desk" in job["last_error"]
        assert svc.store.get_article("a1") is not None
        [alert] = shares_view.alerts(svc.store, svc.now())
        assert alert["kind"] == "config" and "bad pacing options" in alert["message"]
    finally:
        svc.close()


def test_preview_is_byte_identical_to_what_is_sent(live: tuple[Wiring, Sandbox]) -> None:
    """For a 44-article multilingual corpus on four networks: the dry-run request, the
    share API's request, the ledger's recorded preview and the request the sandbox
    received are the same, apart from credentials added at send time."""
    from share_corpus import corpus

    from syndicate.cli.share import _request
    from syndicate.web.share import _account_entry

    service, box = live
    articles = corpus()
    for a in articles:
        service.store.upsert_article(
            replace(a, published=service.now(), updated=service.now()), service.now()
        )
    accounts = service.sharing.accounts()
    before = {}
    for a in articles:
        for acct in accounts:
            dry = _request(service, a, acct, service.now()).preview()
            marker = shares_view.marker_for(service.store, a.id, acct.network, acct.name)
            api = _account_entry(service, a, acct, marker)["request"]
            assert json.dumps(api) == json.dumps(dry)
            before[(a.id, acct.key)] = dry
    _run(service, 5 * len(articles))
    jobs = shares_view.list_jobs(service.store, limit=10_000)
    assert len(jobs) == len(articles) * len(accounts)
    assert {j["state"] for j in jobs} == {"sent"}
    received = Counter()
    for job in jobs:
        key = (job["article"], f"{job['network']}:{job['account']}")
        recorded = json.loads(shares_view.request_preview(service.store, job["id"]) or "{}")
        assert json.dumps(recorded) == json.dumps(before[key]), key
        [sent] = [
            e
            for e in box.requests(job["network"])
            if e["method"] == "POST" and job["share_key"] in json.dumps(e["parsed"])
        ]
        assert sent["parsed"] == before[key]["body"], key
        received[key] += 1
    assert set(received.values()) == {1}
