"""The operator page in headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syndicate.adapters.base import Outcome, ShareResult
from syndicate.config import Settings
from syndicate.shares import posting
from tests.share_helpers import Clock, account, article, make_service
from tests.test_admin import Server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"
    ),
]


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    service = make_service(settings, settings.database, [account("x"), account("reddit")], Clock())
    srv = Server(service)
    yield srv
    srv.close()
    service.close()


@pytest.fixture
def page(server: Server) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            tab = browser.new_page()
            yield tab
        finally:
            browser.close()


def _cell(article_id: str, network: str, state: str) -> str:
    return (
        f'tr[data-article="{article_id}"] td[data-network="{network}"] .job[data-state="{state}"]'
    )


def test_operator_page_follows_share_states(server: Server, page: object) -> None:
    """After signing in with the token, the page shows states as they change, and acts."""
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    service = server.service
    service.store.upsert_article(article("a1", title="Harbour reopens"), service.now())

    page.goto(f"{server.url}/admin")
    page.fill("#token", "wrong-token")
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("That token was refused.")

    page.fill("#token", service.settings.api_token)
    page.click("button[type=submit]")
    expect(page.locator("text=Harbour reopens")).to_be_visible()
    expect(page.locator(_cell("a1", "x", "pending"))).to_be_visible()

    service.sharing.adapter("x").script.append(ShareResult(Outcome.AUTH, reason="token revoked"))
    posting.drain(service.outbox, owner="w")
    expect(page.locator(_cell("a1", "reddit", "sent"))).to_be_visible(timeout=10_000)
    expect(page.locator(_cell("a1", "x", "held"))).to_be_visible()
    expect(page.locator("#alerts")).to_contain_text("reconnect X account @desk: token revoked")

    page.click(_cell("a1", "x", "held") + ' button[data-action="retry"]')
    expect(page.locator(_cell("a1", "x", "pending"))).to_be_visible(timeout=10_000)
    posting.drain(service.outbox, owner="w")
    expect(page.locator(_cell("a1", "x", "sent"))).to_be_visible(timeout=10_000)
    expect(page.locator("#alerts li.none")).to_have_text("none")
