"""No 500s on bad input: every route's path and query parameters, hostile values, both backends.

The sweep walks the app's own URL map, so a route added later is swept too. Each path
variable and each query parameter any route reads gets NUL, huge and negative numbers,
Unicode digits, over-long values, invalid UTF-8 and path tricks; every answer must be
below 500 (with the API token, so handlers run past the auth check).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from live import close_service, fetch, live_server

from syndicate.config import Settings
from syndicate.shares import heartbeat
from syndicate.wiring import Wiring, create_app

HOSTILE = [
    "\x00", "a\x00b", "%00", "9" * 5000, str(2**64), str(2**63), "-1", "-99999999999999999999",
    "²", "١٢٣", "１２", "߀", "1e9", "0x10", " 1", "1.5", "NaN", "x" * 300, "y" * 10_000,
    "../../etc/passwd", "..", "%ff%fe", "日本語", "\u202e", "' OR 1=1 --", "<script>",
    "\ud800", "a/b", "10000-01-01", "",
]  # fmt: skip
QUERY_PARAMS = ("limit", "offset", "status", "state", "network", "article")
# The query sweep multiplies routes by parameters: a shorter list of the worst values.
HOSTILE_QUERY = [
    "\x00", "9" * 5000, str(2**64), "-1", "²", "١٢٣", "１２", "1.5", "y" * 10_000, "%ff%fe",
    "\ud800", "",
]  # fmt: skip
ARTICLE = {"id": "a1", "title": "Harbour reopens", "text": "Ferries run again."}
# A value each path variable can take, so the query sweep reaches every handler.
PLAUSIBLE = {"name": "all", "extension": "rss", "article_id": "a1", "job_id": "1",
             "action": "retry", "filename": "x.css"}  # fmt: skip


def encode(value: str) -> str:
    """Percent-encode *value* as UTF-8, lone surrogates as their raw bytes."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def paths(app_rules: list[tuple[str, set[str]]]) -> Iterator[tuple[str, str]]:
    """(method, path) for every rule with each hostile value in each path variable."""
    for rule, methods in app_rules:
        variables = re.findall(r"<(?:[^:>]+:)?([^>]+)>", rule)
        for method in sorted(methods):
            if not variables:
                yield method, rule
                continue
            for value in HOSTILE:
                path = rule
                for _ in variables:
                    path = re.sub(r"<[^>]+>", encode(value) or "x", path, count=1)
                yield method, path


def broken(path: str, status: int) -> bool:
    """A 5xx, except /readyz saying "not ready" (503 is its answer, not an error)."""
    return status >= 500 and not (path.startswith("/readyz") and status == 503)


@pytest.fixture
def service(settings: Settings, database_url: str) -> Iterator[Wiring]:
    service = Wiring.open(settings.replace(database_url=database_url))
    service.publisher.render_all()
    heartbeat(service)  # a worker is alive: /readyz answers 200, not 503
    yield service
    close_service(service)


def test_no_route_answers_500_to_hostile_input(service: Wiring, settings: Settings) -> None:
    """Every route, every hostile path value and query value: a 4xx or a 2xx/3xx, never 5xx."""
    app = create_app(wiring=service)
    rules = [
        (r.rule, set(r.methods or ()) - {"HEAD", "OPTIONS"})
        for r in app.url_map.iter_rules()
        if r.endpoint != "static"
    ]
    auth = {"Authorization": f"Bearer {settings.api_token}"}
    failures: list[str] = []
    with live_server(app) as base:
        body = json.dumps(ARTICLE).encode()
        post = {**auth, "Content-Type": "application/json"}
        assert fetch(f"{base}/api/articles", method="POST", headers=post, body=body).status == 201
        for method, path in paths(rules):
            extra = {"Content-Type": "application/json"} if method == "POST" else {}
            reply = fetch(base + path, method=method, headers={**auth, **extra},
                          body=b"{}" if method == "POST" else None)  # fmt: skip
            if broken(path, reply.status):
                failures.append(f"{method} {path[:80]} -> {reply.status}")
        for rule, methods in rules:
            if "GET" not in methods:
                continue
            rule = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: PLAUSIBLE[m.group(1)], rule)
            for name in QUERY_PARAMS:
                for value in HOSTILE_QUERY:
                    path = f"{rule}?{name}={encode(value)}"
                    reply = fetch(base + path, headers=auth)
                    if broken(path, reply.status):
                        failures.append(f"GET {path[:80]} -> {reply.status}")
    assert failures == [], "\n".join(failures[:40])
