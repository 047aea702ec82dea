"""Memory: peak RSS (VmHWM) of the web and worker processes with 10,000 stored articles."""

from __future__ import annotations

import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench import data, deploy
from bench.load import run_load
from bench.procs import children, peak_rss_kib
from bench.results import FamilyResult, Table, fmt_ratio, ratio

FEEDS = ("all.rss", "all.atom", "all.json", "category/world.rss", "author/jane-doe.json",
         "all.rss?limit=200", "all.json?limit=200")  # fmt: skip


def peaks(dep: deploy.Deployment, workers: int, seconds: float) -> dict[str, int]:
    """Peak RSS in KiB of each process after serving feeds and running ticks."""
    with ExitStack() as stack:
        web = deploy.serve(stack, dep, workers)
        ticker = deploy.worker(stack, dep)
        per_feed = max(1.0, seconds / len(FEEDS))
        for feed in FEEDS:
            run_load(f"{dep.settings.public_url}/feeds/{feed}", {"Accept-Encoding": "gzip"},
                     seconds=per_feed, connections=8)  # fmt: skip
        time.sleep(2.0)  # a few more worker ticks
        if not ticker.alive():
            raise RuntimeError(f"worker exited:\n{ticker.tail()}")
        found = {"web: gunicorn arbiter": peak_rss_kib(web.pid) or 0}
        for n, pid in enumerate(children(web.pid), start=1):
            found[f"web: gunicorn worker {n}"] = peak_rss_kib(pid) or 0
        found["worker (syndicate worker)"] = peak_rss_kib(ticker.pid) or 0
        return found


def run(quick: bool = False, stored: int | None = None, workers: int = 2) -> FamilyResult:
    stored = stored or (1000 if quick else 10_000)
    seconds = 3.0 if quick else 7.0
    result = FamilyResult(
        "memory", "Memory",
        f"Peak resident set size (`VmHWM` in /proc) of `syndicate serve --workers {workers}` "
        f"(arbiter and workers) and `syndicate worker` on SQLite with {stored:,} stored "
        f"articles, after {seconds:g} s of feed requests (site, category, author feeds and "
        "`?limit=200` renders) and a few worker ticks, against the same set-up with an "
        "empty store (the baseline).",
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        empty = deploy.make(Path(tmp) / "empty")
        deploy.populate(empty, [])
        base = peaks(empty, workers, seconds)
        full = deploy.make(Path(tmp) / "full")
        deploy.populate(full, data.articles(stored, prefix="memory"))
        loaded = peaks(full, workers, seconds)
    table = Table("Peak RSS", ["process", "empty store", f"{stored:,} articles",
                               f"{stored:,} / empty"])  # fmt: skip
    for name, kib in loaded.items():
        before = base.get(name, 0)
        table.add(name, f"{before / 1024:.1f} MiB", f"{kib / 1024:.1f} MiB",
                  fmt_ratio(ratio(kib, before)))  # fmt: skip
    result.tables.append(table)
    result.notes.append("The issue sets no memory target; the figures are for sizing.")
    return result
