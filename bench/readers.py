"""Many feed readers at once against `syndicate run`: errors and throughput, vs Werkzeug.

Each reader is an asyncio task that polls feeds the way readers do: a new connection per
poll, half of the polls conditional (``If-None-Match`` with the ETag it saw last), over
the site feed, a section feed and the ``/feeds/`` page. A poll is an error when the
connection fails, no answer arrives within the timeout, or the status is not 200/304.
The baseline is the same app under Werkzeug's threaded development server, which
`syndicate run` used before, measured in the same run.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bench import deploy
from bench.data import articles
from bench.procs import BIN, free_port, start, wait_http
from bench.results import Check, FamilyResult, Table

PATHS = ("/feeds/all.rss", "/feeds/all.atom", "/feeds/all.json", "/feeds/")
TIMEOUT = 30.0


@dataclass
class ReaderResult:
    """What the readers saw: polls, errors by kind, latencies."""

    polls: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    server: str = ""

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def rps(self) -> float:
        return self.polls / self.seconds if self.seconds else 0.0

    def quantile(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100)[int(q * 100) - 1]


async def _poll(host: str, port: int, path: str, etag: str | None) -> tuple[int, str, str]:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        head = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
        head += "Accept-Encoding: gzip\r\nUser-Agent: syndicate-bench-reader\r\n"
        if etag:
            head += f"If-None-Match: {etag}\r\n"
        writer.write((head + "\r\n").encode())
        await writer.drain()
        raw = await reader.read()  # the server closes after the answer
    finally:
        writer.close()
    header, _, _ = raw.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    found = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, found.get("etag", ""), found.get("server", "")


async def _reader(host: str, port: int, until: float, result: ReaderResult, seed: int) -> None:
    rng = random.Random(seed)
    etags: dict[str, str] = {}
    while time.monotonic() < until:
        path = rng.choice(PATHS)
        etag = etags.get(path) if rng.random() < 0.5 else None
        started = time.monotonic()
        try:
            status, seen, server = await asyncio.wait_for(_poll(host, port, path, etag), TIMEOUT)
        except TimeoutError:
            result.errors["timeout"] = result.errors.get("timeout", 0) + 1
            continue
        except (OSError, ValueError, IndexError) as exc:
            kind = type(exc).__name__
            result.errors[kind] = result.errors.get(kind, 0) + 1
            continue
        result.latencies.append(time.monotonic() - started)
        result.polls += 1
        result.statuses[status] = result.statuses.get(status, 0) + 1
        result.server = server or result.server
        if status not in (200, 304):
            result.errors[f"HTTP {status}"] = result.errors.get(f"HTTP {status}", 0) + 1
        if seen:
            etags[path] = seen


def read_feeds(base: str, readers: int = 200, seconds: float = 20.0) -> ReaderResult:
    """Run *readers* concurrent readers against *base* for *seconds*."""
    host, _, port = base.removeprefix("http://").rstrip("/").partition(":")
    result = ReaderResult()

    async def main() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(*(_reader(host, int(port), until, result, n) for n in range(readers)))

    started = time.monotonic()
    asyncio.run(main())
    result.seconds = time.monotonic() - started
    return result


WERKZEUG = """
import sys
from werkzeug.serving import make_server
from syndicate.wiring import create_app
make_server("127.0.0.1", int(sys.argv[1]), create_app(), threaded=True).serve_forever()
"""


def run(quick: bool = False, readers: int = 200, seconds: float | None = None) -> FamilyResult:
    seconds = seconds or (5.0 if quick else 20.0)
    result = FamilyResult(
        "readers",
        "Concurrent feed readers",
        f"{readers} concurrent readers for {seconds:g} s each (asyncio, a new connection per "
        "poll, half of them conditional) against `syndicate run` (waitress, "
        "16 threads) and against the same app under Werkzeug's threaded development server "
        "(what `run` used before), 50 stored articles, SQLite.",
    )
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        dep = deploy.make(Path(tmp) / "run")
        deploy.populate(dep, articles(50))
        runs = {}
        proc = start(stack, "run", [str(BIN / "syndicate"), "run"], env=dep.env,
                     log=dep.log("run"))  # fmt: skip
        wait_http(f"{dep.settings.public_url}/healthz", proc)
        runs["syndicate run (waitress)"] = read_feeds(dep.settings.public_url, readers, seconds)
        proc.stop()
        port = free_port()
        proc = start(stack, "werkzeug", [sys.executable, "-c", WERKZEUG, str(port)],
                     env={**dep.env, "SYNDICATE_PORT": str(port),
                          "SYNDICATE_BASE_URL": f"http://127.0.0.1:{port}"},
                     log=dep.log("werkzeug"))  # fmt: skip
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        runs["Werkzeug dev server"] = read_feeds(f"http://127.0.0.1:{port}", readers, seconds)
    _report(result, runs)
    return result


def _report(result: FamilyResult, runs: dict[str, ReaderResult]) -> None:
    table = Table("Polls, errors and latency", ["server", "polls", "polls/s", "errors",
                                                "p50", "p99", "Server header"])  # fmt: skip
    for name, r in runs.items():
        errors = ", ".join(f"{k} {v}" for k, v in sorted(r.errors.items())) or "0"
        table.rows.append([name, f"{r.polls:,}", f"{r.rps:,.0f}", errors,
                           f"{r.quantile(0.5) * 1000:.0f} ms", f"{r.quantile(0.99) * 1000:.0f} ms",
                           r.server])  # fmt: skip
    result.tables.append(table)
    ours = runs["syndicate run (waitress)"]
    base = runs["Werkzeug dev server"]
    result.checks.append(Check("errors under syndicate run", float(ours.error_count), 0,
                               at_most=True, unit=" errors"))  # fmt: skip
    ratio = ours.rps / base.rps if base.rps else None
    result.checks.append(Check("polls/s, waitress vs Werkzeug", ratio, 1.0, at_most=False))
    result.notes.append(f"CPUs: {os.cpu_count()}; the load generator shares them.")
