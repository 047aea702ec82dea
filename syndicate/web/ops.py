"""Operations endpoints: ``/healthz``, ``/readyz`` and ``/metrics`` (docs/reliability.md §7)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from syndicate.ingest.poll_record import poll_outcomes
from syndicate.models import UpstreamSpec
from syndicate.shares import view as shares_view
from syndicate.store import Store
from syndicate.store.feeds import FeedState
from syndicate.web.auth import token_matches, unauthorized
from syndicate.web.parts import WebParts, parts_of

bp = Blueprint("ops", __name__)

# Three missed heartbeats (the worker beats every 5 s) and the worker counts as gone.
HEARTBEAT_STALE = timedelta(seconds=15)


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers; touches nothing else."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready when the database answers, a worker beat recently and feeds/ is writable."""
    service = parts_of(current_app)
    problems: dict[str, str] = {}
    beat = None
    try:
        service.store.ping()
        beat = shares_view.last_heartbeat(service.store)
    except Exception as exc:  # any database failure means "not ready", with the reason
        problems["database"] = f"unreachable: {type(exc).__name__}"
    if "database" not in problems:
        if beat is None:
            problems["worker"] = "no worker heartbeat recorded: is `syndicate worker` running?"
        elif service.now() - beat > HEARTBEAT_STALE:
            age = int((service.now() - beat).total_seconds())
            problems["worker"] = f"last worker heartbeat {age} s ago"
    if not os.access(service.settings.feeds_dir, os.W_OK):
        problems["feeds_dir"] = f"{service.settings.feeds_dir} is not writable"
    degraded = {} if "database" in problems else _failing_feeds(service)
    status = "not ready" if problems else "degraded" if degraded else "ready"
    body = {
        "status": status,
        "problems": problems,
        "degraded": degraded,
        "heartbeat": beat.isoformat().replace("+00:00", "Z") if beat else None,
    }
    return jsonify(body), 503 if problems else 200


def _failing_feeds(service: WebParts) -> dict[str, str]:
    """Feeds that fail to render: still ready (the others are served), but degraded."""
    try:
        failing = service.publisher.state.failing()
    except Exception as exc:  # the readiness answer itself must not fail
        return {"feeds": f"feed state unreadable: {type(exc).__name__}"}
    return {f"feed {entry.name}": entry.last_error or "failing" for entry in failing}


@bp.get("/metrics")
def prometheus() -> Response:
    """Prometheus text: process metrics plus ledger numbers read from the database."""
    service = parts_of(current_app)
    if service.settings.metrics_token and not token_matches(
        request.headers.get("Authorization"), service.settings.api_token
    ):
        return unauthorized()
    text = generate_latest(REGISTRY) + generate_latest(ledger_registry(service))
    return Response(
        text,
        mimetype=CONTENT_TYPE_LATEST.split(";")[0],
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )


class LedgerCollector(Collector):
    """Share-ledger numbers read from the database at scrape time.

    They come from the database rather than process memory, so any web process shows
    what every worker did (the ledger is shared; counters in a worker are not).
    """

    def __init__(self, store: Store, now: Callable[[], datetime]) -> None:
        self.store = store
        self.now = now

    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("syndicate_share_jobs", "Share jobs by state.", labels=["state"])
        for state, count in shares_view.state_counts(self.store).items():
            jobs.add_metric([state], count)
        yield jobs
        yield GaugeMetricFamily(
            "syndicate_share_oldest_pending_age_seconds",
            "How long the most overdue pending share has waited past its due time.",
            value=shares_view.oldest_pending_age(self.store, self.now()),
        )
        posts = CounterMetricFamily(
            "syndicate_share_outcomes",
            "Posting outcomes recorded in the ledger, all workers.",
            labels=["network", "outcome"],
        )
        for (network, outcome), count in sorted(shares_view.outcome_counts(self.store).items()):
            posts.add_metric([network, outcome], count)
        yield posts
        beat = shares_view.last_heartbeat(self.store)
        if beat is not None:
            yield GaugeMetricFamily(
                "syndicate_worker_heartbeat_age_seconds",
                "Seconds since a worker last beat.",
                value=max((self.now() - beat).total_seconds(), 0.0),
            )


class FeedCollector(Collector):
    """Feeds whose last render failed, from the feed state table (all processes)."""

    def __init__(self, state: FeedState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "syndicate_feeds_failing",
            "Feeds whose last render failed, all processes (the feed state table).",
            value=len(self.state.failing()),
        )


class UpstreamCollector(Collector):
    """Upstream polls by upstream and outcome, and their entries by result, from the
    database (every worker's polls, whichever process is scraped)."""

    def __init__(self, store: Store, upstreams: Sequence[UpstreamSpec]) -> None:
        self.store = store
        self.upstreams = upstreams

    def collect(self) -> Iterator[Metric]:
        polls = CounterMetricFamily(
            "syndicate_upstream_polls", "Upstream polls by upstream and outcome.",
            labels=["upstream", "outcome"],
        )  # fmt: skip
        entries = CounterMetricFamily(
            "syndicate_upstream_entries",
            "Upstream entries by upstream and result (created, updated, unchanged, "
            "rejected, repeated).",
            labels=["upstream", "result"],
        )
        for outcome in poll_outcomes(self.store, self.upstreams):
            totals = outcome["totals"]
            for name, count in sorted(totals["polls"].items()):
                polls.add_metric([outcome["name"], name], count)
            for name, count in sorted(totals["entries"].items()):
                entries.add_metric([outcome["name"], name], count)
        yield polls
        yield entries


def ledger_registry(service: WebParts) -> CollectorRegistry:
    """A registry holding the collectors that read the database, for one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector(service.store, service.clock))
    registry.register(FeedCollector(service.publisher.state))
    registry.register(UpstreamCollector(service.store, service.settings.upstream))
    return registry
