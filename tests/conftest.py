"""Shared fixtures: settings in a temp dir, and a store on SQLite and (when set) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from syndicate import config
from syndicate.config import Settings
from syndicate.store import Store

POSTGRES_URL = os.environ.get("SYNDICATE_TEST_POSTGRES_URL", "")
FROZEN_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand; pass it to Wiring as its clock."""

    def __init__(self, now: datetime = FROZEN_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def frozen_now() -> datetime:
    """A fixed 'now' for pure code under test."""
    return FROZEN_NOW


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings that keep every file inside the test's temp dir."""
    return config.load(
        path=tmp_path / "absent.toml",
        env={},
        overrides={
            "data_dir": tmp_path / "data",
            "feeds_dir": tmp_path / "feeds",
            "base_url": "https://feeds.example.com",
            "site_url": "https://news.example.com",
            "api_token": "test-token-0123456789abcdef0123456789",
        },
    )


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need SYNDICATE_TEST_POSTGRES_URL (set by .ci/run)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated, empty store on each backend."""
    s = Store.open(database_url)
    yield s
    s.close()
