"""Ingest: articles/s from a 10,000-article .jsonl drop and through the push API."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from pathlib import Path

import requests

from bench import data, deploy
from bench.results import Check, FamilyResult, Table, fmt_ratio, ratio
from syndicate.ingest.folder import scan_folder

FOLDER_TARGET = 1000.0  # articles/s on SQLite


def folder_rate(dep: deploy.Deployment, count: int) -> float:
    """Articles/s for one scan of an inbox holding one *count*-line .jsonl file."""
    inbox = dep.settings.inbox_dir
    inbox.mkdir(parents=True, exist_ok=True)
    lines = (json.dumps(data.raw_article(n, prefix="drop"), ensure_ascii=False)
             for n in range(count))  # fmt: skip
    (inbox / "articles.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    service = dep.open_service()
    try:
        start = time.perf_counter()
        report = scan_folder(service.intake, settle_seconds=0)
        elapsed = time.perf_counter() - start
        stored = service.store.count_articles()
    finally:
        service.close()
    if stored != count or not report.files or not report.files[0].ok:
        raise RuntimeError(f"folder ingest stored {stored} of {count}: {report.files[:1]}")
    return count / elapsed


def store_rate(dep: deploy.Deployment, count: int) -> float:
    """Baseline: articles/s for Store.upsert_articles of the same, already normal, articles."""
    items = data.articles(count, prefix="drop")
    service = dep.open_service()
    try:
        start = time.perf_counter()
        for n in range(0, count, 500):
            service.store.upsert_articles(items[n : n + 500], deploy.NOW)
        return count / (time.perf_counter() - start)
    finally:
        service.close()


def api_rate(dep: deploy.Deployment, count: int, clients: int) -> float:
    """Articles/s POSTed to a running `syndicate serve` by *clients* concurrent clients."""
    url = f"{dep.settings.public_url}/api/articles"
    headers = {"Authorization": f"Bearer {dep.token}"}
    failures: list[str] = []

    def client(n: int) -> None:
        with requests.Session() as session:
            for k in range(n, count, clients):
                response = session.post(url, json=data.raw_article(k, prefix="api"),
                                        headers=headers, timeout=30)  # fmt: skip
                if response.status_code != 201:
                    failures.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} API posts failed, e.g. {failures[0]}")
    return count / elapsed


# A 10,000-article file of ~3 KB articles is ~30 MB: over the 5 MB default file limit.
SETTINGS_TOML = "max_file_bytes = 200000000\n"


def _on(database: str, tmp: Path, name: str, func: Callable[[deploy.Deployment], float]) -> float:
    context = deploy.postgres_schema() if database == "PostgreSQL" else nullcontext("")
    with context as url:
        return func(deploy.make(tmp / name, database_url=url, extra_toml=SETTINGS_TOML))


def _api(count: int, clients: int, workers: int) -> Callable[[deploy.Deployment], float]:
    def run(dep: deploy.Deployment) -> float:
        with ExitStack() as stack:
            deploy.serve(stack, dep, workers)
            return api_rate(dep, count, clients)

    return run


def run(quick: bool = False, drop: int | None = None, posts: int | None = None,
        workers: int = 2, clients: int = 8) -> FamilyResult:  # fmt: skip
    drop = drop or (1000 if quick else 10_000)
    posts = posts or (200 if quick else 2000)
    result = FamilyResult(
        "ingest", "Ingest",
        f"A {drop:,}-article `.jsonl` file dropped in the inbox and taken in by one "
        "`scan_folder` (settle time 0: parse, validate, sanitise, store, move the file), "
        "against the baseline of `Store.upsert_articles` of the same articles already "
        f"normalised (the bare database writes). Then {posts:,} articles POSTed to "
        f"`/api/articles` of `syndicate serve --workers {workers}` by {clients} concurrent "
        "keep-alive clients (each post also asks the web process for a background re-render).",
    )  # fmt: skip
    table = Table("Articles per second", ["path", "database", "articles/s",
                                          "vs bare store writes"])  # fmt: skip
    result.tables.append(table)
    databases = ["SQLite"] + (["PostgreSQL"] if deploy.postgres_available() else [])
    if len(databases) == 1:
        result.notes.append("PostgreSQL was not reachable: its rows are missing.")
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        root = Path(tmp)
        for database in databases:
            tag = database.lower()
            bare = _on(database, root, f"store-{tag}", lambda d: store_rate(d, drop))
            folder = _on(database, root, f"folder-{tag}", lambda d: folder_rate(d, drop))
            api = _on(database, root, f"api-{tag}", _api(posts, clients, workers))
            table.add(f"bare Store.upsert_articles ({drop:,})", database, f"{bare:,.0f}", "1.00×")
            table.add(f"drop folder .jsonl ({drop:,})", database, f"{folder:,.0f}",
                      fmt_ratio(ratio(folder, bare)))  # fmt: skip
            table.add(f"push API ({posts:,}, {clients} clients)", database, f"{api:,.0f}",
                      fmt_ratio(ratio(api, bare)))  # fmt: skip
            if database == "SQLite":
                result.checks.append(Check(f"drop folder on SQLite, {drop:,} articles", folder,
                                           FOLDER_TARGET, at_most=False, unit="/s"))  # fmt: skip
    result.notes.append("Each figure is one run on a fresh database (a repeat needs a new one).")
    result.notes.append(
        f"The {drop:,}-article file is larger than the default `max_file_bytes` (5 MB), so the "
        "bench raises that setting; with the default the file is rejected whole, with its reason."
    )
    return result
