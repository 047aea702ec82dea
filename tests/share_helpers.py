"""Test helpers for the share ledger: a settable clock, a scripted adapter, a service."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from syndicate.adapters.base import Account, Outcome, ShareRequest, ShareResult
from syndicate.cli.demo import DEMO_ACCOUNTS, DEMO_SECRETS
from syndicate.config import Settings
from syndicate.models import Article
from syndicate.store import Store
from syndicate.wiring import Wiring
from tests.conftest import FROZEN_NOW, Clock

SECRET = "sekrit-token-123"


@dataclass
class ScriptedAdapter:
    """A narrow stand-in adapter: answers from a script, remembers what it was sent."""

    name: str
    can_lookup: bool = True
    lookup_authoritative: bool = False
    label: str = "Scripted"
    script: deque[ShareResult] = field(default_factory=deque)
    sent: list[ShareRequest] = field(default_factory=list)
    found: dict[str, ShareResult] = field(default_factory=dict)
    on_send: Callable[[ShareRequest], None] | None = None

    def send(self, request: ShareRequest, account: Account, now: datetime) -> ShareResult:
        self.sent.append(request)
        if self.on_send is not None:
            self.on_send(request)
        if self.script:
            return self.script.popleft()
        return ShareResult(Outcome.POSTED, remote_id=f"{self.name}-{len(self.sent)}")

    def lookup(self, account: Account, marker: str, since: datetime) -> ShareResult | None:
        return self.found.get(marker)

    def capabilities(self) -> dict[str, Any]:
        return {"can_lookup": self.can_lookup, "lookup_authoritative": self.lookup_authoritative}


class FakeSharing:
    """What the ledger needs from :class:`syndicate.shares.sharing.Sharing`, scripted adapters."""

    def __init__(self, accounts: Iterable[Account], dry_run: bool = False) -> None:
        self._accounts = list(accounts)
        self.config = SimpleNamespace(dry_run=dry_run)
        self.adapters = {a.network: ScriptedAdapter(a.network) for a in self._accounts}

    def accounts(self) -> list[Account]:
        return [a for a in self._accounts if a.options.get("enabled", True)]

    def close(self) -> None:
        """Nothing to close: scripted adapters hold no sockets."""

    def adapter(self, network: str) -> ScriptedAdapter:
        return self.adapters[network]

    def build_request(
        self, article: Article, account: Account, now: datetime, marker: str | None = None
    ) -> ShareRequest:
        link = f"{article.url}?share_ref={marker}"
        return ShareRequest(
            "POST",
            f"https://api.example/{account.network}/post",
            {"Authorization": f"Bearer {SECRET}"},
            {"text": f"{article.title} {link}"},
            secrets=(SECRET,),
            share_text=f"{article.title} {link}",
        )


def account(network: str, name: str = "desk", **options: Any) -> Account:
    return Account(network, name, options, {"access_token": SECRET})


def make_service(
    settings: Settings,
    database_url: str,
    accounts: Iterable[Account],
    clock: Clock,
    dry_run: bool = False,
) -> Wiring:
    """A wiring on a fresh store (the share outbox rides on it) with a fake Sharing."""
    service = Wiring(settings, Store.open(database_url), clock)
    service.__dict__["sharing"] = FakeSharing(accounts, dry_run)
    return service


def article(article_id: str, now: datetime = FROZEN_NOW, **changes: Any) -> Article:
    values: dict[str, Any] = {
        "id": article_id,
        "title": f"Story {article_id}",
        "url": f"https://news.example.com/{article_id}",
        "content_html": "<p>Body.</p>",
        "summary": "Body.",
        "author": "Jane Doe",
        "published": now,
        "updated": now,
        "guid": f"tag:news.example.com,2026:{article_id}",
    }
    return Article(**(values | changes))


def write_config(tmp_path: Path, sandbox_url: str, database_url: str) -> Path:
    """A config file using the demo accounts against the sandbox."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(DEMO_SECRETS, encoding="utf-8")
    accounts = "\n".join(
        "[[share.accounts]]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in a.items())
        for a in DEMO_ACCOUNTS
    )
    path = tmp_path / "syndicate.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\nfeeds_dir = "{tmp_path / "feeds"}"\n'
        f'database_url = "{database_url}"\nsecrets_file = "{secrets}"\n'
        f'base_url = "https://feeds.example.com"\n'
        f'[share]\nsandbox = "{sandbox_url}"\n{accounts}\n',
        encoding="utf-8",
    )
    return path
