"""Posting (issue 4): share jobs through the ledger to the sandbox, and the ledger's overhead."""

from __future__ import annotations

import statistics
import tempfile
import time
from contextlib import ExitStack, nullcontext
from pathlib import Path

import sqlalchemy as sa

from bench import data, deploy
from bench.results import Check, FamilyResult, Table, fmt_ratio, ratio
from syndicate.adapters.base import Outcome
from syndicate.sandbox.server import Sandbox
from syndicate.shares.ledger import share_key
from syndicate.store.schema import share

OVERHEAD_TARGET_MS = 5.0
SCALING_TARGET = 3.0
GIVE_UP_SECONDS = 60.0
SECOND = 'template = "{title} (desk 2) {url}"'  # distinct text: no duplicate detection
ACCOUNTS = (  # two per network: jobs of different accounts can go out in parallel
    ("facebook", "page-1", 'page_id = "1000000000001"', 'page_token = "fb-token-1"'),
    ("facebook", "page-2", f'page_id = "1000000000002"\n{SECOND}', 'page_token = "fb-token-2"'),
    ("x", "desk-1", 'auth = "oauth2"', 'access_token = "x-token-1"'),
    ("x", "desk-2", f'auth = "oauth2"\n{SECOND}', 'access_token = "x-token-2"'),
    ("reddit", "user_1", 'subreddit = "bench_one"',
     'client_id = "c1"\nclient_secret = "s1"\nusername = "user_1"\npassword = "p1"'),
    ("reddit", "user_2", f'subreddit = "bench_two"\n{SECOND}',
     'client_id = "c2"\nclient_secret = "s2"\nusername = "user_2"\npassword = "p2"'),
    ("linkedin", "org-1", 'author = "urn:li:organization:1"', 'access_token = "li-token-1"'),
    ("linkedin", "org-2", f'author = "urn:li:organization:2"\n{SECOND}',
     'access_token = "li-token-2"'),
)  # fmt: skip


def share_toml(root: Path, sandbox_url: str) -> str:
    """Settings for eight unpaced accounts posting to the sandbox; secrets in their own file."""
    secrets = root / "secrets.toml"
    secrets.write_text("".join(f"[{net}.{name}]\n{creds}\n" for net, name, _, creds in ACCOUNTS))
    accounts = "".join(
        f'[[share.accounts]]\nnetwork = "{net}"\nname = "{name}"\n{extra}\n'
        for net, name, extra, _ in ACCOUNTS
    )
    return f'secrets_file = "{secrets}"\n[share]\nsandbox = "{sandbox_url}"\n{accounts}'


def _site(root: Path, sandbox: Sandbox, database_url: str = "") -> deploy.Deployment:
    root.mkdir(parents=True)
    return deploy.make(root, database_url=database_url,
                       extra_toml=share_toml(root, sandbox.url))  # fmt: skip


def _sent(dep: deploy.Deployment, engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).where(share.c.state == "sent")) or 0)


def throughput(dep: deploy.Deployment, workers: int, articles: int, prefix: str) -> float:
    """Jobs/s from publishing *articles* (one job per account) until every job is sent."""
    jobs = articles * len(ACCOUNTS)
    engine = sa.create_engine(dep.settings.database)
    try:
        with ExitStack() as stack:
            procs = [deploy.worker(stack, dep, f"worker-{n}") for n in range(workers)]
            time.sleep(2.0)  # workers up and ticking
            for proc in procs:
                if not proc.alive():
                    raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
            service = dep.open_service()
            try:
                items = data.articles(articles, prefix=prefix)
                service.store.upsert_articles(items, service.now())  # jobs due now
            finally:
                service.close()
            start = time.perf_counter()
            while _sent(dep, engine) < jobs:
                if time.perf_counter() - start > GIVE_UP_SECONDS:
                    raise RuntimeError(f"only {_sent(dep, engine)} of {jobs} jobs sent")
                time.sleep(0.05)
            return jobs / (time.perf_counter() - start)
    finally:
        engine.dispose()


