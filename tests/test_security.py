"""Security checklist items of docs/reliability.md §6 that no feature test covers on its own."""

from __future__ import annotations

import hmac
import os
import pyexpat
import re
import ssl
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from live import close_service, fetch, live_server

import syndicate
from syndicate.config import Settings
from syndicate.errors import UnsafeRuntimeError
from syndicate.publish import Publisher
from syndicate.store import Store
from syndicate.web import auth
from syndicate.wiring import Wiring, create_app


@pytest.fixture
def service(settings: Settings) -> Iterator[Wiring]:
    service = Wiring.open(settings)
    service.publisher.render_all()
    yield service
    close_service(service)


def test_old_expat_stops_every_process_at_start_up(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Web, worker and CLI all open a Wiring: with expat < 2.4.1 none of them starts."""
    monkeypatch.setattr(pyexpat, "EXPAT_VERSION", "expat_2.2.10")
    with pytest.raises(UnsafeRuntimeError, match=r"expat >= 2\.4\.1"):
        Wiring.open(settings)
    with pytest.raises(UnsafeRuntimeError):
        create_app(settings)


def test_old_openssl_stops_start_up(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """An OpenSSL older than 1.1.1 stops start-up naming the version found and needed."""
    monkeypatch.setattr(ssl, "OPENSSL_VERSION_INFO", (1, 0, 2, 21, 15))
    monkeypatch.setattr(ssl, "OPENSSL_VERSION", "OpenSSL 1.0.2u  20 Dec 2019")
    with pytest.raises(UnsafeRuntimeError, match=r"OpenSSL 1\.0\.2u.*OpenSSL >= 1\.1\.1"):
        Wiring.open(settings)


def test_new_sqlite_database_is_private_to_its_owner(tmp_path: Path) -> None:
    """A new SQLite file, and the WAL beside it, get mode 0600 whatever the umask allows."""
    old = os.umask(0o022)
    try:
        store = Store.open(f"sqlite:///{tmp_path / 'db' / 'syndicate.db'}")
    finally:
        os.umask(old)
    try:
        for name in ("syndicate.db", "syndicate.db-wal"):
            mode = stat.S_IMODE((tmp_path / "db" / name).stat().st_mode)
            assert mode == 0o600, (name, oct(mode))
    finally:
        store.close()


def test_every_response_says_nosniff(service: Wiring) -> None:
    """Feeds (200 and 304), pages, API answers and errors all carry nosniff."""
    app: Flask = create_app(wiring=service)

    @app.get("/boom")
    def boom() -> Any:
        raise RuntimeError("unexpected")

    token = {"Authorization": f"Bearer {service.settings.api_token}"}
    with live_server(app) as base:
        etag = fetch(f"{base}/feeds/all.rss").header("ETag") or ""
        replies = [
            fetch(f"{base}/feeds/all.rss"),
            fetch(f"{base}/feeds/all.rss", headers={"If-None-Match": etag}),
            fetch(f"{base}/feeds/all.json?limit=2"),
            fetch(f"{base}/feeds/nope.rss"),
            fetch(f"{base}/"),
            fetch(f"{base}/healthz"),
            fetch(f"{base}/api/articles", headers=token),
            fetch(f"{base}/api/articles"),
            fetch(f"{base}/api/articles", method="PUT", headers=token),
            fetch(f"{base}/boom"),
        ]
    assert [r.status for r in replies] == [200, 304, 200, 404, 200, 200, 200, 401, 405, 500]
    for reply in replies:
        assert reply.header("X-Content-Type-Options") == "nosniff", reply.status


def test_bearer_token_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Token checks go through hmac.compare_digest, for right and wrong tokens alike."""
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert auth.token_matches("Bearer right-token", "right-token")
    assert not auth.token_matches("Bearer wrong-token", "right-token")
    assert len(seen) == 2


def test_nothing_pickles_or_uses_a_database_job_store() -> None:
    """No module of the package can unpickle data (pickle, shelve, marshal, SQLAlchemyJobStore)."""
    banned = re.compile(r"\b(pickle|cPickle|shelve|marshal|dill|SQLAlchemyJobStore)\b")
    package = Path(syndicate.__file__).parent
    found = [
        f"{path.relative_to(package)}:{n}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if banned.search(line)
    ]
    assert found == []


def test_concurrent_gets_of_a_cold_dynamic_feed_render_it_once(
    service: Wiring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 concurrent GETs of an uncached ``?limit=`` feed run the renderer once (T36)."""
    renders: list[str] = []
    lock = threading.Lock()
    original = Publisher.render_variant

    def counting(self: Publisher, *args: Any, **kwargs: Any) -> Any:
        with lock:
            renders.append(args[0])
        threading.Event().wait(0.1)  # a slow render, so concurrent misses pile up
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Publisher, "render_variant", counting)
    with live_server(create_app(wiring=service)) as base, ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda _: fetch(f"{base}/feeds/all.rss?limit=3"), range(200)))
    assert {r.status for r in replies} == {200}
    assert len({r.body for r in replies}) == 1
    assert renders == ["all"]
