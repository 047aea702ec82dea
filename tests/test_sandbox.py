"""The local sandbox of the four APIs: request log, duplicates, listings and fault knobs."""

from __future__ import annotations

import pytest
import requests

from syndicate.adapters.base import Account, Outcome
from syndicate.adapters.facebook import FacebookAdapter
from syndicate.adapters.linkedin import LinkedInAdapter
from syndicate.adapters.reddit import RedditAdapter
from syndicate.adapters.x import XAdapter
from syndicate.sandbox.server import Sandbox
from syndicate.testing import NOW, make_article
from tests.adapters.conftest import account

ADAPTERS = {
    "x": XAdapter,
    "facebook": FacebookAdapter,
    "reddit": RedditAdapter,
    "linkedin": LinkedInAdapter,
}


@pytest.fixture
def sandbox() -> Sandbox:
    """A fresh sandbox per test."""
    with Sandbox() as sb:
        yield sb


def post(
    sb: Sandbox, session: requests.Session, network: str, n: int = 0, acct: Account | None = None
):
    acct = acct or account(network)
    adapter = ADAPTERS[network](session=session, base_url=f"{sb.url}/{network}")
    article = make_article(url=f"https://news.example.com/a/{n}?utm_id=k{n}", title=f"T{n}")
    return adapter.send(adapter.build(article, acct, NOW), acct, NOW)


@pytest.mark.parametrize("network", sorted(ADAPTERS))
def test_posts_logged_and_ids_deterministic(sandbox: Sandbox, network: str) -> None:
    """Each network accepts a post with a counter id and logs it with its parsed fields."""
    with requests.Session() as s:
        first, second = post(sandbox, s, network, 1), post(sandbox, s, network, 2)
    assert first.outcome is second.outcome is Outcome.POSTED
    assert first.remote_id != second.remote_id
    log = requests.get(f"{sandbox.url}/__requests", params={"network": network}, timeout=5).json()
    posts = [e for e in log if e["method"] == "POST" and "access_token" not in e["path"]]
    assert len(posts) == 2 and all(e["accepted"] and e["parsed"] for e in posts)
    assert all(isinstance(e["body"], str) for e in posts)


@pytest.mark.parametrize("network", sorted(ADAPTERS))
def test_duplicates_detected(sandbox: Sandbox, network: str) -> None:
    """The same post twice for the same account gets the network's duplicate error."""
    with requests.Session() as s:
        assert post(sandbox, s, network).outcome is Outcome.POSTED
        again = post(sandbox, s, network)
    assert again.outcome is Outcome.PERMANENT and again.duplicate


@pytest.mark.parametrize("network", sorted(ADAPTERS))
def test_rate_limit_then_success(sandbox: Sandbox, network: str) -> None:
    """rate_limit answers N throttles with reset information, then posts go through."""
    requests.post(
        f"{sandbox.url}/__faults", json={"rate_limit": 2, "reset_s": 120}, timeout=5
    ).raise_for_status()
    with requests.Session() as s:
        results = [post(sandbox, s, network, n) for n in range(3)]
    assert [r.outcome for r in results] == [Outcome.RETRY, Outcome.RETRY, Outcome.POSTED]
    if network in ("x", "reddit", "facebook"):
        assert results[0].retry_at is not None
    assert len(sandbox.posts(network)) == 1


def test_usage_cap_and_auth_fail_scoped(sandbox: Sandbox) -> None:
    """usage_capped gives X's cap 429; auth_fail refuses one account only."""
    sandbox.set_faults(usage_capped=1)
    with requests.Session() as s:
        capped = post(sandbox, s, "x", 1)
        assert capped.outcome is Outcome.RETRY and capped.usage_capped
        sandbox.set_faults(auth_fail=["pt-TOPSECRET-5"])
        assert post(sandbox, s, "facebook", 1).outcome is Outcome.AUTH
        other = Account("facebook", "other", {"page_id": "99"}, {"page_token": "other-token"})
        assert post(sandbox, s, "facebook", 1, other).outcome is Outcome.POSTED


def test_error_rate_and_latency(sandbox: Sandbox) -> None:
    """error_rate 1 answers 502 (unknown outcome) without recording; latency delays answers."""
    sandbox.set_faults(error_rate=1.0, latency_ms=20)
    with requests.Session() as s:
        assert post(sandbox, s, "linkedin").outcome is Outcome.UNKNOWN
    assert sandbox.posts() == [] and sandbox.requests()[0]["status"] == 502


def test_drop_after_accept(sandbox: Sandbox) -> None:
    """timeout_after_accept with drop records the post and closes the connection unanswered."""
    sandbox.set_faults(timeout_after_accept=1, drop=True)
    with requests.Session() as s:
        assert post(sandbox, s, "reddit", 1).outcome is Outcome.UNKNOWN
    assert len(sandbox.posts("reddit")) == 1


def test_reset_and_unknown_knob(sandbox: Sandbox) -> None:
    """POST /__reset forgets everything; an unknown knob is a 400 naming it."""
    with requests.Session() as s:
        post(sandbox, s, "x")
        bad = s.post(f"{sandbox.url}/__faults", json={"latencyms": 5}, timeout=5)
        assert bad.status_code == 400 and "latencyms" in bad.text
        s.post(f"{sandbox.url}/__reset", timeout=5).raise_for_status()
    assert sandbox.requests() == [] and sandbox.posts() == []


def test_stop_releases_stalled_answers() -> None:
    """Stopping the sandbox does not wait for a stalled answer's full stall time."""
    sb = Sandbox().start()
    sb.set_faults(timeout_after_accept=1, stall_s=30)
    with requests.Session() as s:
        x = XAdapter({"timeout": [1, 0.2]}, session=s, base_url=f"{sb.url}/x")
        assert (
            x.send(x.build(make_article(), account("x"), NOW), account("x"), NOW).outcome
            is Outcome.UNKNOWN
        )
    sb.stop()  # would hang for stall_s without the release (pytest-timeout guards it)
    assert len(sb.posts("x")) == 1
