"""The share commands through click's CliRunner: adapters, preview, share --dry-run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sharing_support import SECRETS, SECRETS_FILE, TOKENS, WHEN, make_article

from syndicate import config
from syndicate.cli import main
from syndicate.models import Image
from syndicate.wiring import Wiring

ACCOUNTS = """
[share.networks.x]
utm = { utm_source = "x" }

[[share.accounts]]
network = "x"
name = "newsdesk"
auth = "oauth2"

[[share.accounts]]
network = "facebook"
name = "demo-page"
page_id = "1000000000001"

[[share.accounts]]
network = "reddit"
name = "desk"
subreddit = "worldnews"
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """A settings file with three accounts and a store holding two articles."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(SECRETS_FILE)
    path = tmp_path / "syndicate.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\nfeeds_dir = "{tmp_path / "feeds"}"\n'
        f'base_url = "https://feeds.example.com"\napi_token = "t0123456789abcdef"\n'
        f'secrets_file = "{secrets}"\n{ACCOUNTS}'
    )
    service = Wiring.open(config.load(path, env={}))
    service.store.upsert_article(make_article(), WHEN)
    webp = Image("https://news.example.com/i.webp", None, 1000, 400, 200)
    service.store.upsert_article(make_article(id="webp", image=webp), WHEN)
    service.store.upsert_article(make_article(id="draft", status="unpublished"), WHEN)
    service.close()
    return path


def run(config_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config_path), *args], env=SECRETS)
    return result.exit_code, result.output


def test_adapters_lists_the_installed_ones() -> None:
    """`syndicate adapters` lists the four built-ins with their capabilities."""
    result = CliRunner().invoke(main, ["adapters", "--json"])
    assert result.exit_code == 0
    listed = json.loads(result.output)
    assert {"facebook", "x", "reddit", "linkedin"} <= set(listed)
    assert listed["x"]["label"] == "X" and "can_lookup" in listed["x"]
    text = CliRunner().invoke(main, ["adapters"]).output
    assert "linkedin\n" in text and "  label: LinkedIn" in text


def test_preview_exit_codes(config_path: Path) -> None:
    """preview exits 0 for a clean article, 1 when a network would refuse it, 2 if unknown."""
    code, out = run(config_path, "preview", "nato-kursk")
    assert code == 0, out
    code, out = run(config_path, "preview", "webp")
    assert code == 1 and "error    linkedin  linkedin does not accept image/webp" in out
    code, out = run(config_path, "preview", "webp", "--json")
    problems = json.loads(out)
    assert code == 1
    assert {
        "network": "linkedin",
        "severity": "error",
        "message": "linkedin does not accept image/webp images",
    } in problems
    assert {p["severity"] for p in problems if p["network"] == "facebook"} == {"warning"}
    code, out = run(config_path, "preview", "missing")
    assert code == 2 and "no article with id 'missing'" in out


def test_share_dry_run_prints_requests_without_secrets(config_path: Path) -> None:
    """--dry-run prints each request as HTTP text; no credential appears."""
    code, out = run(config_path, "share", "nato-kursk", "--dry-run")
    assert code == 0, out
    assert "POST https://api.x.com/2/tweets\n" in out
    assert "Authorization: Bearer <redacted>" in out
    assert "POST https://graph.facebook.com/v25.0/1000000000001/feed" in out
    assert "POST https://oauth.reddit.com/api/submit" in out
    assert "sr=worldnews" in out and "reddit-token authorization added when sent" in out
    assert not any(token in out for token in TOKENS)


def test_share_dry_run_json_for_one_network(config_path: Path) -> None:
    """--network limits the output; --json gives the redacted request previews."""
    code, out = run(config_path, "share", "nato-kursk", "--network", "x", "--dry-run", "--json")
    assert code == 0, out
    [entry] = json.loads(out)
    assert entry["network"] == "x" and entry["account"] == "newsdesk"
    assert entry["request"]["body"]["text"].startswith(make_article().title)
    assert "utm_source=x" in entry["request"]["body"]["text"]
    assert not any(token in out for token in TOKENS)


def test_share_queues_ledger_jobs_once(config_path: Path) -> None:
    """`share` queues one job per account only where none exists yet, never twice."""
    code, out = run(config_path, "share", "nato-kursk", "--network", "x")
    assert (code, out) == (0, "x:newsdesk: already queued\n")  # publishing queued it
    # An article stored while no account was configured has no jobs yet.
    quiet = Wiring.open(config.load(config_path, env={}).replace(share={}))
    quiet.store.upsert_article(make_article(id="older", url="https://news.example.com/o"), WHEN)
    quiet.close()
    code, out = run(config_path, "share", "older", "--network", "x")
    assert (code, out) == (0, "x:newsdesk: queued\n")
    code, out = run(config_path, "share", "older")
    assert code == 0, out
    assert out.splitlines() == [
        "x:newsdesk: already queued",
        "facebook:demo-page: queued",
        "reddit:desk: queued",
    ]


def test_share_refusals(config_path: Path) -> None:
    """An unpublished article or a network without accounts exits 2 and says why."""
    code, out = run(config_path, "share", "draft", "--network", "x")
    assert code == 2 and "not published" in out
    code, out = run(config_path, "share", "nato-kursk", "--network", "linkedin", "--dry-run")
    assert code == 2 and "no enabled account on linkedin" in out


def test_unknown_adapter_in_config_stops_the_command(config_path: Path) -> None:
    """A config naming an uninstalled adapter fails with the setting named."""
    text = config_path.read_text() + '\n[[share.accounts]]\nnetwork = "mastodon"\nname = "t"\n'
    config_path.write_text(text)
    code, out = run(config_path, "preview", "nato-kursk")
    assert code == 1 and "share.accounts[3].network" in out and "mastodon" in out
