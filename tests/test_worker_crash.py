"""Crash safety: workers SIGKILLed at every step, restarted; zero duplicates, zero lost."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from syndicate import config
from syndicate.cli.demo import DEMO_ACCOUNTS
from syndicate.sandbox.server import Sandbox
from syndicate.shares import posting
from syndicate.shares import view as shares_view
from syndicate.wiring import Wiring
from tests.share_helpers import article, write_config

ARTICLES = 50  # × 4 demo accounts = 200 jobs
POINTS = ("after_claim", "after_in_flight", "after_send", "after_record")
MARKER = re.compile(r"share_ref=([0-9a-f]{16})")

# One worker run: recover what a dead predecessor left (its leases are long expired by
# the time we restart, so the sweep is told an hour has passed), then post until idle.
WORKER = """
from datetime import timedelta
from syndicate import config
from syndicate.shares import posting, recovery
from syndicate.wiring import Wiring
service = Wiring.open(config.load())
later = service.now() + timedelta(hours=1)
recovery.sweep(service.outbox, now=later)
recovery.reconcile(service.outbox, posting.owner_id(), now=later, limit=1000)
while posting.drain(service.outbox, limit=50):
    pass
service.sharing.close()
service.close()
"""


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


def publish(config_path: Path, count: int) -> Wiring:
    """Publish *count* articles (their jobs are queued with them); returns the service."""
    service = Wiring.open(config.load(config_path, env={}))
    for i in range(count):
        service.store.upsert_article(article(f"story-{i:03d}", now=service.now()), service.now())
    return service


def run_worker(config_path: Path, crashpoint: str | None = None, *, timeout: float = 60) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env["SYNDICATE_CONFIG"] = str(config_path)
    if crashpoint:
        env[posting.CRASHPOINT_ENV] = crashpoint
    done = subprocess.run(
        [sys.executable, "-c", WORKER],
        env=env,
        timeout=timeout,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"worker failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.returncode


def posted_markers(sandbox: Sandbox) -> Counter[str]:
    """How many accepted posts in the sandbox log carry each share key."""
    counts: Counter[str] = Counter()
    for entry in sandbox.requests():
        if entry["method"] == "POST" and entry.get("accepted"):
            found = MARKER.search(json.dumps(entry.get("parsed")))
            if found:
                counts[found.group(1)] += 1
    return counts


def check_ledger(service: Wiring, sandbox: Sandbox, expected: int) -> dict[str, Any]:
    """Every job once at most on the network; every job sent or flagged; none lost."""
    jobs = shares_view.list_jobs(service.store, limit=10_000)
    posts = posted_markers(sandbox)
    assert len(jobs) == expected, "a job was lost"
    assert max(posts.values()) == 1, f"duplicates: {[k for k, n in posts.items() if n > 1]}"
    states = Counter(j["state"] for j in jobs)
    assert set(states) <= {"sent", "needs_review"}, states
    for job in jobs:
        if job["state"] == "sent":
            assert posts[job["share_key"]] == 1, f"sent but not on the network: {job}"
    return dict(states)


def integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` of the SQLite file, opened as a fresh process would."""
    with closing(sqlite3.connect(path)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def test_sigkill_at_every_step_loses_nothing_and_posts_nothing_twice(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """200 jobs, a worker killed 16 times across the four steps: 0 duplicates, 0 lost."""
    config_path = write_config(tmp_path, sandbox.url, f"sqlite:///{tmp_path / 'crash.db'}")
    service = publish(config_path, ARTICLES)
    rng = random.Random(4)
    kills: Counter[str] = Counter()
    try:
        for round_no in range(16):
            point = POINTS[round_no % len(POINTS)]
            if run_worker(config_path, f"{point}@{rng.randint(2, 12)}") == -signal.SIGKILL:
                kills[point] += 1
        assert integrity(tmp_path / "crash.db") == "ok"  # T7: the WAL recovers after kill -9
        assert run_worker(config_path) == 0
        assert run_worker(config_path) == 0  # a restart with nothing to do changes nothing
        states = check_ledger(service, sandbox, ARTICLES * len(DEMO_ACCOUNTS))
        assert kills == {p: 4 for p in POINTS}
        # Only a kill between the in-flight commit and the request leaves a job that the
        # (non-authoritative) lookups cannot find: each such job awaits review, unsent.
        assert states.get("needs_review", 0) == kills["after_in_flight"]
        assert states["sent"] == ARTICLES * len(DEMO_ACCOUNTS) - kills["after_in_flight"]
    finally:
        service.sharing.close()
        service.close()
