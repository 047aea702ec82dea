"""The machine description and the Markdown report (docs/benchmarks.md)."""

from __future__ import annotations

import os
import platform
import re
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench.results import FamilyResult

HOW_TO = """\
Run them with `make bench` (all families, about ten minutes, rewrites this file), or one
family with `.venv/bin/python -m bench render` (families: {families}); `--quick` uses small
sizes and short runs and prints instead of writing this file; `--out PATH` writes elsewhere.

The machine is shared and noisy, so every figure is a **ratio against a baseline measured in
the same run** (absolute numbers beside it for reference), timings are medians of repeats,
and each family is bounded in time. Servers, workers and nginx are started on 127.0.0.1 and
always stopped at the end. A target is PASS only when the measured figure meets it.
"""


def machine() -> dict[str, str]:
    """CPU, cores, RAM, and the versions of everything measured."""
    return {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "RAM": f"{_mem_total_gib():.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL": _postgres_version(),
        "nginx": _tool_version(["nginx", "-v"]),
        "wrk": _tool_version(["wrk", "-v"]),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else platform.processor() or "unknown"


def _mem_total_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _postgres_version() -> str:
    import sqlalchemy as sa

    from bench.deploy import POSTGRES_URL

    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            version = str(conn.exec_driver_sql("SHOW server_version").scalar())
        engine.dispose()
        return version
    except sa.exc.SQLAlchemyError:
        return "not reachable"


def _tool_version(argv: list[str]) -> str:
    path = shutil.which(argv[0]) or shutil.which(f"/usr/sbin/{argv[0]}")
    if path is None:
        return "not installed"
    done = subprocess.run([path, *argv[1:]], capture_output=True, text=True, timeout=10)
    first = (done.stdout + done.stderr).strip().splitlines()
    line = first[0] if first else "installed"
    return line.removeprefix("nginx version: ").split(" Copyright")[0]


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def markdown(results: list[FamilyResult], info: dict[str, str], families: list[str],
             quick: bool) -> str:  # fmt: skip
    """The whole report."""
    out = ["# Benchmarks", "", HOW_TO.format(families=", ".join(families)), "## Machine", ""]
    out += _table(["", ""], [[key, value] for key, value in info.items()])
    if quick:
        out += ["", "**Quick run** (`--quick`): small sizes and short runs; indicative only."]
    out += ["", "## Summary", ""]
    out += _table(["family", "target", "measured", "result"],
                  [[r.title, c.name + f" ({c.bound})", c.shown, f"**{c.verdict}**"]
                   for r in results for c in r.checks])  # fmt: skip
    for result in results:
        out += ["", f"## {result.title}", "", result.about, ""]
        if result.error:
            out += [f"**Did not complete:** {result.error}", ""]
        for table in result.tables:
            out += [f"**{table.title}**", "", *_table(table.columns, table.rows), ""]
        if result.checks:
            out += _table(["target", "measured", "result"],
                          [[f"{c.name} {c.bound}", c.shown, f"**{c.verdict}**"]
                           for c in result.checks])  # fmt: skip
            out.append("")
        out += [f"- {note}" for note in result.notes]
        out.append(f"- Family run time: {result.seconds:.0f} s.")
    return "\n".join(out).rstrip() + "\n"
