"""The LinkedIn adapter: share-offsite link, Posts API request, escaping, errors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from syndicate.adapters.base import Outcome
from syndicate.adapters.linkedin import LinkedInAdapter, escape_little_text, fit_commentary
from syndicate.sandbox.linkedin import shown
from syndicate.sandbox.server import Sandbox
from syndicate.testing import NOW, check_adapter, make_article
from tests.adapters.conftest import account, assert_outcome, post_against

RESERVED = "\\|{}@[]()<>*_~"
URL = "https://news.example.com/a/1?utm_source=linkedin&a=b"


def unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            i += 1
        out.append(text[i])
        i += 1
    return "".join(out)


def test_contract(sandbox: Sandbox, session: requests.Session) -> None:
    """The LinkedIn adapter passes the shared contract check against the sandbox."""
    check_adapter(
        LinkedInAdapter,
        base_url=f"{sandbox.url}/linkedin",
        account=account("linkedin"),
        session=session,
    )


def test_intent_round_trips_url() -> None:
    """The share-offsite link carries only url=, decoding back exactly."""
    parts = urlsplit(LinkedInAdapter().intent_url(make_article(), url=URL))
    assert parts.netloc + parts.path == "www.linkedin.com/sharing/share-offsite/"
    assert parse_qs(parts.query) == {"url": [URL]}


def test_every_reserved_character_survives() -> None:
    """Each reserved character is escaped, hashtags kept, and unescaping restores the text."""
    text = f"Budget {RESERVED} C# a # b #Budget2026 (final) end"
    escaped = escape_little_text(text)
    assert unescape(escaped) == text
    assert "#Budget2026" in escaped and "C\\#" in escaped and " \\# " in escaped
    for char in RESERVED:
        assert f"\\{char}" in escaped


def test_reserved_characters_reach_the_post_untruncated(
    sandbox: Sandbox, session: requests.Session
) -> None:
    """The sandbox shows the post as LinkedIn would: whole text, hashtags kept."""
    text = f"Budget {RESERVED} C# a # b “quotes” 東京 😷 end #Budget2026"
    li = LinkedInAdapter(session=session, base_url=f"{sandbox.url}/linkedin")
    acct = account("linkedin")
    result = li.send(li.build(make_article(), acct, NOW, text=text), acct, NOW)
    assert result.outcome is Outcome.POSTED
    [post] = sandbox.posts("linkedin")
    assert post["shown"] == text
    assert shown("Budget (final) #Budget2026") == "Budget "  # unescaped: cut at "("


def test_commentary_limit_counts_escapes() -> None:
    """A long text is cut so its escaped form fits 3000 characters, never mid-escape."""
    escaped = fit_commentary("(x) " * 1000)
    assert len(escaped) <= 3000 and not escaped.endswith("\\")


def test_request_shape(sandbox: Sandbox, session: requests.Session) -> None:
    """POST /rest/posts with version headers, escaped commentary and an article card."""
    li = LinkedInAdapter({"version": "202601"}, session=session, base_url=f"{sandbox.url}/linkedin")
    article = make_article(title="Budget (final) [2026]")
    result = li.send(
        li.build(article, account("linkedin"), NOW, text="Read (now) #Budget", url=URL),
        account("linkedin"),
        NOW,
    )
    assert result.outcome is Outcome.POSTED and result.remote_id.startswith("urn:li:share:")
    [logged] = sandbox.requests("linkedin")
    assert logged["headers"]["LinkedIn-Version"] == "202601"
    assert logged["headers"]["X-Restli-Protocol-Version"] == "2.0.0"
    body = logged["parsed"]
    assert body["commentary"] == "Read \\(now\\) #Budget"
    assert body["content"]["article"] == {
        "source": URL,
        "title": "Budget (final) [2026]",
        "description": article.summary,
    }
    assert (body["author"], body["visibility"], body["lifecycleState"]) == (
        "urn:li:organization:42",
        "PUBLIC",
        "PUBLISHED",
    )
    assert body["distribution"]["feedDistribution"] == "MAIN_FEED"
    assert li.lookup(account("linkedin"), "utm_source=linkedin", NOW) is not None


def test_retired_version_is_config_problem(sandbox: Sandbox, session: requests.Session) -> None:
    """A sunset LinkedIn-Version answers 426, reported as a configuration problem."""
    sandbox.set_faults(retired_versions=["202401"])
    li = LinkedInAdapter({"version": "202401"}, session=session, base_url=f"{sandbox.url}/linkedin")
    result = li.send(li.build(make_article(), account("linkedin"), NOW), account("linkedin"), NOW)
    assert result.outcome is Outcome.PERMANENT and result.config_problem


CASES = [
    (
        422,
        {
            "status": 422,
            "code": "DUPLICATE_POST",
            "message": "Content is a duplicate of urn:li:share:7123",
        },
        {},
        Outcome.PERMANENT,
        {"duplicate": True, "remote_id": "urn:li:share:7123"},
    ),
    (
        426,
        {"status": 426, "code": "NONEXISTENT_VERSION", "message": "not active"},
        {},
        Outcome.PERMANENT,
        {"config_problem": True},
    ),
    (
        429,
        {"status": 429, "message": "Resource level throttle APPLICATION DAY limit"},
        {},
        Outcome.RETRY,
        {"retry_at": datetime(2026, 11, 21, tzinfo=UTC)},
    ),
    (
        429,
        {"status": 429, "message": "Too Many Requests"},
        {"Retry-After": "30"},
        Outcome.RETRY,
        {},
    ),
    (401, {"status": 401, "code": "EXPIRED_ACCESS_TOKEN"}, {}, Outcome.AUTH, {}),
    (403, {"status": 403, "code": "ACCESS_DENIED"}, {}, Outcome.PERMANENT, {}),
    (400, {"status": 400, "code": "INVALID_REQUEST"}, {}, Outcome.PERMANENT, {}),
    (504, {"status": 504}, {}, Outcome.UNKNOWN, {}),
    (201, b"", {}, Outcome.UNKNOWN, {}),
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
    """Every documented Posts API answer maps to the right outcome."""
    result = post_against(session, LinkedInAdapter, "linkedin", status, body, headers)
    assert_outcome(result, "linkedin", outcome, fields)


def test_escaping_leaves_urls_intact_and_no_bare_hash() -> None:
    """Reserved characters inside a URL stay as they are; '#' before '_' is escaped too."""
    url = "https://news.example.com/oauth_1?a=b_c&utm_source=linkedin#part_2"
    escaped = escape_little_text(f"Read (this) {url}. Tag #_under_ and #Budget_2026")
    assert f" {url}. " in escaped
    assert "\\#\\_under\\_" in escaped and "#Budget\\_2026" in escaped
    assert unescape(escaped) == f"Read (this) {url}. Tag #_under_ and #Budget_2026"
    assert not re.search(r"(?<!\\)#(?![^\W_])", escaped), "a bare # would be shown"
