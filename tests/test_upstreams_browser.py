"""The upstream-feeds panel of /admin in headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from upstream_server import Feed, Upstream

from syndicate.config import Settings
from syndicate.ingest.upstream import poll_upstream
from syndicate.models import UpstreamSpec
from syndicate.store import Store
from syndicate.wiring import Wiring
from tests.conftest import Clock
from tests.test_admin import Server
from tests.test_admin_browser import ARGS, CHROMIUM, pytestmark  # noqa: F401  (same markers)
from tests.test_upstream_polls import MIXED, T0


@pytest.fixture
def server(settings: Settings, store: Store) -> Iterator[Server]:
    with Upstream() as upstream:
        upstream.routes["/mixed.rss"] = Feed(MIXED)
        spec = UpstreamSpec(name="wire", url=upstream.url("/mixed.rss"), allow_loopback=True)
        service = Wiring(settings.replace(upstream=(spec,)), store, Clock(T0))
        poll_upstream(service.intake, spec)
        srv = Server(service)
        yield srv
        srv.close()


def test_admin_panel_shows_each_upstream_and_its_problems(server: Server) -> None:
    """After signing in, the panel lists the upstream, its counts and every reason."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{server.url}/admin")
            expect(page.locator("#upstreams")).to_be_hidden()
            page.fill("#token", server.service.settings.api_token)
            page.click("button[type=submit]")
            row = page.locator('#upstreams tr[data-upstream="wire"]')
            expect(row).to_be_visible()
            expect(row.locator(".counts")).to_have_text(
                "3 seen · 2 created · 0 updated · 0 unchanged · 1 rejected"
            )
            rejected = row.locator('li[data-kind="rejected"]')
            expect(rejected).to_have_text(
                "#2 rejected: entry: has no title, description or content"
            )
            expect(row.locator('li[data-kind="warning"]')).to_contain_text("mailto:desk@m.example")
        finally:
            browser.close()
