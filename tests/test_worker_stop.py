"""Graceful stop (docs/reliability.md T5): SIGTERM finishes the share in flight, claims no more."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate import config
from syndicate.sandbox.server import Sandbox
from syndicate.shares import view as shares_view
from syndicate.wiring import Wiring
from tests.share_helpers import article, write_config

ARTICLES = 10  # × 4 demo accounts = 40 jobs, far more than one can post during the stop


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


def _states(service: Wiring) -> Counter[str]:
    return Counter(j["state"] for j in shares_view.list_jobs(service.store, limit=1000))


def _wait_for_in_flight(service: Wiring, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while _states(service)["in_flight"] == 0:
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the worker never started a share"
        time.sleep(0.02)


def test_sigterm_finishes_the_share_in_flight_and_claims_no_more(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """SIGTERM mid-post: that share is recorded, no new one is claimed, the worker exits 0."""
    sandbox.set_faults(latency_ms=500)
    config_path = write_config(tmp_path, sandbox.url, f"sqlite:///{tmp_path / 'stop.db'}")
    service = Wiring.open(config.load(config_path, env={}))
    for i in range(ARTICLES):
        service.store.upsert_article(article(f"story-{i:03d}", now=service.now()), service.now())
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env["SYNDICATE_CONFIG"] = str(config_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "syndicate", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_in_flight(service, proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    try:
        states = _states(service)
        assert proc.returncode == 0, err
        assert states["claimed"] == states["in_flight"] == 0, states
        assert 1 <= states["sent"] <= 2, states  # the one in hand (and one racing the signal)
        assert states["pending"] == ARTICLES * 4 - states["sent"], states
    finally:
        service.close()
