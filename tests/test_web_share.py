"""Share surfaces over HTTP, on a real socket: share JSON, share bar and meta fragments."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from live import fetch, live_server
from sharing_support import SECRETS, TOKENS, WHEN, make_article, share_table, write_secrets

from syndicate.config import Settings
from syndicate.wiring import Wiring, create_app

AUTH = {"Authorization": "Bearer test-token-0123456789abcdef0123456789"}


@pytest.fixture
def service(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Wiring]:
    """A service with four accounts (credentials from env and secrets file) and two articles."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    service = Wiring.open(
        settings.replace(share=share_table(), secrets_file=write_secrets(tmp_path))
    )
    service.store.upsert_article(make_article(), WHEN)
    service.store.upsert_article(make_article(id="gone", status="unpublished"), WHEN)
    yield service
    service.sharing.close()
    service.close()


@pytest.fixture
def base(service: Wiring) -> Iterator[str]:
    """The app served on 127.0.0.1."""
    with live_server(create_app(wiring=service)) as url:
        yield url


def test_share_json_lists_each_enabled_account(base: str, service: Wiring) -> None:
    """The JSON has, per enabled account, network, account, intent_url and the request."""
    reply = fetch(f"{base}/api/articles/nato-kursk/share", headers=AUTH)
    assert reply.status == 200 and reply.header("Content-Type") == "application/json"
    body = json.loads(reply.body)
    assert body["article"] == "nato-kursk"
    assert [i["network"] for i in body["intents"]] == ["facebook", "x", "reddit", "linkedin"]
    assert body["intents"][1]["url"].startswith("https://x.com/intent/tweet?text=")
    shares = {s["key"]: s for s in body["shares"]}
    assert list(shares) == ["x:newsdesk", "facebook:demo-page", "reddit:desk", "linkedin:org"]
    for entry in shares.values():
        assert {"network", "account", "intent_url", "request", "text"} <= set(entry)
        assert set(entry["request"]) >= {"method", "url", "headers", "body"}
    x = shares["x:newsdesk"]
    assert x["request"]["method"] == "POST" and x["request"]["url"] == "https://api.x.com/2/tweets"
    assert x["request"]["headers"]["Authorization"] == "Bearer <redacted>"
    assert "via=newsdesk" in x["intent_url"]
    fb = shares["facebook:demo-page"]["request"]
    # The job's marker is in the preview already: what the worker will send, byte for byte.
    assert re.search(
        r"&utm_source=facebook&utm_medium=social&share_ref=[0-9a-f]{16}#top$", fb["body"]["link"]
    )
    article = make_article()
    expected = service.sharing.build_request(article, service.sharing.account("reddit:desk"), WHEN)
    assert shares["reddit:desk"]["request"]["body"] == expected.preview()["body"]


def test_share_json_never_contains_a_secret(base: str) -> None:
    """No test token (env or secrets file) appears anywhere in the response."""
    reply = fetch(f"{base}/api/articles/nato-kursk/share", headers=AUTH)
    assert reply.status == 200
    text = reply.body.decode()
    assert not any(token in text for token in TOKENS)
    assert "<redacted>" in text


def test_share_json_needs_the_token_and_a_known_id(base: str) -> None:
    """401 without the bearer token; 404 JSON for an unknown article."""
    assert fetch(f"{base}/api/articles/nato-kursk/share").status == 401
    wrong = fetch(f"{base}/api/articles/nato-kursk/share", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    missing = fetch(f"{base}/api/articles/nope/share", headers=AUTH)
    assert missing.status == 404 and "nope" in json.loads(missing.body)["error"]


def test_share_bar_fragment(base: str) -> None:
    """share.html is the bar alone, public, cacheable, with no script."""
    reply = fetch(f"{base}/articles/nato-kursk/share.html")
    assert reply.status == 200 and reply.header("Content-Type") == "text/html; charset=utf-8"
    html = reply.body.decode()
    assert html.startswith('<p class="share-links">') and "Share on LinkedIn</a>" in html
    assert "«||»" in html and "<script" not in html
    assert "public" in (reply.header("Cache-Control") or "")


def test_meta_fragment(base: str) -> None:
    """meta.html has the Open Graph and X card tags; og:url has no tracking parameters."""
    reply = fetch(f"{base}/articles/nato-kursk/meta.html")
    assert reply.status == 200
    html = reply.body.decode()
    for name in (
        "og:type",
        "og:title",
        "og:description",
        "og:url",
        "og:image",
        "og:image:width",
        "og:image:height",
        "og:site_name",
        "twitter:card",
    ):
        assert f'"{name}"' in html
    assert "utm_" not in html and "“North Korean troops”" in html


@pytest.mark.parametrize("path", ["share.html", "meta.html"])
def test_fragments_404_for_unknown_or_unpublished(base: str, path: str) -> None:
    """Unknown and unpublished articles answer 404 JSON, nothing leaks."""
    for article_id in ("nope", "gone"):
        reply = fetch(f"{base}/articles/{article_id}/{path}")
        assert reply.status == 404
        assert json.loads(reply.body)["error"]


def test_template_globals_fill_the_article_page_blocks(service: Wiring) -> None:
    """share_head_meta and share_bar are template globals returning safe markup."""
    app: Flask = create_app(wiring=service)
    with app.test_request_context("/"):
        html = render_template_string(
            "{{ share_head_meta(a) }}|{{ share_bar(a) }}", a=make_article()
        )
    head, bar = html.split("|", 1)
    assert head.startswith('<meta property="og:type" content="article">')
    assert bar.startswith('<p class="share-links"><a href="https://www.facebook.com/sharer/')


def test_share_json_shows_ledger_jobs(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the ledger installed, each account's entry carries its job and state."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    service = Wiring.open(
        settings.replace(share=share_table(), secrets_file=write_secrets(tmp_path))
    )
    try:
        service.store.upsert_article(make_article(), WHEN)
        with live_server(create_app(wiring=service)) as url:
            body = json.loads(fetch(f"{url}/api/articles/nato-kursk/share", headers=AUTH).body)
    finally:
        service.sharing.close()
        service.close()
    assert len(body["jobs"]) == 4
    for entry in body["shares"]:
        assert [job["state"] for job in entry["jobs"]] == ["pending"], entry["key"]
