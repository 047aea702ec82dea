"""The share-ledger JSON API and the operator page shell, over a real socket."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from werkzeug.serving import make_server

from syndicate.adapters.base import Outcome, ShareResult
from syndicate.cli import main
from syndicate.config import Settings
from syndicate.shares import posting
from syndicate.wiring import Wiring, create_app
from tests.share_helpers import Clock, account, article, make_service, write_config
from tests.test_worker_crash import publish

OWNER = "test-worker"


class Server:
    """The Flask app served on 127.0.0.1 in a thread, with a requests session."""

    def __init__(self, service: Wiring) -> None:
        self.service = service
        self.server = make_server("127.0.0.1", 0, create_app(wiring=service), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.http = requests.Session()
        self.auth = {"Authorization": f"Bearer {service.settings.api_token}"}

    def get(self, path: str, **kw: object) -> requests.Response:
        return self.http.get(self.url + path, timeout=10, **kw)  # type: ignore[arg-type]

    def post(self, path: str, **kw: object) -> requests.Response:
        return self.http.post(self.url + path, timeout=10, **kw)  # type: ignore[arg-type]

    def close(self) -> None:
        self.http.close()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def server(settings: Settings, tmp_path: object) -> Iterator[Server]:
    clock = Clock()
    service = make_service(settings, settings.database, [account("x"), account("reddit")], clock)
    srv = Server(service)
    yield srv
    srv.close()
    service.close()


def test_shares_api_needs_the_token(server: Server) -> None:
    """Without the bearer token the ledger API answers 401 with WWW-Authenticate."""
    for response in (
        server.get("/api/shares"),
        server.post("/api/shares/1/retry"),
        server.get("/api/admin/overview", headers={"Authorization": "Bearer no"}),
    ):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_list_shares_with_filters(server: Server) -> None:
    """GET /api/shares lists the issue's fields, filtered by article, state and network."""
    service = server.service
    for i in range(2):
        service.store.upsert_article(article(f"a{i}"), service.now())
    service.sharing.adapter("x").script.append(ShareResult(Outcome.PERMANENT, reason="too long"))
    posting.drain(service.outbox, owner=OWNER)
    everything = server.get("/api/shares", headers=server.auth).json()["shares"]
    assert len(everything) == 4
    fields = {
        "article",
        "network",
        "account",
        "state",
        "attempts",
        "next_attempt_at",
        "remote_id",
        "permalink",
        "last_error",
    }
    assert fields <= set(everything[0])
    dead = server.get("/api/shares?state=dead", headers=server.auth).json()["shares"]
    assert [(j["network"], j["last_error"], j["actions"]) for j in dead] == [
        ("x", "too long", ["retry", "cancel", "reshare"])
    ]
    one = server.get("/api/shares?article=a1&network=reddit", headers=server.auth).json()
    assert [(j["article"], j["network"], j["state"]) for j in one["shares"]] == [
        ("a1", "reddit", "sent")
    ]
    bad = server.get("/api/shares?state=lost", headers=server.auth)
    assert bad.status_code == 400 and "state" in bad.json()["fields"]


def test_actions_through_the_api(server: Server) -> None:
    """retry/cancel/resolve/reshare answer the new job; a refused one is 409, unknown id 404."""
    service = server.service
    service.store.upsert_article(article("a1"), service.now())
    job = server.get("/api/shares?network=x", headers=server.auth).json()["shares"][0]
    cancelled = server.post(f"/api/shares/{job['id']}/cancel", headers=server.auth)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    refused = server.post(f"/api/shares/{job['id']}/retry", headers=server.auth)
    assert refused.status_code == 409 and "cannot retry" in refused.json()["error"]
    again = server.post(f"/api/shares/{job['id']}/reshare", headers=server.auth)
    assert again.json()["state"] == "pending"
    assert server.post("/api/shares/999/cancel", headers=server.auth).status_code == 404
    assert server.post(f"/api/shares/{job['id']}/delete", headers=server.auth).status_code == 404
    bad = server.post(
        f"/api/shares/{job['id']}/resolve",
        headers=server.auth,
        json={"posted": "yes", "permalink": "javascript:alert(1)"},
    )
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"posted", "permalink"}
    detail = server.get(f"/api/shares/{job['id']}", headers=server.auth).json()
    assert [e["actor"] for e in detail["events"]][-2:] == ["operator:api", "operator:api"]


def test_overview_shows_articles_states_and_alerts(server: Server) -> None:
    """The overview lists each article's jobs by network and the reconnect alert."""
    service = server.service
    service.sharing.adapter("x").script.append(ShareResult(Outcome.AUTH, reason="revoked"))
    service.store.upsert_article(article("a1"), service.now())
    posting.drain(service.outbox, owner=OWNER)
    data = server.get("/api/admin/overview", headers=server.auth).json()
    states = {s["network"]: s["state"] for s in data["articles"][0]["shares"]}
    assert states == {"x": "held", "reddit": "sent"}
    assert data["alerts"][0]["message"] == "reconnect X account @desk: revoked"
    assert data["counts"]["held"] == 1


def test_admin_page_is_a_locked_down_shell(server: Server) -> None:
    """/admin needs no token but holds no data, forbids inline script and is not cached."""
    server.service.store.upsert_article(article("secret-story"), server.service.now())
    page = server.get("/admin")
    assert page.status_code == 200 and "secret-story" not in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert server.get("/static/admin.js").status_code == 200


def test_cli_lists_and_acts_on_shares(tmp_path: Path) -> None:
    """`syndicate shares` prints the table; `shares cancel ID` acts; refusals exit non-zero."""
    path = write_config(tmp_path, "http://127.0.0.1:9", f"sqlite:///{tmp_path / 'cli.db'}")
    service = publish(path, 2)
    service.close()
    runner = CliRunner()
    table = runner.invoke(main, ["--config", str(path), "shares", "--network", "x"])
    assert table.exit_code == 0, table.output
    lines = table.output.strip().splitlines()
    assert lines[0].split()[:5] == ["ID", "ARTICLE", "NETWORK", "ACCOUNT", "STATE"]
    assert len(lines) == 3 and all(" x " in line and "pending" in line for line in lines[1:])
    job_id = lines[1].split()[0]
    done = runner.invoke(main, ["--config", str(path), "shares", "cancel", job_id])
    assert done.exit_code == 0 and done.output.strip().endswith(": cancelled")
    refused = runner.invoke(main, ["--config", str(path), "shares", "resolve", job_id])
    assert refused.exit_code == 1 and "cannot resolve a job that is cancelled" in refused.output
    as_json = runner.invoke(
        main, ["--config", str(path), "shares", "--json", "--state", "cancelled"]
    )
    assert [j["id"] for j in json.loads(as_json.output)] == [int(job_id)]
