"""Claiming from a backlog: the per-claim time must stay flat from 1,000 to 20,000 due jobs.

Four accounts share N pending jobs. Each measured claim leases the account's earliest due
job through :func:`syndicate.shares.posting.claim`; the job is then marked sent directly so its
account is free again (posting is not what is measured here). The check compares the
median claim at 20,000 jobs with the median at 1,000 measured in the same run.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import deploy
from bench.results import Check, FamilyResult, Table, fmt_ms, fmt_ratio, ratio
from syndicate import config
from syndicate.shares.posting import claim
from syndicate.store.schema import article, share, share_account
from syndicate.wiring import Wiring

ACCOUNTS = (("x", "desk"), ("facebook", "page"), ("reddit", "sub"), ("linkedin", "org"))
FLAT_TARGET = 2.0  # claim time at 20,000 jobs ÷ at 1,000 jobs
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def fill(service: Wiring, jobs: int) -> None:
    """*jobs* pending jobs (one article each), spread over the four accounts, all due."""
    articles, rows = [], []
    for n in range(jobs):
        when = T0 + timedelta(seconds=n)
        articles.append({
            "id": f"a{n}", "guid": f"g{n}", "source": "bench", "url": f"https://x.example/{n}",
            "title": f"Story {n}", "summary": "", "content_html": "", "author": "Desk",
            "author_slug": "desk", "published": when, "updated": when, "status": "published",
            "content_hash": "0" * 64, "created_at": when, "modified_at": when,
        })  # fmt: skip
        network, name = ACCOUNTS[n % len(ACCOUNTS)]
        rows.append({
            "article_id": f"a{n}", "network": network, "account": name, "share_key": f"k{n}",
            "state": "pending", "ready_at": when, "next_attempt_at": when,
            "created_at": when, "updated_at": when,
        })  # fmt: skip
    with service.store.begin() as conn:
        conn.execute(article.insert(), articles)
        conn.execute(share.insert(), rows)
        conn.execute(share_account.insert(), [{"network": n, "account": a} for n, a in ACCOUNTS])
        if service.store.dialect == "postgresql":
            conn.exec_driver_sql("ANALYZE share")


def claim_times(service: Wiring, claims: int) -> list[float]:
    """Wall time of each of *claims* claims; every claimed job is then marked sent."""
    now = T0 + timedelta(days=1)
    times = []
    for _ in range(claims):
        start = time.perf_counter()
        job = claim(service.outbox, "bench", now=now)
        times.append(time.perf_counter() - start)
        assert job is not None, "the backlog ran dry"
        with service.store.begin(durable=False) as conn:
            conn.execute(share.update().where(share.c.id == job.id).values(state="sent"))
    return times


def measure(database: str, sizes: tuple[int, ...], claims: int) -> dict[int, float]:
    medians = {}
    for size in sizes:
        context = deploy.postgres_schema("claim") if database == "PostgreSQL" else nullcontext("")
        with context as pg_url, tempfile.TemporaryDirectory() as tmp:
            url = pg_url or f"sqlite:///{Path(tmp) / 'claim.db'}"
            settings = config.load(
                Path(tmp) / "absent.toml", env={},
                overrides={"data_dir": Path(tmp), "feeds_dir": Path(tmp) / "feeds",
                           "database_url": url, "api_token": "bench"},
            )  # fmt: skip
            service = Wiring.open(settings)
            try:
                fill(service, size)
                claim_times(service, 20)  # warm the caches and the plan cache
                medians[size] = statistics.median(claim_times(service, claims))
            finally:
                service.close()
    return medians


def run(quick: bool = False, sizes: tuple[int, ...] = (1_000, 5_000, 20_000)) -> FamilyResult:
    result = FamilyResult(
        "claim", "Claiming from a backlog",
        "Median time of one share claim with N due jobs over four accounts (the claimed job "
        "is then marked sent). Flat means each claim costs O(log N), not a scan of the "
        "backlog.",
    )  # fmt: skip
    claims = 50 if quick else 200
    table = Table("Per-claim time", ["database", *(f"{n:,} jobs" for n in sizes), "ratio"])
    databases = ["SQLite"] + (["PostgreSQL"] if deploy.postgres_available() else [])
    for database in databases:
        medians = measure(database, sizes, claims)
        flat = ratio(medians[sizes[-1]], medians[sizes[0]])
        table.add(database, *(fmt_ms(medians[n]) for n in sizes), fmt_ratio(flat))
        result.checks.append(
            Check(f"{database}: claim at {sizes[-1]:,} ÷ at {sizes[0]:,}", flat, FLAT_TARGET, True)
        )
    result.tables.append(table)
    return result
