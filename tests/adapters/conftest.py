"""Fixtures for adapter tests: the sandbox, a session, test accounts and a canned-answer server."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from syndicate.adapters.base import Account, Outcome, ShareResult
from syndicate.sandbox.server import Sandbox
from syndicate.testing import NOW, make_article

SECRETS = {
    "x": {
        "consumer_key": "ck-TOPSECRET-1",
        "consumer_secret": "cs-TOPSECRET-2",
        "access_token": "at-TOPSECRET-3",
        "access_token_secret": "ats-TOPSECRET-4",
    },
    "facebook": {"page_token": "pt-TOPSECRET-5"},
    "reddit": {
        "client_id": "cid-TOPSECRET-6",
        "client_secret": "csec-TOPSECRET-7",
        "username": "newsbot",
        "password": "pw-TOPSECRET-8",
    },
    "linkedin": {"access_token": "li-TOPSECRET-9"},
}
OPTIONS = {
    "x": {"via": "newsdesk"},
    "facebook": {"page_id": "1234567890"},
    "reddit": {"subreddit": "test"},
    "linkedin": {"author": "urn:li:organization:42"},
}


def register_x(sb: Sandbox) -> None:
    """Register the test X app's OAuth 1.0a secrets, as a developer portal would."""
    x = SECRETS["x"]
    sb.register_oauth1(
        x["consumer_key"], x["consumer_secret"], x["access_token"], x["access_token_secret"]
    )


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    """One sandbox for the whole run (reset before each test by ``sandbox``)."""
    with Sandbox() as sb:
        register_x(sb)
        yield sb


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Sandbox:
    """The sandbox with no posts, no log and no faults."""
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def session() -> Iterator[requests.Session]:
    """A requests session, closed after the test."""
    with requests.Session() as s:
        yield s


def account(network: str, **options: Any) -> Account:
    """The test account of *network* with its secret test credentials."""
    return Account(network, "newsdesk", {**OPTIONS[network], **options}, dict(SECRETS[network]))


class Canned:
    """A tiny local server answering every request with one fixed response."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}
        self.requests: list[dict[str, Any]] = []


@contextmanager
def canned(
    status: int,
    body: Any = None,
    headers: dict[str, str] | None = None,
    route: Callable[[str], tuple[int, Any, dict[str, str]]] | None = None,
) -> Iterator[tuple[str, Canned]]:
    """Serve a documented answer on 127.0.0.1 (optionally chosen per path by *route*)."""
    spec = Canned(status, body, headers)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            spec.requests.append({"path": self.path, "headers": dict(self.headers), "body": raw})
            status, body, headers = (
                route(self.path) if route else (spec.status, spec.body, spec.headers)
            )
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            for k, v in {"Content-Type": "application/json", **headers}.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", spec
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def post_against(
    session: requests.Session,
    adapter_cls: Any,
    network: str,
    status: int,
    body: Any,
    headers: dict[str, str],
) -> ShareResult:
    """Build *network*'s request and send it to a local server giving one documented answer."""
    with canned(status, body, headers) as (url, _):
        adapter = adapter_cls(session=session, base_url=url)
        acct = account(network)
        result: ShareResult = adapter.send(adapter.build(make_article(), acct, NOW), acct, NOW)
    return result


def assert_outcome(
    result: ShareResult, network: str, outcome: Outcome, fields: dict[str, object]
) -> None:
    """The result has the expected outcome and fields, and no credential of *network*."""
    assert result.outcome is outcome
    for name, value in fields.items():
        assert getattr(result, name) == value
    assert not any(secret in repr(result) for secret in SECRETS[network].values())
