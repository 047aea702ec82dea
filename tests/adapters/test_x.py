"""The X adapter: intent link, request shape, outcome classes, secrets."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from syndicate.adapters import x_length as xtext
from syndicate.adapters.base import Outcome
from syndicate.adapters.x import XAdapter
from syndicate.errors import ConfigError
from syndicate.sandbox.server import Sandbox
from syndicate.testing import NOW, check_adapter, make_article
from tests.adapters.conftest import SECRETS, account, assert_outcome, canned, post_against

TRICKY = "“Curly” 😷 東京 مرحبا & = ? # + % done"
URL = "https://news.example.com/a/1?utm_source=x&utm_id=k1#top"


def adapter(base_url: str, session: requests.Session, **options: object) -> XAdapter:
    return XAdapter(options, session=session, base_url=f"{base_url}/x")


def test_contract(sandbox: Sandbox, session: requests.Session) -> None:
    """The X adapter passes the shared contract check against the sandbox."""
    check_adapter(XAdapter, base_url=f"{sandbox.url}/x", account=account("x"), session=session)


def test_intent_round_trips_every_value() -> None:
    """Text, URL, hashtags and via decode back exactly from the intent link."""
    link = XAdapter().intent_url(
        make_article(), account("x"), text=TRICKY, url=URL, hashtags=["Budget", "東京"]
    )
    parts = urlsplit(link)
    query = parse_qs(parts.query, strict_parsing=True)
    assert (parts.netloc, parts.path, parts.fragment) == ("x.com", "/intent/tweet", "")
    assert query == {
        "text": [TRICKY],
        "url": [URL],
        "hashtags": ["Budget,東京"],
        "via": ["newsdesk"],
    }
    assert "+" not in parts.query and " " not in link


def test_intent_fits_280_with_via() -> None:
    """A long title is cut so text, URL, hashtags and 'via @acct' fit 280 weighted."""
    link = XAdapter().intent_url(
        make_article(title="word " * 100), account("x"), url=URL, hashtags=["Budget"]
    )
    q = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert q["text"].endswith("…")
    assert xtext.weighted_length(f"{q['text']} {q['url']} #Budget via @{q['via']}") <= 280


def test_intent_keeps_only_hashtags_that_fit() -> None:
    """A dropped hashtag stays dropped even when a kept one starts with its name."""
    tags = [f"Tag{i}" for i in range(10, 99)] + ["Tag1"]
    link = XAdapter().intent_url(make_article(), account("x"), url=URL, hashtags=tags)
    q = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    kept = q["hashtags"].split(",")
    assert "Tag1" not in kept and kept == tags[: len(kept)]
    text = " ".join([q.get("text", ""), q["url"], *(f"#{t}" for t in kept), f"via @{q['via']}"])
    assert xtext.weighted_length(text) <= 280


def test_request_shape_oauth1(sandbox: Sandbox, session: requests.Session) -> None:
    """POST /2/tweets sends JSON {"text"} only, signed with exactly the seven oauth params."""
    x = adapter(sandbox.url, session)
    request = x.build(make_article(), account("x"), NOW, text="Hello https://e.com/a #tag")
    assert request.body == {"text": "Hello https://e.com/a #tag"} and request.auth == "oauth1"
    result = x.send(request, account("x"), NOW)
    assert result.outcome is Outcome.POSTED and result.remote_id == "1880000000000000001"
    [logged] = sandbox.requests("x")
    assert (logged["method"], logged["path"]) == ("POST", "/x/2/tweets")
    assert logged["headers"]["Content-Type"] == "application/json"
    assert logged["parsed"] == {"text": "Hello https://e.com/a #tag"}
    params = [p.split("=")[0] for p in logged["headers"]["Authorization"][6:].split(", ")]
    assert sorted(params) == sorted(
        [
            "oauth_nonce",
            "oauth_timestamp",
            "oauth_version",
            "oauth_signature_method",
            "oauth_consumer_key",
            "oauth_token",
            "oauth_signature",
        ]
    )


def test_oauth2_bearer(sandbox: Sandbox, session: requests.Session) -> None:
    """With auth = oauth2 the user token goes in a Bearer header, redacted in previews."""
    acct = account("x", auth="oauth2")
    request = adapter(sandbox.url, session).build(make_article(), acct, NOW)
    assert request.preview()["headers"]["Authorization"] == "Bearer <redacted>"
    assert adapter(sandbox.url, session).send(request, acct, NOW).outcome is Outcome.POSTED


def test_default_text_is_title_and_url() -> None:
    """Without a template the post is the title then the URL, within 280."""
    request = XAdapter().build(make_article(title="T " * 200), account("x"), NOW, url=URL)
    assert request.body is not None and request.body["text"].endswith(URL)
    assert xtext.weighted_length(request.body["text"]) <= 280
    short = XAdapter({"limit": 100}).build(make_article(title="T " * 200), account("x"), NOW)
    assert short.body is not None and 90 < xtext.weighted_length(short.body["text"]) <= 100


def test_host_option_limited_to_official_hosts() -> None:
    """Only api.x.com and api.twitter.com may be configured as the X host."""
    assert XAdapter({"host": "api.twitter.com"}).base_url == "https://api.twitter.com"
    with pytest.raises(ConfigError, match="host"):
        XAdapter({"host": "evil.example.com"})


RESET = 1_795_000_000
CASES = [
    (201, {"data": {"id": "1880000000000000099", "text": "t"}}, {}, Outcome.POSTED, {}),
    (
        429,
        {"title": "Too Many Requests", "status": 429},
        {"x-rate-limit-reset": str(RESET), "x-rate-limit-remaining": "0"},
        Outcome.RETRY,
        {"retry_at": datetime.fromtimestamp(RESET, UTC)},
    ),
    (
        429,
        {
            "title": "UsageCapExceeded",
            "status": 429,
            "type": "https://api.twitter.com/2/problems/usage-capped",
        },
        {},
        Outcome.RETRY,
        {"usage_capped": True, "retry_at": datetime(2026, 12, 1, tzinfo=UTC)},
    ),
    (
        403,
        {"detail": "You are not allowed to create a Tweet with duplicate content.", "status": 403},
        {},
        Outcome.PERMANENT,
        {"duplicate": True},
    ),
    (
        403,
        {"detail": "You are not permitted to perform this action.", "status": 403},
        {},
        Outcome.PERMANENT,
        {"duplicate": False},
    ),
    (400, {"title": "Invalid Request", "status": 400}, {}, Outcome.PERMANENT, {}),
    (401, {"title": "Unauthorized", "status": 401}, {}, Outcome.AUTH, {}),
    (500, {"title": "Internal Error"}, {}, Outcome.UNKNOWN, {}),
    (503, {"title": "Wiring Unavailable"}, {"Retry-After": "120"}, Outcome.RETRY, {}),
    (201, b"<html>ok</html>", {"Content-Type": "text/html"}, Outcome.UNKNOWN, {}),
]


@pytest.mark.parametrize(("status", "body", "headers", "outcome", "fields"), CASES)
def test_answers_classified(
    session: requests.Session,
    status: int,
    body: object,
    headers: dict[str, str],
    outcome: Outcome,
    fields: dict[str, object],
) -> None:
    """Every documented X answer maps to the right outcome, without leaking secrets."""
    result = post_against(session, XAdapter, "x", status, body, headers)
    assert_outcome(result, "x", outcome, fields)


def test_remote_id_stays_a_string(session: requests.Session) -> None:
    """A numeric id is kept exactly (never through a float)."""
    raw = b'{"data": {"id": 1880000000000000001, "text": "t"}}'
    with canned(201, raw) as (url, _):
        x = XAdapter(session=session, base_url=url)
        result = x.send(x.build(make_article(), account("x"), NOW), account("x"), NOW)
    assert result.remote_id == "1880000000000000001"


def test_connection_refused_is_retry(session: requests.Session) -> None:
    """A refused connection happened before sending: safe to retry."""
    x = XAdapter(session=session, base_url="http://127.0.0.1:9")
    result = x.send(x.build(make_article(), account("x"), NOW), account("x"), NOW)
    assert result.outcome is Outcome.RETRY and "not sent" in result.reason


def test_read_timeout_after_accept_is_unknown(sandbox: Sandbox, session: requests.Session) -> None:
    """A post recorded by the server but not answered in time is UNKNOWN, then found by lookup."""
    sandbox.set_faults(timeout_after_accept=1, stall_s=2)
    x = XAdapter({"timeout": [1, 0.3]}, session=session, base_url=f"{sandbox.url}/x")
    request = x.build(make_article(), account("x"), NOW, url=URL)
    assert x.send(request, account("x"), NOW).outcome is Outcome.UNKNOWN
    assert len(sandbox.posts("x")) == 1
    found = x.lookup(account("x"), "utm_id=k1", NOW)
    assert found is not None and found.remote_id == sandbox.posts("x")[0]["id"]
    assert x.lookup(account("x"), "utm_id=other", NOW) is None


def test_secrets_never_leak(
    sandbox: Sandbox, session: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    """Tokens appear in no preview, repr, reason, log line or sandbox log entry."""
    caplog.set_level(logging.DEBUG)
    sandbox.set_faults(auth_fail=[SECRETS["x"]["access_token"]])
    x = adapter(sandbox.url, session)
    request = x.build(make_article(), account("x"), NOW)
    result = x.send(request, account("x"), NOW)
    assert result.outcome is Outcome.AUTH
    dump = " ".join(
        [
            repr(request),
            json.dumps(request.preview()),
            repr(result),
            caplog.text,
            json.dumps(sandbox.requests()),
            repr(account("x")),
            repr(x),
        ]
    )
    for secret in SECRETS["x"].values():
        assert secret not in dump
