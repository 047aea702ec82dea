"""The worker's ticker: APScheduler 3 with an in-memory job store, one per process.

APScheduler is only a clock here. Durable state (articles, share jobs, pings) lives in
syndicate's tables, and each tick claims its own rows, so overlapping ticks from two
workers do no harm. The job store is never shared between processes (docs/reliability.md §1).
"""

from __future__ import annotations

import functools
import logging
import operator
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.schedulers.base import BaseScheduler
from filelock import FileLock, Timeout

from syndicate import metrics
from syndicate.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tick:
    """One periodic job: a call on the part it drives, and its interval in seconds."""

    id: str
    func: Callable[[], object]
    seconds: float


class WorkerLock:
    """Only one worker per SQLite data dir: an exclusive lock taken without waiting.

    The holder's pid is written beside the lock (``<lock>.pid``) so that a second worker
    can say who holds it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(path, thread_local=False)
        self._holder = path.with_name(path.name + ".pid")

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            try:
                holder = self._holder.read_text(encoding="utf-8").strip()
            except OSError:
                holder = ""
            raise ConfigError(
                "worker",
                f"lock held: a worker ({holder or 'another process'}) already runs on "
                f"{self.path.parent}; with SQLite only one worker may run per data dir "
                "(use PostgreSQL for more)",
            ) from None
        self._holder.write_text(f"pid {os.getpid()}", encoding="utf-8")

    def release(self) -> None:
        if self._lock.is_locked:
            self._holder.unlink(missing_ok=True)
            self._lock.release()


def add_ticks(scheduler: BaseScheduler, ticks: Iterable[Tick], start: datetime) -> None:
    """Register every tick with explicit ids, coalescing and no overlap with itself."""
    for tick in ticks:
        scheduler.add_job(
            tick.func,
            "interval",
            id=tick.id,
            name=tick.id,
            seconds=tick.seconds,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(2, int(2 * tick.seconds)),
            replace_existing=True,
            next_run_time=start,
        )


_RESULTS = {
    EVENT_JOB_EXECUTED: "ok",
    EVENT_JOB_ERROR: "error",
    EVENT_JOB_MISSED: "missed",
    EVENT_JOB_MAX_INSTANCES: "max_instances",
}


def count_tick_events(scheduler: BaseScheduler) -> None:
    """Count executed, failed, missed and skipped (still running) ticks; log failures."""

    def _count(event: JobEvent) -> None:
        result = _RESULTS.get(event.code, "other")
        metrics.scheduler_ticks.labels(job=event.job_id, result=result).inc()
        if event.code == EVENT_JOB_ERROR:
            log.error("tick %s failed: %r", event.job_id, getattr(event, "exception", None))
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.debug("tick %s still running; this turn skipped", event.job_id)

    scheduler.add_listener(_count, functools.reduce(operator.or_, _RESULTS))
    logging.getLogger("apscheduler.scheduler").addFilter(_not_a_skip)


def _not_a_skip(record: logging.LogRecord) -> bool:
    """Drop APScheduler's warning that a tick was skipped because it is still running.

    With ``max_instances=1`` a tick that outlasts its interval skips its next turn: the
    coalescing the design asks for (docs/reliability.md §1), not a fault. The skip is
    counted in ``syndicate_scheduler_tick_total{result="max_instances"}`` and logged at
    debug level above.
    """
    return "maximum number of running instances reached" not in record.getMessage()


def worker_lock(dialect: str, data_dir: Path) -> WorkerLock | None:
    """The SQLite single-worker lock, or None on PostgreSQL (the row claims suffice)."""
    if dialect == "sqlite":
        return WorkerLock(data_dir / "scheduler.lock")
    return None


def scheduler_options() -> dict[str, Any]:
    return {
        "jobstores": {"default": {"type": "memory"}},
        "executors": {"default": {"type": "threadpool", "max_workers": 4}},
        "job_defaults": {"coalesce": True, "max_instances": 1},
        "timezone": "UTC",
    }
