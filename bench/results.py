"""What a benchmark family reports: tables of figures and checks against the targets."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Check:
    """One target: a measured ratio compared with a bound (never faked)."""

    name: str
    measured: float | None
    target: float
    at_most: bool  # True: the ratio must be ≤ target; False: ≥ target
    unit: str = "×"

    @property
    def verdict(self) -> str:
        if self.measured is None:
            return "NOT RUN"
        ok = self.measured <= self.target if self.at_most else self.measured >= self.target
        return "PASS" if ok else "FAIL"

    @property
    def bound(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {self.target:g}{self.unit}"

    @property
    def shown(self) -> str:
        if self.measured is None:
            return "—"
        if self.unit == "×":
            return f"{self.measured:.2f}×" if self.measured >= 1 else f"{self.measured:.3f}×"
        return f"{self.measured:,.2f}{self.unit}"


@dataclass
class Table:
    """A titled table of already formatted cells."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([str(c) for c in cells])


@dataclass
class FamilyResult:
    """Everything one family measured."""

    name: str
    title: str
    about: str
    tables: list[Table] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


def median_time(func: Callable[[], object], repeats: int, budget: float = 30.0) -> float:
    """Median wall time of *func* over *repeats* runs (fewer if *budget* seconds run out)."""
    times: list[float] = []
    deadline = time.perf_counter() + budget
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return statistics.median(times)


def interleaved(
    funcs: list[Callable[[], object]], repeats: int, budget: float = 60.0
) -> list[float]:
    """Median time of each function, run in alternation so drift in machine load hits all."""
    times: list[list[float]] = [[] for _ in funcs]
    deadline = time.perf_counter() + budget
    for _ in range(repeats):
        for func, bucket in zip(funcs, times, strict=True):
            start = time.perf_counter()
            func()
            bucket.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return [statistics.median(bucket) for bucket in times]


def ratio(value: float, baseline: float) -> float | None:
    return value / baseline if baseline > 0 else None


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}×" if value >= 1 else f"{value:.3f}×"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"
