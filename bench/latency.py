"""Latency: from an API publish until the new item is in the served feed."""

from __future__ import annotations

import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import requests

from bench import data, deploy
from bench.results import Check, FamilyResult, Table, fmt_ms

TARGET_SECONDS = 1.0
POLL_SECONDS = 0.005
GIVE_UP_SECONDS = 10.0


def publish_latencies(dep: deploy.Deployment, count: int) -> tuple[list[float], list[float]]:
    """Per publish: seconds until GET /feeds/all.json shows it, and the POST's own time."""
    base = dep.settings.public_url
    headers = {"Authorization": f"Bearer {dep.token}"}
    visible, posts = [], []
    with requests.Session() as session:
        for n in range(count):
            raw = data.raw_article(n, prefix="latency")
            raw["published"] = raw["updated"] = "2027-06-01T00:00:00+00:00"  # newest of all
            marker = raw["url"].encode()
            start = time.perf_counter()
            response = session.post(f"{base}/api/articles", json=raw, headers=headers, timeout=10)
            posts.append(time.perf_counter() - start)
            if response.status_code != 201:
                raise RuntimeError(f"publish failed: {response.status_code} {response.text[:200]}")
            while marker not in session.get(f"{base}/feeds/all.json", timeout=10).content:
                if time.perf_counter() - start > GIVE_UP_SECONDS:
                    raise RuntimeError(f"article {raw['id']} not in the feed after 10 s")
                time.sleep(POLL_SECONDS)
            visible.append(time.perf_counter() - start)
            time.sleep(0.05)
    return visible, posts


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(quick: bool = False, stored: int | None = None, publishes: int | None = None,
        workers: int = 2) -> FamilyResult:  # fmt: skip
    stored = stored or (200 if quick else 1000)
    publishes = publishes or (20 if quick else 100)
    result = FamilyResult(
        "latency", "Latency",
        f"The documented production set-up (`syndicate serve --workers {workers}` plus "
        f"`syndicate worker`, SQLite, {stored:,} stored articles): one article POSTed to "
        "`/api/articles`, then `GET /feeds/all.json` polled every 5 ms until the article is "
        f"in it; {publishes} publishes one after another. The web process that took the POST "
        "renders in the background (`publisher.request_render`); the worker's render tick is "
        "the fallback. Reference: the POST's own round trip.",
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp, ExitStack() as stack:
        dep = deploy.make(Path(tmp) / "site")
        deploy.populate(dep, data.articles(stored, prefix="stored"))
        deploy.serve(stack, dep, workers)
        deploy.worker(stack, dep)
        time.sleep(1.0)  # let the worker's first ticks pass
        visible, posts = publish_latencies(dep, publishes)
    table = Table("Publish → visible in the served feed",
                  ["measure", "p50", "p99", "max", "p50 / POST p50"])  # fmt: skip
    post_p50 = statistics.median(posts)
    table.add("POST /api/articles round trip", fmt_ms(post_p50), fmt_ms(_p(posts, 0.99)),
              fmt_ms(max(posts)), "1.00×")  # fmt: skip
    table.add("publish → in /feeds/all.json", fmt_ms(statistics.median(visible)),
              fmt_ms(_p(visible, 0.99)), fmt_ms(max(visible)),
              f"{statistics.median(visible) / post_p50:.2f}×")  # fmt: skip
    result.tables.append(table)
    result.checks.append(Check(f"p99 publish → visible over {publishes} publishes",
                               _p(visible, 0.99), TARGET_SECONDS, at_most=True,
                               unit=" s"))  # fmt: skip
    return result
