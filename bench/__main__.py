"""``python -m bench [family…] [--quick] [--out PATH]``: run the benchmarks, write the report."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import time
import traceback
from pathlib import Path
from types import FrameType

from bench.procs import ROOT
from bench.report import machine, markdown
from bench.results import FamilyResult

# family -> time bound in seconds (full run; --quick runs well inside it)
FAMILIES: dict[str, int] = {
    "render": 90, "serve": 240, "ingest": 180, "latency": 120, "memory": 120, "posting": 240,
    "readers": 150, "claim": 180,
}  # fmt: skip
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"


class FamilyTimeout(Exception):
    """A family ran past its time bound."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise FamilyTimeout


def run_family(name: str, quick: bool) -> FamilyResult:
    """Run one family within its time bound; a failure is reported, not raised."""
    module = importlib.import_module(f"bench.{name}")
    bound = FAMILIES[name]
    started = time.perf_counter()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(bound)
    try:
        result: FamilyResult = module.run(quick=quick)
    except FamilyTimeout:
        result = FamilyResult(name, name.title(), "", error=f"stopped after its {bound} s bound")
    except Exception as exc:  # one broken family must not lose the others' figures
        traceback.print_exc()
        result = FamilyResult(name, name.title(), "", error=f"{type(exc).__name__}: {exc}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    result.seconds = time.perf_counter() - started
    return result


def _print(result: FamilyResult) -> None:
    print(f"\n== {result.title} ({result.seconds:.0f} s)", flush=True)
    if result.error:
        print(f"   did not complete: {result.error}")
    for table in result.tables:
        print(f"   {table.title}")
        for row in [table.columns, *table.rows]:
            print("     " + " | ".join(row))
    for check in result.checks:
        print(f"   {check.verdict:7} {check.name} {check.bound}: {check.shown}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "families",
        nargs="*",
        choices=[[], *FAMILIES],
        metavar="family",
        help=f"families to run (default all): {', '.join(FAMILIES)}",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, short runs")
    parser.add_argument("--out", type=Path, default=None,
                        help="write the Markdown report here (default: docs/benchmarks.md "
                        "for a full run of every family)")  # fmt: skip
    args = parser.parse_args(argv)
    names = args.families or list(FAMILIES)
    info = machine()
    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    results = []
    for name in names:
        results.append(run_family(name, args.quick))
        _print(results[-1])
    out = args.out or (DEFAULT_OUT if names == list(FAMILIES) and not args.quick else None)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(markdown(results, info, list(FAMILIES), args.quick), encoding="utf-8")
        print(f"\nreport written to {out}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
