"""/healthz, /readyz and /metrics over a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from syndicate import shares
from syndicate.config import Settings
from syndicate.shares import posting
from syndicate.store import Store, make_engine
from syndicate.wiring import Wiring
from tests.share_helpers import Clock, account, article, make_service
from tests.test_admin import Server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(settings: Settings, clock: Clock) -> Iterator[Server]:
    settings.feeds_dir.mkdir(parents=True, exist_ok=True)
    service = make_service(settings, settings.database, [account("x")], clock)
    srv = Server(service)
    yield srv
    srv.close()
    service.close()


def test_healthz_answers_without_a_token(server: Server) -> None:
    """/healthz is 200 with no token and no dependencies."""
    assert server.get("/healthz").json() == {"status": "ok"}


def test_readyz_follows_the_worker_heartbeat(server: Server, clock: Clock) -> None:
    """No heartbeat → 503 naming the worker; fresh → 200; older than 3 beats → 503 again."""
    first = server.get("/readyz")
    assert first.status_code == 503 and set(first.json()["problems"]) == {"worker"}
    shares.heartbeat(server.service.outbox, worker="w1")
    assert server.get("/readyz").status_code == 200
    clock.advance(20)
    stale = server.get("/readyz")
    assert stale.status_code == 503
    assert stale.json()["problems"]["worker"] == "last worker heartbeat 20 s ago"


def test_readyz_reports_an_unreachable_database(settings: Settings) -> None:
    """A database that refuses connections makes /readyz 503 with the reason."""
    store = Store(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"))
    service = Wiring(settings, store, Clock())
    settings.feeds_dir.mkdir(parents=True, exist_ok=True)
    srv = Server(service)
    try:
        answer = srv.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["problems"]["database"].startswith("unreachable")
    finally:
        srv.close()
        store.close()


def test_metrics_expose_ledger_and_feed_numbers(server: Server, clock: Clock) -> None:
    """/metrics lists jobs by state, oldest pending age, outcomes, renders and feed requests."""
    service = server.service
    service.store.upsert_article(article("a1"), clock.now)
    service.store.upsert_article(article("a2"), clock.now)
    posting.drain(service.outbox, limit=1, owner="w")
    clock.advance(90)
    before = _samples(server.get("/metrics").text)
    service.publisher.render_all(force=True)
    assert server.get("/feeds/no-such-feed.rss").status_code == 404
    text = server.get("/metrics").text
    after = _samples(text)
    renders = "syndicate_feed_render_duration_seconds_count"
    assert sum(v for k, v in after.items() if k.startswith(renders)) > sum(
        v for k, v in before.items() if k.startswith(renders)
    )
    missing = 'syndicate_feed_requests_total{status="404"}'
    assert after[missing] == before.get(missing, 0) + 1
    assert 'syndicate_share_jobs{state="pending"} 1.0' in text
    assert 'syndicate_share_jobs{state="sent"} 1.0' in text
    assert "syndicate_share_oldest_pending_age_seconds 90.0" in text
    assert 'syndicate_share_outcomes_total{network="x",outcome="sent"} 1.0' in text
    for name in (
        "syndicate_feed_render_duration_seconds",
        "syndicate_feed_requests_total",
        "syndicate_share_attempts_total",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in text


def test_metrics_can_require_the_token(settings: Settings, clock: Clock) -> None:
    """With metrics_token on, /metrics needs the API token."""
    service = make_service(settings.replace(metrics_token=True), settings.database, [], clock)
    srv = Server(service)
    try:
        assert srv.get("/metrics").status_code == 401
        assert srv.get("/metrics", headers=srv.auth).status_code == 200
    finally:
        srv.close()
        service.close()


def _samples(text: str) -> dict[str, float]:
    """Prometheus text as ``name{labels}`` → value."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found
