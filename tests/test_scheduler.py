"""The worker's ticker: one worker per SQLite data dir, ticks registered once each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from syndicate.config import Settings
from syndicate.errors import ConfigError
from syndicate.wiring import Wiring
from syndicate.worker import scheduler as ticks


def test_second_lock_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    """A second worker lock on one data dir fails with 'lock held'; after release it works."""
    first = ticks.WorkerLock(tmp_path / "scheduler.lock")
    first.acquire()
    second = ticks.WorkerLock(tmp_path / "scheduler.lock")
    with pytest.raises(ConfigError, match="lock held"):
        second.acquire()
    first.release()
    second.acquire()
    second.release()


def test_lock_is_held_across_processes(tmp_path: Path) -> None:
    """Another process cannot take the lock this process holds (flock is per open file)."""
    lock = ticks.WorkerLock(tmp_path / "scheduler.lock")
    lock.acquire()
    code = (
        "import sys; from pathlib import Path; from syndicate.worker.scheduler import WorkerLock\n"
        "from syndicate.errors import ConfigError\n"
        f"l = WorkerLock(Path({str(tmp_path / 'scheduler.lock')!r}))\n"
        "try:\n    l.acquire()\nexcept ConfigError as e:\n    print(e); sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    lock.release()
    assert done.returncode == 3
    assert "lock held" in done.stdout


def test_no_lock_on_postgresql(settings: Settings, postgres_url: str) -> None:
    """On PostgreSQL row claims are the mutex, so several workers may run."""
    service = Wiring.open(settings.replace(database_url=postgres_url))
    assert ticks.worker_lock(service.store.dialect, service.settings.data_dir) is None
    service.close()


def test_ticks_are_registered_once_with_explicit_ids(settings: Settings) -> None:
    """Every tick is added with its id, coalescing and max_instances=1, and resolves."""
    service = Wiring.open(settings)
    clock = BackgroundScheduler(**ticks.scheduler_options())
    clock.start(paused=True)
    try:
        ticks.add_ticks(clock, service.ticks(), service.now())
        ticks.add_ticks(
            clock, service.ticks(), service.now()
        )  # registering again replaces: one job per id
        jobs = clock.get_jobs()
        assert sorted(j.id for j in jobs) == sorted(t.id for t in service.ticks())
        assert all(j.coalesce and j.max_instances == 1 for j in jobs)
    finally:
        clock.shutdown(wait=False)
        service.close()
