"""Wiring commands: run, serve, worker, ingest, render, articles."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from syndicate import config
from syndicate.cli.context import Context, open_wiring, pass_context
from syndicate.errors import ConfigError
from syndicate.ingest.folder import IngestReport
from syndicate.models import Article
from syndicate.wiring import Wiring, create_app
from syndicate.worker import scheduler as ticks


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """Turn SIGTERM and SIGINT (Ctrl-C) into an event the main thread waits on."""
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _worker_lock(service: Wiring) -> Iterator[None]:
    lock = ticks.worker_lock(service.store.dialect, service.settings.data_dir)
    if lock is not None:
        try:
            lock.acquire()
        except ConfigError as exc:
            raise click.ClickException(exc.reason) from exc
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


@click.command()
@click.option(
    "--demo", is_flag=True, help="Load the demo articles and post shares to the local sandbox."
)
@click.option("--host", default=None, help="Address to listen on (default: SYNDICATE_HOST).")
@click.option(
    "--port", default=None, type=click.IntRange(1, 65535), help="Port (default: SYNDICATE_PORT)."
)
@pass_context
def run(ctx: Context, demo: bool, host: str | None, port: int | None) -> None:
    """Run everything in one process: web server, scheduler (ingest, feeds, shares).

    The web app is served by waitress, a production WSGI server; for several web
    processes use `syndicate serve` and `syndicate worker` instead.

    \b
    Examples:
      syndicate run --demo                  # what `make run` does
      syndicate run --host 0.0.0.0 --port 9000
    """
    from syndicate.cli import demo as demo_mode
    from syndicate.web.server import WebServer, quiet_waitress_queue_log

    settings = ctx.settings
    if host is not None:
        settings = settings.replace(host=host, source="--host")
    if port is not None:
        settings = settings.replace(port=port, source="--port")
    sandbox = None
    if demo:
        settings = demo_mode.prepare(settings)
        sandbox = _start_sandbox(settings)
    ctx._settings = settings
    service = open_wiring(ctx)
    quiet_waitress_queue_log()
    with _worker_lock(service), _stop_on_signals() as stop:
        try:
            web = WebServer(create_app(wiring=service), settings.host, settings.port)
        except OSError as exc:
            remedy = f"--port or {config.env_name('port')}"
            raise click.ClickException(cannot_listen(settings, "port", exc, remedy)) from exc
        web.start()
        clock = BackgroundScheduler(**ticks.scheduler_options())
        ticks.add_ticks(clock, service.ticks(), service.now())
        ticks.count_tick_events(clock)
        clock.start()
        _banner(service, sandbox_url=sandbox.url if sandbox else None)
        stop.wait()
        service.stopping.set()
        click.echo("stopping: finishing the current work…", err=True)
        clock.shutdown(wait=True)
        web.stop()
        if sandbox is not None:
            sandbox.stop()
        service.close()
    click.echo("stopped", err=True)


def _start_sandbox(settings: Any) -> Any:
    from syndicate.cli import demo as demo_mode

    try:
        return demo_mode.start_sandbox(settings)
    except OSError as exc:
        raise click.ClickException(
            cannot_listen(settings, "sandbox_port", exc, config.env_name("sandbox_port"))
        ) from exc


def cannot_listen(settings: Any, name: str, exc: OSError, remedy: str) -> str:
    """Why a port cannot be used, naming where that port number came from."""
    host = settings.host if name == "port" else "127.0.0.1"
    where = settings.source(name)
    origin = "the default" if where == "default" else where
    return (
        f"cannot listen on {host}:{getattr(settings, name)} ({exc.strerror or exc}); "
        f"{name} comes from {origin}: pick a free port with {remedy}"
    )


def _banner(service: Wiring, sandbox_url: str | None) -> None:
    s = service.settings
    base = s.public_url
    lines = [
        "",
        f"syndicate is running on {base}  (waitress, a production WSGI server)",
        f"  feeds:       {base}/feeds/   (e.g. {base}/feeds/all.rss, all.atom, all.json)",
        f"  articles:    {base}/articles/<id>   (ids: `syndicate articles`)",
        f"  operator:    {base}/admin   (sign in with the API token)",
        f"  push API:    POST {base}/api/articles  (Authorization: Bearer <token>)",
        f"  health:      {base}/healthz  {base}/readyz  {base}/metrics",
        f"  inbox:       {s.inbox_dir.resolve()}  (drop .txt/.md/.json/.jsonl files here)",
        f"  feed files:  {s.feeds_dir.resolve()}",
        f"  database:    {_safe_url(s.database)}",
    ]
    if sandbox_url:
        lines.append(f"  sandbox:     {sandbox_url}/__requests  (every request sent to it)")
    lines += _account_lines(service)
    lines.append(_token_line(service))
    lines.append("Press Ctrl-C to stop.")
    click.echo("\n".join(lines))


def _account_lines(service: Wiring) -> list[str]:
    specs = service.sharing.config.accounts
    if not specs:
        return ["  accounts:    none configured: shares are not posted (see README, Sharing)"]
    sandbox = service.sharing.config.sandbox
    target = f"posting to the sandbox {sandbox}" if sandbox else "posting to the networks"
    from syndicate.shares.db import held_accounts

    with service.store.read() as conn:
        held = held_accounts(conn)
    lines = [f"  accounts:    {len(specs)}, {target}"]
    for spec in specs:
        state = "enabled" if spec.enabled else "disabled (enabled = false)"
        if spec.key in held:
            state = f"held until its credentials are renewed: {held[spec.key]}"
        lines.append(f"    {spec.key}  {state}")
    return lines


def _token_line(service: Wiring) -> str:
    s = service.settings
    if service.generated_token:
        return (
            f"  API token:   {s.api_token}  (made up for this run; "
            f"set {config.env_name('api_token')} to keep one)"
        )
    return f"  API token:   from {s.source('api_token')} (not shown)"


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


SERVE_THREADS = 64


@click.command()
@click.option("--bind", default=None, help="host:port (default: SYNDICATE_HOST:SYNDICATE_PORT).")
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 256),
    help="gunicorn worker processes (default 2×CPUs+1).",
)
@click.option(
    "--threads",
    default=SERVE_THREADS,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Threads per worker: each slow client holds one while it sends its request.",
)
@pass_context
def serve(ctx: Context, bind: str | None, workers: int | None, threads: int) -> None:
    """Run the web app only, under gunicorn (production). Run `syndicate worker` beside it.

    A thread reads each request, so a client sending its headers slowly holds one: with
    64 threads per worker, dozens of such clients leave the others served. Facing the
    internet, put nginx in front (docs/nginx.md), which buffers whole requests.

    
    Examples:
      SYNDICATE_API_TOKEN=… syndicate serve --bind 0.0.0.0:8080 --workers 4
      deploy/systemd/syndicate-serve.service runs it under systemd
    """
    from gunicorn.app.base import BaseApplication

    service = open_wiring(ctx)  # migrate and validate once, before forking
    service.close()
    # Every worker process must accept the same token: a generated one is shared.
    settings = service.settings
    if service.generated_token:
        click.echo(f"API token for this run: {settings.api_token}", err=True)

    class _App(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
        def load_config(self) -> None:
            self.cfg.set("bind", bind or f"{settings.host}:{settings.port}")
            self.cfg.set("workers", workers or (2 * (os.cpu_count() or 1) + 1))
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", None)

        def load(self) -> Any:

            return create_app(settings)

    _App().run()


@click.command()
@pass_context
def worker(ctx: Context) -> None:
    """Run the scheduler only: folder scans, upstream polls, feed renders, share posting.

    Stops on SIGTERM or Ctrl-C after the share in flight is recorded. On SQLite one worker
    per data dir (a second exits 1, "lock held"); on PostgreSQL run as many as you like.

    \b
    Examples:
      syndicate worker
      deploy/systemd/syndicate-worker.service runs it under systemd
    """
    service = open_wiring(ctx)
    with _worker_lock(service):
        clock = BlockingScheduler(**ticks.scheduler_options())
        ticks.add_ticks(clock, service.ticks(), service.now())
        ticks.count_tick_events(clock)

        stopper = threading.Thread(target=clock.shutdown, kwargs={"wait": True})

        def _shutdown(*_: Any) -> None:
            # Stop claiming; the tick in progress finishes and records its result.
            service.stopping.set()
            if stopper.ident is None:
                stopper.start()

        signal.signal(signal.SIGTERM, _shutdown)
        signal.signal(signal.SIGINT, _shutdown)
        click.echo(f"worker started on {_safe_url(service.settings.database)}", err=True)
        clock.start()
        # start() returns once the loop sees the stop; the running tick may still be busy.
        if stopper.ident is not None:
            stopper.join()
        service.close()
    click.echo("worker stopped", err=True)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="Print only rejected files and the summary.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report instead of text.")
@pass_context
def ingest(ctx: Context, paths: tuple[Path, ...], quiet: bool, as_json: bool) -> None:
    """Import article files (.txt, .md, .json, .jsonl) once; files are not moved.

    Prints a line per file taken, each rejected file with its reasons on stderr, then a
    summary. Each new article is queued for every enabled account. Exits 1 when any file
    was rejected.

    \b
    Examples:
      syndicate ingest story.md
      syndicate ingest --quiet exports/2026-11/
      syndicate ingest --json wire.jsonl | jq .rejected
    """
    from syndicate.ingest.folder import expand_paths, ingest_paths

    service = open_wiring(ctx)
    files = expand_paths(paths)
    if sys.stderr.isatty() and not (quiet or as_json):
        with click.progressbar(length=len(files), label="ingesting", file=sys.stderr) as bar:
            report = ingest_paths(service.intake, files, progress=lambda _path: bar.update(1))
    else:
        report = ingest_paths(service.intake, files)
    service.publisher.render_if_changed()
    service.close()
    if as_json:
        click.echo(json.dumps(_ingest_json(report), indent=2, ensure_ascii=False))
    else:
        _print_ingest(report, quiet)
    if report.rejected:
        sys.exit(1)


def _print_ingest(report: IngestReport, quiet: bool) -> None:
    for result in report.files:
        kinds = ", ".join(sorted({c.kind for c in result.changes})) or "nothing stored"
        line = f"{result.status:<8}  {result.path}  ({len(result.changes)} article(s): {kinds})"
        if result.problems:
            click.echo(line, err=True)
            for problem in result.problems:
                click.echo(f"          {problem}", err=True)
        elif not quiet:
            click.echo(line)
    click.echo(ingest_summary(report))


def ingest_summary(report: IngestReport) -> str:
    """``31 files: 30 taken, 1 with problems; articles: 28 created, 2 updated``."""
    kinds = [c.kind for c in report.changes]
    counts = ", ".join(f"{kinds.count(k)} {k}" for k in CHANGE_KINDS if k in kinds) or "none"
    return (
        f"{len(report.files)} files: {len(report.taken)} taken, "
        f"{len(report.rejected)} with problems; articles: {counts}"
    )


CHANGE_KINDS = ("created", "updated", "republished", "unchanged")


def _ingest_json(report: IngestReport) -> dict[str, Any]:
    return {
        "files": [
            {
                "path": str(result.path),
                "status": result.status,
                "articles": [{"id": c.article.id, "change": c.kind} for c in result.changes],
                "problems": list(result.problems),
            }
            for result in report.files
        ],
        "taken": len(report.taken),
        "rejected": len(report.rejected),
        "summary": ingest_summary(report),
    }


@click.command()
@click.option("--force", is_flag=True, help="Rewrite every file even when unchanged.")
@pass_context
def render(ctx: Context, force: bool) -> None:
    """Write every feed (RSS, Atom, JSON Feed and .gz) to the feeds dir.

    \b
    Examples:
      syndicate render
      syndicate render --force     # rebuild every file, e.g. after restoring a backup
    """
    service = open_wiring(ctx)
    changed = service.publisher.render_all(force=force)
    total = len(service.publisher.specs()) * 3
    click.echo(f"{len(changed)} of {total} feed files changed in {service.settings.feeds_dir}")
    service.close()


@click.command()
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Show at most this many.",
)
@click.option(
    "--status",
    type=click.Choice(["published", "unpublished", "all"]),
    default="all",
    show_default=True,
    help="Only articles in this state.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_context
def articles(ctx: Context, limit: int, status: str, as_json: bool) -> None:
    """List stored articles, newest first: date, status, id, categories, title.

    \b
    Examples:
      syndicate articles --limit 10
      syndicate articles --status unpublished
      syndicate articles --json | jq -r '.[].id'
    """
    service = open_wiring(ctx, must_exist=True)
    try:
        wanted = None if status == "all" else status
        items = service.store.recent_articles(limit=limit, status=wanted)
        stored = service.store.count_articles() if not items else len(items)
    finally:
        service.close()
    if as_json:
        click.echo(json.dumps([_article_json(a) for a in items], indent=2, ensure_ascii=False))
        return
    if not items:
        click.echo(f"no {status} articles ({stored} stored)" if stored else "no articles yet")
        return
    rows = [
        (f"{a.published:%Y-%m-%d %H:%M}", a.status, a.id, ",".join(t.slug for t in a.categories))
        for a in items
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row, a in zip(rows, items, strict=True):
        cells = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo(f"{cells}  {a.title}")


def _article_json(a: Article) -> dict[str, Any]:
    return {
        "id": a.id,
        "title": a.title,
        "status": a.status,
        "url": a.url,
        "author": a.author,
        "published": a.published.isoformat(),
        "updated": a.updated.isoformat(),
        "categories": [t.label for t in a.categories],
        "tags": [t.label for t in a.tags],
    }
