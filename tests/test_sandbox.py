"""The local sandbox of the four APIs: request log, duplicates, listings and fault knobs."""

from __future__ import annotations

import json

import pytest
import requests

from syndicate.adapters.base import Account, Outcome
from syndicate.adapters.facebook import FacebookAdapter
from syndicate.adapters.linkedin import LinkedInAdapter
from syndicate.adapters.reddit import RedditAdapter
from syndicate.adapters.x import XAdapter
from syndicate.sandbox.server import Sandbox
from syndicate.testing import NOW, make_article
from tests.adapters.conftest import SECRETS, account, register_x

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
        register_x(sb)
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
    register_x(sb)
    sb.set_faults(timeout_after_accept=1, stall_s=30)
    with requests.Session() as s:
        x = XAdapter({"timeout": [1, 0.2]}, session=s, base_url=f"{sb.url}/x")
        assert (
            x.send(x.build(make_article(), account("x"), NOW), account("x"), NOW).outcome
            is Outcome.UNKNOWN
        )
    sb.stop()  # would hang for stall_s without the release (pytest-timeout guards it)
    assert len(sb.posts("x")) == 1


def test_wrongly_signed_x_request_gets_401_like_x(sandbox: Sandbox) -> None:
    """A signature made with the wrong consumer secret, an unknown key, or a tampered
    request is refused with X's 401 problem body; the right one is accepted."""
    good = account("x")
    wrong_secret = Account("x", "desk", {}, {**SECRETS["x"], "consumer_secret": "not-it"})
    unknown = Account("x", "desk", {}, {**SECRETS["x"], "consumer_key": "someone-else"})
    with requests.Session() as s:
        x = XAdapter(session=s, base_url=f"{sandbox.url}/x")
        for acct in (wrong_secret, unknown):
            result = x.send(x.build(make_article(), acct, NOW, text="Signed?"), acct, NOW)
            assert result.outcome is Outcome.AUTH and result.status == 401
        assert sandbox.posts("x") == []
        assert sandbox.requests("x")[0]["parsed"] == {"text": "Signed?"}
        ok = x.send(x.build(make_article(), good, NOW, text="Signed."), good, NOW)
        assert ok.outcome is Outcome.POSTED
        # A request replayed to another path is refused: the URL is signed.
        from requests_oauthlib import OAuth1

        creds = SECRETS["x"]
        signer = OAuth1(
            creds["consumer_key"],
            creds["consumer_secret"],
            creds["access_token"],
            creds["access_token_secret"],
        )
        prepared = requests.Request(
            "POST", f"{sandbox.url}/x/2/tweets?x=1", json={"text": "Moved"}, auth=signer
        ).prepare()
        prepared.url = f"{sandbox.url}/x/2/tweets?x=2"
        assert s.send(prepared).status_code == 401
    [refused] = [e for e in sandbox.requests("x") if e["status"] == 401][:1]
    assert refused["status"] == 401


def test_log_redacts_every_credential_form(sandbox: Sandbox) -> None:
    """Basic (base64 of id:secret), Bearer, OAuth 1.0a parameters and tokens in form or
    JSON bodies never reach the request log."""
    secrets = [v for creds in SECRETS.values() for v in creds.values() if "TOPSECRET" in v]
    with requests.Session() as s:
        for network in ADAPTERS:
            post(sandbox, s, network)
        s.post(f"{sandbox.url}/facebook/v25.0/1/feed", data={"access_token": "tok-FORM-1"})
        s.post(f"{sandbox.url}/x/2/tweets", json={"text": "t", "refresh_token": "tok-JSON-2"})
        s.post(f"{sandbox.url}/x/2/tweets", headers={"Authorization": "Bearer tok-BEARER-3"})
    log = json.dumps(sandbox.requests())
    import base64

    basic = base64.b64encode(b"cid-TOPSECRET-6:csec-TOPSECRET-7").decode()
    for secret in [*secrets, basic, "tok-FORM-1", "tok-JSON-2", "tok-BEARER-3"]:
        assert secret not in log, secret
    assert "Basic <redacted>" in log and 'oauth_signature=\\"<redacted>\\"' in log
