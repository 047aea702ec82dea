"""The Facebook adapter: sharer link, feed request, Graph error codes."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from syndicate.adapters.base import Outcome
from syndicate.adapters.facebook import FacebookAdapter
from syndicate.sandbox.server import Sandbox
from syndicate.testing import NOW, check_adapter, make_article
from tests.adapters.conftest import account, assert_outcome, post_against

URL = "https://news.example.com/a/1?utm_source=fb&q=“x” 😷&y=#frag"


def test_contract(sandbox: Sandbox, session: requests.Session) -> None:
    """The Facebook adapter passes the shared contract check against the sandbox."""
    check_adapter(
        FacebookAdapter,
        base_url=f"{sandbox.url}/facebook",
        account=account("facebook"),
        session=session,
    )


def test_intent_round_trips_url() -> None:
    """The sharer link carries only u=, decoding back to the exact URL."""
    link = FacebookAdapter().intent_url(make_article(), url=URL)
    parts = urlsplit(link)
    assert parts.netloc + parts.path == "www.facebook.com/sharer/sharer.php"
    assert parse_qs(parts.query) == {"u": [URL]} and not parts.fragment


def test_request_shape(sandbox: Sandbox, session: requests.Session) -> None:
    """POST /{version}/{page}/feed as a form with message and link, Page token as Bearer."""
    fb = FacebookAdapter(
        {"graph_version": "v24.0"}, session=session, base_url=f"{sandbox.url}/facebook"
    )
    request = fb.build(make_article(), account("facebook"), NOW, text="Msg ✓", url=URL)
    result = fb.send(request, account("facebook"), NOW)
    assert result.outcome is Outcome.POSTED and result.remote_id == "1234567890_100000000000001"
    [logged] = sandbox.requests("facebook")
    assert logged["path"] == "/facebook/v24.0/1234567890/feed"
    assert logged["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert logged["parsed"] == {"message": "Msg ✓", "link": URL}
    assert logged["headers"]["Authorization"] == "Bearer <redacted>"
    assert fb.send(request, account("facebook"), NOW).duplicate


def err(code: int, status: int = 400) -> tuple[int, dict[str, object]]:
    return status, {
        "error": {
            "message": f"error {code}",
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "A1",
        }
    }


BUC = '{"1234567890": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]}'
CASES = [
    (*err(1, 500), {}, Outcome.UNKNOWN, {}),
    (*err(2, 503), {}, Outcome.UNKNOWN, {}),
    (*err(2, 400), {}, Outcome.UNKNOWN, {}),
    (*err(4), {}, Outcome.RETRY, {"retry_at": NOW + timedelta(minutes=15)}),
    (*err(17), {}, Outcome.RETRY, {}),
    (
        *err(32),
        {"X-Business-Use-Case-Usage": BUC},
        Outcome.RETRY,
        {"retry_at": NOW + timedelta(minutes=7)},
    ),
    (*err(341), {}, Outcome.RETRY, {}),
    (*err(613), {}, Outcome.RETRY, {}),
    (*err(368), {}, Outcome.RETRY, {"retry_at": NOW + timedelta(hours=24)}),
    (*err(190, 401), {}, Outcome.AUTH, {}),
    (*err(190), {}, Outcome.AUTH, {}),
    (*err(506), {}, Outcome.PERMANENT, {"duplicate": True}),
    (*err(10, 403), {}, Outcome.PERMANENT, {}),
    (*err(200, 403), {}, Outcome.PERMANENT, {}),
    (*err(100), {}, Outcome.PERMANENT, {}),
    (*err(1609005), {}, Outcome.PERMANENT, {}),
    (502, {"nope": 1}, {}, Outcome.UNKNOWN, {}),
    (200, {"unexpected": True}, {}, Outcome.UNKNOWN, {}),
]


@pytest.mark.parametrize(("status", "body", "headers", "outcome", "fields"), CASES)
def test_errors_classified(
    session: requests.Session,
    status: int,
    body: object,
    headers: dict[str, str],
    outcome: Outcome,
    fields: dict[str, object],
) -> None:
    """Every documented Graph API error code maps to the right outcome."""
    result = post_against(session, FacebookAdapter, "facebook", status, body, headers)
    assert_outcome(result, "facebook", outcome, fields)


def test_missing_token_is_auth() -> None:
    """An account without a Page token is an auth problem, found before any request."""
    acct = account("facebook").__class__("facebook", "p", {"page_id": "1"}, {})
    fb = FacebookAdapter()
    assert fb.send(fb.build(make_article(), acct, NOW), acct, NOW).outcome is Outcome.AUTH
    fb.close()
