"""Serve: a cached 50-item feed from `syndicate serve` against per-request feedgen and nginx."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from bench import data, deploy
from bench.load import LoadResult, run_load, tool_name
from bench.procs import BIN, ROOT, Proc, free_port, start, wait_http
from bench.results import Check, FamilyResult, Table, fmt_ratio, ratio

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
KINDS = ("200", "200 gzip", "304")
TARGETS = {("baseline", "200"): 8.0, ("baseline", "200 gzip"): 30.0, ("nginx", "200"): 0.15}
FEED = "/feeds/all.rss"


def nginx_config(prefix: Path, *, port: int, workers: int, feeds_dir: Path, max_age: int) -> str:
    """The nginx config of docs/nginx.md for a temp prefix."""
    text = TEMPLATE.read_text(encoding="utf-8")
    values = {"prefix": prefix, "port": port, "workers": workers, "feeds_dir": feeds_dir,
              "max_age": max_age}  # fmt: skip
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def start_nginx(stack: ExitStack, root: Path, feeds_dir: Path, workers: int,
                max_age: int) -> tuple[Proc, str]:  # fmt: skip
    """nginx as a non-daemon child on a free port; returns it and its base URL."""
    prefix = root / "nginx"
    prefix.mkdir()
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_config(prefix, port=port, workers=workers, feeds_dir=feeds_dir,
                                 max_age=max_age))  # fmt: skip
    argv = [str(NGINX), "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]
    proc = start(stack, "nginx", argv, log=prefix / "stdout.log")
    base = f"http://127.0.0.1:{port}"
    wait_http(base + FEED, proc)
    return proc, base


def start_baseline(stack: ExitStack, dep: deploy.Deployment, workers: int) -> str:
    """Baseline (a) under gunicorn with the settings `syndicate serve` uses."""
    port = free_port()
    argv = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--worker-class", "gthread", "--threads", "4", "bench.baseline_app:app"]  # fmt: skip
    env = {"SYNDICATE_DATABASE_URL": dep.settings.database, "PYTHONPATH": str(ROOT)}
    proc = start(stack, "baseline", argv, env=env, log=dep.log("baseline"), cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    wait_http(base + FEED, proc)
    return base


def _headers_for(base: str, kind: str) -> dict[str, str]:
    gzip = {"Accept-Encoding": "gzip"}
    if kind == "200":
        return {}
    if kind == "200 gzip":
        return gzip
    with urllib.request.urlopen(base + FEED, timeout=10) as response:  # plain ETag
        return {"If-None-Match": response.headers["ETag"]}


def check_304(base: str, headers: dict[str, str]) -> bool:
    request = urllib.request.Request(base + FEED, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10):
            return False
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code == 304


def check_gzip(base: str) -> bool:
    request = urllib.request.Request(base + FEED, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers.get("Content-Encoding") == "gzip"


def run(quick: bool = False, workers: int = 2, seconds: float | None = None) -> FamilyResult:
    seconds = seconds or (2 if quick else 5)
    repeats = 1 if quick else 3
    result = FamilyResult(
        "serve", "Serve",
        f"Requests/s and p99 latency for the cached 50-item site feed (`{FEED}`), loaded with "
        f"{tool_name()} (2 threads, 32 connections, {seconds:g} s per run, median of "
        f"{repeats}), from `syndicate serve --workers {workers}` (gunicorn gthread, 4 threads) "
        f"against (a) a minimal Flask app under the same gunicorn settings that renders the "
        f"same feed with bare feedgen on every request, and (b) nginx ({workers} workers) "
        "serving the same file from the feeds dir with `gzip_static` (docs/nginx.md). The load "
        "generator shares the machine's cores with the server under test.",
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp, ExitStack() as stack:
        Path(tmp).chmod(0o755)  # nginx's workers run as another user
        dep = deploy.make(Path(tmp) / "site")
        deploy.populate(dep, data.articles(200, prefix="serve"))
        deploy.serve(stack, dep, workers)
        servers = {"syndicate": dep.settings.public_url,
                   "baseline": start_baseline(stack, dep, workers)}  # fmt: skip
        if NGINX:
            servers["nginx"] = start_nginx(stack, Path(tmp), dep.settings.feeds_dir, workers,
                                           dep.settings.feed_ttl * 60)[1]  # fmt: skip
        else:
            result.notes.append("nginx is not installed: comparison (b) skipped.")
        for name, base in servers.items():
            if not check_gzip(base):
                result.notes.append(f"{name} did not answer gzip when asked.")
            if not check_304(base, _headers_for(base, "304")):
                result.notes.append(f"{name} did not answer 304 to its own ETag.")
        runs = _measure(servers, seconds, repeats)
    _report(result, runs)
    return result


def _measure(servers: dict[str, str], seconds: float,
             repeats: int) -> dict[tuple[str, str], list[LoadResult]]:  # fmt: skip
    runs: dict[tuple[str, str], list[LoadResult]] = {}
    plans = {(name, kind): _headers_for(base, kind) for name, base in servers.items()
             for kind in KINDS}  # fmt: skip
    for base in servers.values():  # warm every worker
        run_load(base + FEED, {}, seconds=1)
    for _ in range(repeats):  # round-robin, so load drift hits every server alike
        for (name, kind), headers in plans.items():
            expect = 304 if kind == "304" else 200
            load = run_load(servers[name] + FEED, headers, seconds=seconds, expect=expect)
            runs.setdefault((name, kind), []).append(load)
    return runs


def _report(result: FamilyResult, runs: dict[tuple[str, str], list[LoadResult]]) -> None:
    rps = {key: statistics.median(r.rps for r in loads) for key, loads in runs.items()}
    p99 = {key: statistics.median(r.p99 for r in loads) for key, loads in runs.items()}
    errors = {key: sum(r.errors for r in loads) for key, loads in runs.items()}
    table = Table("Requests/s and p99 (median of runs)",
                  ["response", "server", "requests/s", "p99", "errors",
                   "syndicate / this server"])  # fmt: skip
    for kind in KINDS:
        ours = rps.get(("syndicate", kind), 0.0)
        for name in ("syndicate", "baseline", "nginx"):
            if (name, kind) not in rps:
                continue
            label = {"syndicate": "syndicate serve", "baseline": "(a) feedgen per request",
                     "nginx": "(b) nginx gzip_static"}[name]  # fmt: skip
            share = fmt_ratio(ratio(ours, rps[(name, kind)])) if name != "syndicate" else "—"
            latency = f"{p99[(name, kind)] * 1000:.1f} ms"
            table.add(kind, label, f"{rps[(name, kind)]:,.0f}", latency, errors[(name, kind)],
                      share)  # fmt: skip
    result.tables.append(table)
    for (name, kind), target in TARGETS.items():
        if ("syndicate", kind) in rps and (name, kind) in rps:
            measured = ratio(rps[("syndicate", kind)], rps[(name, kind)])
        else:
            measured = None
        label = "(a) feedgen per request" if name == "baseline" else "(b) nginx"
        result.checks.append(Check(f"{kind} requests/s vs {label}", measured, target,
                                   at_most=False))  # fmt: skip
    if any(errors.values()):
        result.notes.append("Some runs had unexpected statuses or socket errors (column errors).")
