"""A throw-away syndicate deployment: temp dirs, settings, database, and its processes."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bench.procs import BIN, Proc, free_port, start, wait_http
from syndicate import config
from syndicate.config import Settings
from syndicate.models import Article
from syndicate.wiring import Wiring

POSTGRES_URL = os.environ.get(
    "SYNDICATE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2027, 1, 1, tzinfo=UTC)


@dataclass
class Deployment:
    """Settings and environment shared by the bench process and the children it starts."""

    root: Path
    env: dict[str, str]
    settings: Settings

    @property
    def token(self) -> str:
        return self.settings.api_token

    def open_service(self) -> Wiring:
        """The service as `syndicate worker` opens it (share hook installed)."""
        service = Wiring.open(self.settings)
        service.sharing.validate()
        return service

    def log(self, name: str) -> Path:
        return self.root / f"{name}.log"


def make(root: Path, *, database_url: str = "", extra_toml: str = "",
         port: int | None = None) -> Deployment:  # fmt: skip
    """A deployment in *root* (SQLite in it unless *database_url*), config written to disk."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # nginx workers (another user) read the feeds dir
    port = port or free_port()
    cfg = root / "syndicate.toml"
    cfg.write_text(
        'site_title = "syndicate bench news"\nsite_url = "https://news.example.com/"\n'
        + extra_toml,
        encoding="utf-8",
    )
    env = {
        "SYNDICATE_CONFIG": str(cfg),
        "SYNDICATE_DATA_DIR": str(root / "data"),
        "SYNDICATE_FEEDS_DIR": str(root / "feeds"),
        "SYNDICATE_INBOX": str(root / "inbox"),
        "SYNDICATE_DATABASE_URL": database_url,
        "SYNDICATE_API_TOKEN": secrets.token_urlsafe(24),
        "SYNDICATE_HOST": "127.0.0.1",
        "SYNDICATE_PORT": str(port),
        "SYNDICATE_BASE_URL": f"http://127.0.0.1:{port}",
        "SYNDICATE_LOG_LEVEL": "WARNING",
    }
    (root / "feeds").mkdir(exist_ok=True)
    (root / "feeds").chmod(0o755)
    return Deployment(root, env, config.load(cfg, env=env))


def populate(dep: Deployment, items: Sequence[Article], batch: int = 500) -> None:
    """Store *items* directly (no ingest), then render every feed to the feeds dir."""
    service = dep.open_service()
    try:
        for n in range(0, len(items), batch):
            service.store.upsert_articles(items[n : n + batch], NOW)
        service.publisher.render_all()
    finally:
        service.close()


def serve(stack: ExitStack, dep: Deployment, workers: int, name: str = "serve") -> Proc:
    """`syndicate serve` (gunicorn) on the deployment's port, answering."""
    proc = start(stack, name, [str(BIN / "syndicate"), "serve", "--bind",
                               f"127.0.0.1:{dep.settings.port}", "--workers", str(workers)],
                 env=dep.env, log=dep.log(name))  # fmt: skip
    wait_http(f"{dep.settings.public_url}/healthz", proc)
    return proc


def worker(stack: ExitStack, dep: Deployment, name: str = "worker") -> Proc:
    """`syndicate worker` for the deployment."""
    return start(stack, name, [str(BIN / "syndicate"), "worker"], env=dep.env,
                 log=dep.log(name))  # fmt: skip


@contextmanager
def postgres_schema(prefix: str = "bench") -> Iterator[str]:
    """A URL whose search_path is a fresh PostgreSQL schema, dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        sep = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


def postgres_available() -> bool:
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
        return True
    except sa.exc.SQLAlchemyError:
        return False
