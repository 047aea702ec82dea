"""The ticker under load and at start-up, real APScheduler (docs/reliability.md T6, T25, T26)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import REGISTRY

from syndicate.config import Settings
from syndicate.wiring import Wiring
from syndicate.worker import scheduler as ticks

calls: Counter[str] = Counter()
running: Counter[str] = Counter()
most_at_once: Counter[str] = Counter()
_lock = threading.Lock()


def _tick(name: str, seconds: float) -> None:
    with _lock:
        calls[name] += 1
        running[name] += 1
        most_at_once[name] = max(most_at_once[name], running[name])
    time.sleep(seconds)
    with _lock:
        running[name] -= 1


def slow_tick() -> None:
    _tick("slow", 0.3)


def blocking_tick() -> None:
    _tick("blocking", 2.3)


def quick_tick() -> None:
    _tick("quick", 0)


def hourly_tick() -> None:
    _tick("hourly", 0)


def tick(name: str, seconds: float) -> ticks.Tick:
    return ticks.Tick(name, globals()[f"{name}_tick"], seconds)


def seen(counter: str) -> Counter[str]:
    """The counters the ticks filled."""
    found: Counter[str] = globals()[counter]
    return found


def counted(job: str, result: str) -> float:
    labels = {"job": job, "result": result}
    return REGISTRY.get_sample_value("syndicate_scheduler_tick_total", labels) or 0.0


def run(settings: Settings, tick_list: tuple[ticks.Tick, ...], seconds: float, **opts: Any) -> None:
    """Run *tick_list* on a real scheduler set up as the worker's, for *seconds*."""
    service = Wiring.open(settings)
    clock = BackgroundScheduler(**(ticks.scheduler_options() | opts))
    try:
        ticks.add_ticks(clock, tick_list, service.now())
        ticks.count_tick_events(clock)
        clock.start()
        time.sleep(seconds)
        clock.shutdown(wait=True)
    finally:
        service.close()


def test_slow_tick_never_overlaps_itself_and_skips_are_counted(settings: Settings) -> None:
    """A tick slower than its interval runs one at a time; the skipped runs are counted."""
    before = counted("slow", "max_instances")
    run(settings, (tick("slow", 0.05),), 1.0)
    assert seen("calls")["slow"] >= 2
    assert seen("most_at_once")["slow"] == 1
    assert counted("slow", "max_instances") > before


def test_tick_blocked_past_its_grace_time_is_counted_missed_then_runs(settings: Settings) -> None:
    """A tick queued behind a busy pool past misfire_grace_time is counted missed, then runs."""
    missed_before, ok_before = counted("quick", "missed"), counted("quick", "ok")
    one_thread = {"default": {"type": "threadpool", "max_workers": 1}}
    run(settings, (tick("blocking", 3600), tick("quick", 0.1)), 2.8, executors=one_thread)
    assert counted("quick", "missed") > missed_before
    assert counted("quick", "ok") > ok_before  # the next tick after the block is normal


def test_a_restarted_worker_runs_each_tick_once_not_a_backlog(settings: Settings) -> None:
    """Ticks live in memory and start at boot: an hourly tick runs once, no missed runs replayed."""
    before = seen("calls")["hourly"]
    run(settings, (tick("hourly", 3600),), 0.5)
    assert seen("calls")["hourly"] == before + 1
