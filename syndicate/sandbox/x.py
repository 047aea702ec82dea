"""The fake X API v2: post a tweet, who am I, a user's timeline (OAuth 1.0a or bearer)."""

from __future__ import annotations

import re
from urllib.parse import unquote

from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature as oauth1

from syndicate.adapters import x_length as xtext
from syndicate.sandbox.common import OAUTH_PARAM, Call, Reply, Route, create, now_iso
from syndicate.sandbox.state import State

OAUTH1_PARAMS = {
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature",
    "oauth_nonce",
    "oauth_timestamp",
    "oauth_signature_method",
    "oauth_version",
}
_URL = re.compile(r"https?://\S+")


def _who(state: State, call: Call) -> str | Reply:
    auth = call.header("Authorization")
    params = {k: unquote(v) for k, v in OAUTH_PARAM.findall(auth)}
    if auth.startswith("OAuth "):
        if OAUTH1_PARAMS <= set(params) and _signed(state, call, params):
            return params["oauth_token"]
        return _unauthorized()
    return call.bearer() or _unauthorized()


def _signed(state: State, call: Call, params: dict[str, str]) -> bool:
    """Whether the HMAC-SHA1 signature is right for the registered secrets (RFC 5849).

    The base string is the method, the URL the client addressed and the oauth and query
    parameters; a JSON body is not signed.
    """
    with state.lock:
        consumer_secret = state.oauth1_consumers.get(params["oauth_consumer_key"])
        token_secret = state.oauth1_tokens.get(params["oauth_token"])
    if consumer_secret is None or token_secret is None:
        return False
    if params["oauth_signature_method"] != "HMAC-SHA1" or params["oauth_version"] != "1.0":
        return False
    uri = f"http://{call.header('Host')}{call.target}"
    request = OAuthRequest(
        uri, call.method, headers={"Authorization": call.header("Authorization")}
    )
    request.params = oauth1.collect_parameters(
        uri_query=call.target.partition("?")[2], headers=request.headers, with_realm=False
    )
    request.signature = params["oauth_signature"]
    return bool(oauth1.verify_hmac_sha1(request, consumer_secret, token_secret))


def _unauthorized() -> Reply:
    return Reply(
        401,
        {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
    )


def _limited(state: State) -> Reply:
    reset = int(state.clock()) + int(state.faults["reset_s"])
    return Reply(
        429,
        {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )


def _usage_capped() -> Reply:
    return Reply(
        429,
        {
            "title": "UsageCapExceeded",
            "status": 429,
            "detail": "Usage cap exceeded: Monthly product cap",
            "type": "https://api.twitter.com/2/problems/usage-capped",
        },
    )


def tweet(state: State, call: Call) -> Reply:
    """``POST /2/tweets``."""

    def check(who: str) -> Reply | None:
        text = call.field("text")
        if not text or not xtext.is_valid(text):
            return Reply(
                400,
                {
                    "title": "Invalid Request",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                    "detail": "One or more parameters to your request was invalid.",
                    "errors": [{"message": "text: weighted length must be 1-280"}],
                },
            )
        if any(p["text"] == text for p in state.mine("x", who)):
            return Reply(
                403,
                {
                    "detail": "You are not allowed to create a Tweet with duplicate content.",
                    "type": "about:blank",
                    "title": "Forbidden",
                    "status": 403,
                },
            )
        return None

    def accept(who: str) -> Reply:
        tweet_id = str(1880000000000000000 + state.next_id("x"))
        text = call.field("text")
        state.store(
            "x", {"account": who, "id": tweet_id, "text": text, "created_at": now_iso(state)}
        )
        return Reply(
            201,
            {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}},
            accepted=True,
        )

    return create(
        state,
        call,
        _who(state, call),
        _unauthorized,
        lambda: _limited(state),
        check,
        accept,
        capped=_usage_capped,
    )


def me(state: State, call: Call) -> Reply:
    """``GET /2/users/me``."""
    who = _who(state, call)
    if isinstance(who, Reply):
        return who
    return Reply(200, {"data": {"id": _user_id(who), "name": who, "username": who}})


def _user_id(who: str) -> str:
    return str(sum(ord(c) for c in who) * 7919 % 10**12)


def timeline(state: State, call: Call, user_id: str) -> Reply:
    """``GET /2/users/{id}/tweets``, newest first."""
    who = _who(state, call)
    if isinstance(who, Reply):
        return who
    with state.lock:
        mine = [p for p in state.posts.get("x", []) if _user_id(p["account"]) == user_id]
    data = [
        {
            "id": p["id"],
            "text": p["text"],
            "created_at": p["created_at"],
            "entities": {"urls": [{"expanded_url": u} for u in _URL.findall(p["text"])]},
        }
        for p in mine[::-1]
    ]
    return Reply(200, {"data": data, "meta": {"result_count": len(data)}})


ROUTES: list[Route] = [
    ("POST", re.compile(r"/2/tweets"), tweet),
    ("GET", re.compile(r"/2/users/me"), me),
    ("GET", re.compile(r"/2/users/(\d+)/tweets"), timeline),
]