def overhead(dep: deploy.Deployment, articles: int, rounds: int) -> tuple[float, float]:
    """Seconds per job: (full ledger drain, bare build + adapter send), medians of rounds."""
    from syndicate.shares import posting

    service = dep.open_service()
    try:
        accounts = service.sharing.accounts()
        drained, bare = [], []
        for n in range(rounds + 1):
            extra = data.articles(articles, prefix=f"bare-{n}")
            now = service.now()
            start = time.perf_counter()
            for item in extra:
                for account in accounts:
                    marker = share_key(item.id, account.network, account.name)
                    request = service.sharing.build_request(item, account, now, marker=marker)
                    result = service.sharing.adapter(account.network).send(request, account, now)
                    if result.outcome is not Outcome.POSTED:
                        raise RuntimeError(f"bare send failed: {result}")
            bare.append((time.perf_counter() - start) / (articles * len(accounts)))
            service.store.upsert_articles(data.articles(articles, prefix=f"ledger-{n}"),
                                          service.now())  # fmt: skip
            jobs = articles * len(accounts)
            start = time.perf_counter()
            done = posting.drain(service.outbox, limit=jobs)
            drained.append((time.perf_counter() - start) / jobs)
            if done != jobs:
                raise RuntimeError(f"drain took {done} of {jobs} jobs")
        # round 0 warmed sessions, tokens and caches
        return statistics.median(drained[1:]), statistics.median(bare[1:])
    finally:
        service.close()


def run(quick: bool = False, articles: int | None = None) -> FamilyResult:
    articles = articles or (5 if quick else 30)
    result = FamilyResult(
        "posting", "Posting",
        f"End to end: {articles} articles published at once with {len(ACCOUNTS)} unpaced "
        f"accounts (two per network) give {articles * len(ACCOUNTS)} share jobs; real "
        "`syndicate worker` processes post them to the sandbox (`syndicate.sandbox`, in the "
        "bench process) with 0 ms and 50 ms added per call (its `latency_ms` knob); the clock "
        "runs from the publish commit until every job is `sent` in the database. Ledger "
        "overhead: in one process on SQLite with a zero-latency sandbox, `posting.drain` "
        "(claim, in-flight commit, send, record) per job against building the same requests "
        "and calling the adapters directly for as many jobs.",
    )  # fmt: skip
    rates: dict[tuple[str, int, int], float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-posting-") as tmp, Sandbox() as sandbox:
        root = Path(tmp)
        plans = [("SQLite", 1)]
        if deploy.postgres_available():
            plans += [("PostgreSQL", 1), ("PostgreSQL", 4)]
        else:
            result.notes.append("PostgreSQL was not reachable: its rows are missing.")
        for latency in (0, 50):
            for database, workers in plans:
                sandbox.reset()
                sandbox.set_faults(latency_ms=latency)
                context = deploy.postgres_schema() if database == "PostgreSQL" else nullcontext("")
                with context as url:
                    dep = _site(root / f"{database}-{workers}-{latency}", sandbox, url)
                    rates[(database, workers, latency)] = throughput(
                        dep, workers, articles, f"post-{latency}"
                    )
        sandbox.reset()
        sandbox.set_faults(latency_ms=0)
        per_job, per_send = overhead(_site(root / "overhead", sandbox), max(2, articles // 5),
                                     rounds=3 if quick else 5)  # fmt: skip
    _report(result, rates, per_job, per_send)
    return result


def _report(result: FamilyResult, rates: dict[tuple[str, int, int], float], per_job: float,
            per_send: float) -> None:  # fmt: skip
    table = Table("Posting throughput (jobs/s, publish → all sent)",
                  ["database", "workers", "0 ms per call", "50 ms per call",
                   "vs 1 worker, same database"])  # fmt: skip
    for database, workers in sorted({(d, w) for d, w, _ in rates}, key=lambda k: (k[0], k[1])):
        zero, slow = rates.get((database, workers, 0)), rates.get((database, workers, 50))
        one = rates.get((database, 1, 50))
        table.add(database, workers, f"{zero:,.1f}" if zero else "—",
                  f"{slow:,.1f}" if slow else "—",
                  fmt_ratio(ratio(slow, one)) + " (50 ms)" if slow and one else "—")  # fmt: skip
    result.tables.append(table)
    ledger = Table("Ledger overhead per job (SQLite, zero-latency sandbox)",
                   ["path", "per job", "vs bare send"])  # fmt: skip
    ledger.add("bare: build request + adapter send", f"{per_send * 1000:.2f} ms", "1.00×")
    ledger.add("ledger: posting.drain", f"{per_job * 1000:.2f} ms",
               fmt_ratio(ratio(per_job, per_send)))  # fmt: skip
    ledger.add("overhead (difference)", f"{(per_job - per_send) * 1000:.2f} ms", "")
    result.tables.append(ledger)
    result.checks.append(Check("ledger overhead per job on SQLite", (per_job - per_send) * 1000,
                               OVERHEAD_TARGET_MS, at_most=True, unit=" ms"))  # fmt: skip
    four, one = rates.get(("PostgreSQL", 4, 50)), rates.get(("PostgreSQL", 1, 50))
    result.checks.append(Check("4 vs 1 workers on PostgreSQL, 50 ms per call",
                               ratio(four, one) if four and one else None, SCALING_TARGET,
                               at_most=False))  # fmt: skip
