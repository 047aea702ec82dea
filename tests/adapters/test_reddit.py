"""The Reddit adapter: submit link, token call, errors inside 200 bodies."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from syndicate.adapters.base import Outcome
from syndicate.adapters.reddit import RedditAdapter
from syndicate.sandbox.server import Sandbox
from syndicate.testing import NOW, check_adapter, make_article
from tests.adapters.conftest import SECRETS, account, canned

TITLE = "“Curly” 😷 東京 مرحبا & = ? # + %"
URL = "https://news.example.com/a/1?utm_source=reddit&utm_id=k9"
UA = "linux:org.example.syndicate:v0.1 (by /u/example)"


def test_contract(sandbox: Sandbox, session: requests.Session) -> None:
    """The Reddit adapter passes the shared contract check against the sandbox."""
    check_adapter(
        RedditAdapter, base_url=f"{sandbox.url}/reddit", account=account("reddit"), session=session
    )


def test_intent_round_trips() -> None:
    """The submit link carries url, title and type=LINK, each decoding back exactly."""
    link = RedditAdapter().intent_url(make_article(title=TITLE), url=URL)
    parts = urlsplit(link)
    assert parts.netloc + parts.path == "www.reddit.com/submit"
    assert parse_qs(parts.query) == {"url": [URL], "title": [TITLE], "type": ["LINK"]}


def test_request_shape_and_token_cache(sandbox: Sandbox, session: requests.Session) -> None:
    """Token call with Basic auth, then a form submit with bearer and the UA on both; cached."""
    rd = RedditAdapter({"user_agent": UA}, session=session, base_url=f"{sandbox.url}/reddit")
    for n in range(2):
        request = rd.build(make_article(title=TITLE), account("reddit"), NOW, url=f"{URL}{n}")
        result = rd.send(request, account("reddit"), NOW)
        assert result.outcome is Outcome.POSTED and result.remote_id.startswith("t3_")
    token, submit, _ = sandbox.requests("reddit")
    assert token["path"] == "/reddit/api/v1/access_token"
    assert token["headers"]["Authorization"].startswith("Basic ")
    assert token["parsed"] == {
        "grant_type": "password",
        "username": "newsbot",
        "password": "<redacted>",
    }
    assert submit["headers"]["User-Agent"] == UA == token["headers"]["User-Agent"]
    assert submit["headers"]["Authorization"].startswith("bearer ")
    assert submit["parsed"] == {
        "api_type": "json",
        "kind": "link",
        "sr": "test",
        "title": TITLE,
        "url": f"{URL}0",
        "resubmit": "False",
        "sendreplies": "True",
    }
    assert rd.lookup(account("reddit"), "utm_id=k91", NOW) is not None


def test_title_cut_to_300() -> None:
    """A title over 300 characters is shortened at a word boundary."""
    request = RedditAdapter().build(make_article(title="word " * 100), account("reddit"), NOW)
    assert request.body is not None and len(request.body["title"]) <= 300


def in_body(code: str, message: str) -> dict[str, Any]:
    return {"json": {"errors": [[code, message, "x"]]}}


CASES = [
    (
        200,
        {
            "json": {
                "errors": [],
                "data": {
                    "url": "https://www.reddit.com/r/t/comments/1ab/x/",
                    "id": "1ab",
                    "name": "t3_1ab",
                },
            }
        },
        {},
        Outcome.POSTED,
        {"remote_id": "t3_1ab"},
    ),
    (
        200,
        in_body("RATELIMIT", "Take a break for 9 minutes before trying again."),
        {},
        Outcome.RETRY,
        {"retry_at": NOW + timedelta(minutes=9)},
    ),
    (
        200,
        in_body("ALREADY_SUB", "that link has already been submitted"),
        {},
        Outcome.PERMANENT,
        {"duplicate": True},
    ),
    *[
        (200, in_body(code, "no"), {}, Outcome.PERMANENT, {"duplicate": False})
        for code in (
            "SUBREDDIT_NOEXIST",
            "SUBREDDIT_NOTALLOWED",
            "BAD_SR_NAME",
            "NO_LINKS",
            "NO_URL",
            "NO_TEXT",
            "TOO_LONG",
            "USER_REQUIRED",
        )
    ],
    (
        429,
        {"message": "Too Many Requests"},
        {"X-Ratelimit-Reset": "42"},
        Outcome.RETRY,
        {"retry_at": NOW + timedelta(seconds=42)},
    ),
    (403, {"message": "Forbidden"}, {}, Outcome.PERMANENT, {}),
    (404, {"message": "Not Found"}, {}, Outcome.PERMANENT, {}),
    (500, {"message": "oops"}, {}, Outcome.UNKNOWN, {}),
    (200, {"json": {"errors": []}}, {}, Outcome.UNKNOWN, {}),
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
    """Every documented submit answer, including errors inside 200s, maps correctly."""

    def route(path: str) -> tuple[int, Any, dict[str, str]]:
        if "access_token" in path:
            return 200, {"access_token": "tok-TOPSECRET", "expires_in": 3600}, {}
        return status, body, headers

    with canned(0, route=route) as (url, _):
        rd = RedditAdapter(session=session, base_url=url)
        result = rd.send(rd.build(make_article(), account("reddit"), NOW), account("reddit"), NOW)
    assert result.outcome is outcome
    for name, value in fields.items():
        assert getattr(result, name) == value
    assert not any(s in repr(result) for s in [*SECRETS["reddit"].values(), "tok-TOPSECRET"])


def test_401_refreshes_token_once(session: requests.Session) -> None:
    """A 401 on submit fetches a new token and tries once more, then reports AUTH."""
    with canned(
        0,
        route=lambda p: (
            (200, {"access_token": "t", "expires_in": 60}, {})
            if "access_token" in p
            else (401, {"message": "Unauthorized"}, {})
        ),
    ) as (url, c):
        rd = RedditAdapter(session=session, base_url=url)
        result = rd.send(rd.build(make_article(), account("reddit"), NOW), account("reddit"), NOW)
    assert result.outcome is Outcome.AUTH
    assert [r["path"].split("?")[0] for r in c.requests] == [
        "/api/v1/access_token",
        "/api/submit",
        "/api/v1/access_token",
        "/api/submit",
    ]


def test_refused_credentials_are_auth(session: requests.Session) -> None:
    """A token call refused with 401 is an auth failure and nothing is submitted."""
    with canned(401, {"message": "Unauthorized", "error": 401}) as (url, c):
        rd = RedditAdapter(session=session, base_url=url)
        result = rd.send(rd.build(make_article(), account("reddit"), NOW), account("reddit"), NOW)
    assert result.outcome is Outcome.AUTH and len(c.requests) == 1
    assert not any(
        s in json.dumps(c.requests[0]["body"]) and s in result.reason
        for s in SECRETS["reddit"].values()
    )
