"""HTTP load: wrk when installed, else a bounded threaded Python client (said in the report)."""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

WRK = shutil.which("wrk")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class LoadResult:
    """Throughput and tail latency of one load run."""

    rps: float
    p99: float  # seconds
    errors: int  # responses other than the expected status, or socket errors
    tool: str


def tool_name() -> str:
    return "wrk" if WRK else "python threaded client (wrk not installed)"


def run_load(url: str, headers: dict[str, str], *, seconds: float, connections: int = 32,
             threads: int = 2, expect: int = 200) -> LoadResult:  # fmt: skip
    """Load *url* for *seconds* with keep-alive connections."""
    if WRK:
        return _wrk(url, headers, seconds, connections, threads, expect)
    return _python(url, headers, seconds, min(connections, 16), expect)


def _wrk(url: str, headers: dict[str, str], seconds: float, connections: int, threads: int,
         expect: int) -> LoadResult:  # fmt: skip
    argv = [str(WRK), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            "--latency", "--timeout", "5s"]  # fmt: skip
    for key, value in headers.items():
        argv += ["-H", f"{key}: {value}"]
    out = subprocess.run([*argv, url], capture_output=True, text=True, timeout=seconds + 30,
                         check=True).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s|m)\b", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    errors += sum(int(n) for n in sock.groups()) if sock else 0
    latency = float(p99.group(1)) * _UNITS[p99.group(2)] if p99 else float("nan")
    return LoadResult(rps, latency, errors, "wrk")


def _python(url: str, headers: dict[str, str], seconds: float, clients: int,
            expect: int) -> LoadResult:  # fmt: skip
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    deadline = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
        try:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    ok = response.status == expect
                except OSError:
                    conn.close()
                    ok = False
                latencies[n].append(time.perf_counter() - start)
                errors[n] += not ok
        finally:
            conn.close()

    workers = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    begun = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - begun
    every = sorted(t for bucket in latencies for t in bucket)
    p99 = every[int(0.99 * (len(every) - 1))] if every else float("nan")
    return LoadResult(len(every) / elapsed, p99, sum(errors), "python")
