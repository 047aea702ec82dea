"""Several worker processes on one PostgreSQL queue never post a job twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from syndicate.cli.demo import DEMO_ACCOUNTS
from syndicate.sandbox.server import Sandbox
from syndicate.shares import view as shares_view
from syndicate.store.schema import share_event
from tests.test_worker_crash import check_ledger, posted_markers, publish, write_config

pytestmark = pytest.mark.postgres

WORKERS = 3
ARTICLES = 40

# Post until no job is due or being worked on anywhere, then stop.
RACER = """
import time
import sqlalchemy as sa
from syndicate import config, shares
from syndicate.shares import view as shares_view
from syndicate.shares import posting
from syndicate.store.schema import share
from syndicate.wiring import Wiring
service = Wiring.open(config.load())
open_states = ("pending", "retry_wait", "claimed", "in_flight")
while True:
    if posting.drain(service.outbox, limit=20):
        continue
    with service.store.read() as conn:
        left = conn.execute(sa.select(sa.func.count()).where(share.c.state.in_(open_states)))
        if not left.scalar():
            break
    time.sleep(0.02)
service.sharing.close()
service.close()
"""


def test_racing_workers_post_each_job_exactly_once(tmp_path: Path, postgres_url: str) -> None:
    """Three workers drain 160 jobs together: each share key reaches the network once."""
    with Sandbox() as sandbox:
        sandbox.set_faults(latency_ms=5)
        config_path = write_config(tmp_path, sandbox.url, postgres_url)
        service = publish(config_path, ARTICLES)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
        env["SYNDICATE_CONFIG"] = str(config_path)
        try:
            procs = [
                subprocess.Popen(
                    [sys.executable, "-c", RACER], env=env, stderr=subprocess.PIPE, text=True
                )
                for _ in range(WORKERS)
            ]
            for proc in procs:
                _, err = proc.communicate(timeout=120)
                assert proc.returncode == 0, err[-3000:]
            states = check_ledger(service, sandbox, ARTICLES * len(DEMO_ACCOUNTS))
            assert states == {"sent": ARTICLES * len(DEMO_ACCOUNTS)}
            with service.store.read() as conn:
                owners = (
                    conn.execute(
                        sa.select(share_event.c.actor)
                        .where(share_event.c.to_state == "claimed")
                        .distinct()
                    )
                    .scalars()
                    .all()
                )
            assert len(owners) >= 2, "the workers did not overlap"
            assert shares_view.list_jobs(service.store, state="claimed") == []
            assert sum(posted_markers(sandbox).values()) == ARTICLES * len(DEMO_ACCOUNTS)
        finally:
            service.sharing.close()
            service.close()
