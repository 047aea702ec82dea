"""Prometheus metrics, defined in one place; ``/metrics`` exposes them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from syndicate.service import Service

feed_requests = Counter(
    "syndicate_feed_requests_total", "Feed requests served, by HTTP status.", ["status"]
)
feed_render_seconds = Histogram(
    "syndicate_feed_render_duration_seconds",
    "Time to render one feed file.",
    ["format"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
)
articles_ingested = Counter(
    "syndicate_ingest_articles_total",
    "Articles taken in, by source and result.",
    ["source", "result"],
)
share_posts = Counter(
    "syndicate_share_attempts_total",
    "Share attempts, by network and outcome.",
    ["network", "outcome"],
)
websub_pings = Counter("syndicate_websub_ping_total", "WebSub hub pings by result.", ["result"])
scheduler_ticks = Counter(
    "syndicate_scheduler_tick_total", "Scheduler ticks by job and result.", ["job", "result"]
)
share_unknown = Counter(
    "syndicate_share_unknown_total", "Share attempts whose outcome became unknown.", ["network"]
)


class LedgerCollector(Collector):
    """Share-ledger numbers read from the database at scrape time.

    They come from the database rather than process memory, so any web process shows
    what every worker did (the ledger is shared; counters in a worker are not).
    """

    def __init__(self, service: Service) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        from syndicate.shares import view as shares_view

        jobs = GaugeMetricFamily("syndicate_share_jobs", "Share jobs by state.", labels=["state"])
        for state, count in shares_view.state_counts(self.service).items():
            jobs.add_metric([state], count)
        yield jobs
        yield GaugeMetricFamily(
            "syndicate_share_oldest_pending_age_seconds",
            "How long the most overdue pending share has waited past its due time.",
            value=shares_view.oldest_pending_age(self.service),
        )
        posts = CounterMetricFamily(
            "syndicate_share_outcomes",
            "Posting outcomes recorded in the ledger, all workers.",
            labels=["network", "outcome"],
        )
        for (network, outcome), count in sorted(shares_view.outcome_counts(self.service).items()):
            posts.add_metric([network, outcome], count)
        yield posts
        beat = shares_view.last_heartbeat(self.service)
        if beat is not None:
            yield GaugeMetricFamily(
                "syndicate_worker_heartbeat_age_seconds",
                "Seconds since a worker last beat.",
                value=max((self.service.now() - beat).total_seconds(), 0.0),
            )


class UpstreamCollector(Collector):
    """Upstream polls by upstream and outcome, and their entries by result, from the
    database (every worker's polls, whichever process is scraped)."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        from syndicate.ingest.poll_record import poll_outcomes

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
        for outcome in poll_outcomes(self.service):
            totals = outcome["totals"]
            for name, count in sorted(totals["polls"].items()):
                polls.add_metric([outcome["name"], name], count)
            for name, count in sorted(totals["entries"].items()):
                entries.add_metric([outcome["name"], name], count)
        yield polls
        yield entries


def ledger_registry(service: Service) -> CollectorRegistry:
    """A registry holding the collectors that read the database, for one scrape."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector(service))
    registry.register(UpstreamCollector(service))
    return registry
