"""Prometheus metrics, defined in one place; ``/metrics`` exposes them."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

feed_requests = Counter(
    "syndicate_feed_requests_total", "Feed requests served, by HTTP status.", ["status"]
)
feed_render_seconds = Histogram(
    "syndicate_feed_render_duration_seconds",
    "Time to render one feed file.",
    ["format"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
)
feed_render_failures = Counter(
    "syndicate_feed_render_failures_total",
    "Feed renders that raised (the feed is retried with backoff; others carry on).",
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
