"""A throwaway third-party adapter (Mastodon) installed through entry points, used end to end."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from syndicate import adapters
from syndicate.adapters.base import Account, Outcome
from syndicate.cli import main
from syndicate.config import Settings
from syndicate.shares import posting
from syndicate.shares import view as shares_view
from syndicate.testing import NOW, check_adapter, make_article
from syndicate.wiring import Wiring
from tests.adapters.conftest import canned

MODULE = """
from __future__ import annotations
from urllib.parse import quote, urlencode
import requests
from syndicate.adapters.base import Outcome, ShareRequest, ShareResult


class MastodonAdapter:
    name = "mastodon"
    label = "Mastodon"
    default_base_url = "https://mastodon.social"
    can_lookup = False
    lookup_authoritative = False
    duplicate_signal = False

    def __init__(self, options=None, *, session=None, base_url=None):
        self.options = dict(options or {})
        self.session = session or requests.Session()
        instance = base_url or self.options.get("instance") or self.default_base_url
        self.base_url = instance.rstrip("/")

    def intent_url(self, article, account=None, *, text=None, url=None, title=None,
                   hashtags=()):
        body = f"{text or article.title} {url or article.url}"
        return "https://mastodon.social/share?" + urlencode({"text": body}, quote_via=quote,
                                                            safe="")

    def build(self, article, account, now, *, text=None, url=None, title=None):
        token = account.credentials.get("token", "")
        status = f"{text or article.title} {url or article.url}"
        return ShareRequest("POST", f"{self.base_url}/api/v1/statuses",
                            {"Authorization": f"Bearer {token}"}, {"status": status},
                            encoding="form", secrets=(token,), share_text=status)

    def send(self, request, account, now):
        resp = self.session.post(request.url, data=dict(request.body),
                                 headers=dict(request.headers), timeout=(3.05, 10))
        if resp.status_code == 200:
            return ShareResult(Outcome.POSTED, remote_id=str(resp.json()["id"]),
                               permalink=resp.json().get("url"))
        return ShareResult(Outcome.PERMANENT, reason=f"HTTP {resp.status_code}")

    def lookup(self, account, marker, since):
        return None

    def capabilities(self):
        return {"name": self.name, "can_lookup": False}

    def close(self):
        pass
"""


@pytest.fixture
def mastodon_installed(tmp_path: Path) -> Iterator[None]:
    """Install syndicate-mastodon as a dist-info with an entry point, on sys.path."""
    (tmp_path / "syndicate_mastodon.py").write_text(MODULE)
    dist = tmp_path / "syndicate_mastodon-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: syndicate-mastodon\nVersion: 0.1\n"
    )
    (dist / "entry_points.txt").write_text(
        textwrap.dedent("""\
        [syndicate.adapters]
        mastodon = syndicate_mastodon:MastodonAdapter
        """)
    )
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    adapters.clear_cache()
    try:
        yield
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("syndicate_mastodon", None)
        adapters.clear_cache()


def test_third_party_adapter_end_to_end(
    mastodon_installed: None, session: requests.Session
) -> None:
    """A Mastodon adapter is found by name, passes check_adapter and posts, with no core change."""
    assert "mastodon" in adapters.available()
    cls = adapters.load("mastodon")
    assert adapters.describe("mastodon")["distribution"] == "syndicate-mastodon"
    acct = Account("mastodon", "newsdesk", {}, {"token": "mast-TOPSECRET"})
    answer = {"id": "109", "url": "https://mastodon.social/@newsdesk/109"}
    with canned(200, answer) as (url, server):
        check_adapter(cls, base_url=url, account=acct, session=session)
        adapter = cls(session=session, base_url=url)
        result = adapter.send(adapter.build(make_article(), acct, NOW), acct, NOW)
    assert result.outcome is Outcome.POSTED and result.remote_id == "109"
    assert server.requests[-1]["path"] == "/api/v1/statuses"


def test_third_party_adapter_through_config_and_ledger(
    mastodon_installed: None, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    """A configured mastodon account gets a job on publish that the worker's drain posts."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[mastodon.newsdesk]\ntoken = "mast-TOPSECRET"\n', encoding="utf-8")
    answer = {"id": "110", "url": "https://social.example/@newsdesk/110"}
    with canned(200, answer) as (url, server):
        share = {
            "labels": ["mastodon"],
            "networks": {"mastodon": {"instance": url, "utm": {"utm_source": "mastodon"}}},
            "accounts": [{"network": "mastodon", "name": "newsdesk"}],
        }
        configured = settings.replace(database_url=database_url, secrets_file=secrets, share=share)
        service = Wiring.open(configured, clock=lambda: NOW)
        try:
            service.sharing.validate()
            service.store.upsert_article(make_article(), NOW)
            [queued] = shares_view.list_jobs(service.store)
            assert (queued["network"], queued["state"]) == ("mastodon", "pending")
            assert posting.drain(service.outbox) == 1
            [job] = shares_view.list_jobs(service.store)
            intent = service.sharing.intent_url(make_article(), "mastodon")
        finally:
            service.close()
    assert (job["state"], job["remote_id"]) == ("sent", "110")
    assert job["permalink"] == answer["url"]
    [posted] = server.requests
    assert posted["path"] == "/api/v1/statuses"
    assert posted["headers"]["Authorization"] == "Bearer mast-TOPSECRET"
    assert "utm_source%3Dmastodon" in posted["body"] and "share_ref%3D" in posted["body"]
    assert intent.startswith("https://mastodon.social/share?")


def test_adapters_command_lists_third_party(mastodon_installed: None) -> None:
    """``syndicate adapters`` lists an installed third-party adapter next to ours."""
    result = CliRunner().invoke(main, ["adapters"])
    assert result.exit_code == 0, result.output
    assert {"mastodon", "x", "facebook", "reddit", "linkedin"} <= set(result.output.splitlines())


def test_third_party_adapter_states_its_network_facts(
    mastodon_installed: None,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Composition takes the template, limit, length rule and title rule from the adapter."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[mastodon.newsdesk]\ntoken = "mast-TOPSECRET"\n', encoding="utf-8")
    share = {"labels": ["mastodon"], "accounts": [{"network": "mastodon", "name": "newsdesk"}]}
    service = Wiring.open(settings.replace(secrets_file=secrets, share=share), clock=lambda: NOW)
    try:
        sharing = service.sharing
        acct = sharing.account("mastodon:newsdesk")
        story = make_article(title="Flood waters recede", summary="Roads reopen " * 10)
        plain = sharing.compose(story, acct)  # states nothing: the defaults
        assert (plain.text, plain.title, plain.cut) == (
            f"{story.title} {plain.url}",
            story.title,
            False,
        )
        cls = adapters.load("mastodon")
        monkeypatch.setattr(cls, "default_template", "{title}: {summary}", raising=False)
        monkeypatch.setattr(cls, "length_limit", 60, raising=False)
        monkeypatch.setattr(cls, "text_length", staticmethod(lambda s: 2 * len(s)), raising=False)
        monkeypatch.setattr(cls, "title_is_text", True, raising=False)
        stated = sharing.compose(story, acct)
    finally:
        service.close()
    assert stated.text.startswith("Flood waters recede: Roads") and stated.cut and stated.fits
    assert 2 * len(stated.text) <= 60 and stated.title == stated.text
