"""The four fake APIs of :mod:`syndicate.sandbox`: routes, documented bodies and headers."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from syndicate import xtext

if TYPE_CHECKING:
    from syndicate.sandbox import State

_OAUTH_PARAM = re.compile(r'(oauth_\w+)="([^"]*)"')
_URL = re.compile(r"https?://\S+")
OAUTH1_PARAMS = {
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature",
    "oauth_nonce",
    "oauth_timestamp",
    "oauth_signature_method",
    "oauth_version",
}


@dataclass
class Call:
    """One request as the sandbox received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: str
    parsed: Any
    network: str = ""

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")

    def field(self, name: str) -> str:
        value = self.parsed.get(name) if isinstance(self.parsed, dict) else None
        return value if isinstance(value, str) else ""

    def bearer(self) -> str:
        scheme, _, token = self.header("Authorization").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def secrets(self) -> list[str]:
        """Every credential value this call carries (to check auth_fail and to redact)."""
        auth = self.header("Authorization")
        found = [
            self.bearer(),
            *(
                v
                for k, v in _OAUTH_PARAM.findall(auth)
                if k in ("oauth_consumer_key", "oauth_token", "oauth_signature")
            ),
        ]
        if auth.lower().startswith("basic "):
            found += _basic(auth).split(":", 1)
        for name in ("access_token", "password", "client_secret", "refresh_token"):
            found.append(self.field(name) or self.query.get(name, ""))
        found += [unquote(v) for v in found]
        return [s for s in found if s]


@dataclass
class Reply:
    """One answer: status, JSON body (or raw bytes), headers, and what happened."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    accepted: bool = False
    stall: bool = False


def http_error(status: int, message: str) -> Reply:
    return Reply(status, {"error": status, "message": message})


def _basic(header: str) -> str:
    try:
        return base64.b64decode(header.split(" ", 1)[1]).decode()
    except (ValueError, IndexError):
        return ""


def _now_iso(state: State) -> str:
    return datetime.fromtimestamp(state.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


Refusal = Callable[[], Reply]


def _create(
    state: State,
    call: Call,
    who: str | Reply,
    unauthorized: Refusal,
    limited: Refusal,
    check: Callable[[str], Reply | None],
    accept: Callable[[str], Reply],
) -> Reply:
    """The shared posting flow: auth, fault knobs, validation and duplicates, then accept."""
    net = call.network
    if isinstance(who, Reply):
        return who
    fail = state.faults["auth_fail"]
    if state.faulted(net) and any(s in fail for s in [*call.secrets(), who]):
        return unauthorized()
    if net == "x" and state.take("usage_capped", net):
        return Reply(
            429,
            {
                "title": "UsageCapExceeded",
                "status": 429,
                "detail": "Usage cap exceeded: Monthly product cap",
                "type": "https://api.twitter.com/2/problems/usage-capped",
            },
        )
    if state.take("rate_limit", net):
        return limited()
    with state.lock:
        failing = state.faulted(net) and state.rng.random() < float(state.faults["error_rate"])
    if failing and not state.faults["error_accepts"]:
        return Reply(
            502,
            b"<html><body><h1>502 Bad Gateway</h1></body></html>",
            {"Content-Type": "text/html"},
        )
    with state.lock:  # check and accept atomically so concurrent duplicates are caught
        problem = check(who)
        if problem is not None:
            return problem
        reply = accept(who)
    if failing:
        return Reply(
            502,
            b"<html><body><h1>502 Bad Gateway</h1></body></html>",
            {"Content-Type": "text/html"},
            accepted=True,
        )
    reply.stall = state.take("timeout_after_accept", net)
    return reply


def _store(state: State, network: str, post: dict[str, Any]) -> None:
    state.posts.setdefault(network, []).append(post)


def _mine(state: State, network: str, account: str) -> list[dict[str, Any]]:
    return [p for p in state.posts.get(network, []) if p["account"] == account][::-1]


# --- X ------------------------------------------------------------------------------------


def _x_who(call: Call) -> str | Reply:
    auth = call.header("Authorization")
    params = dict(_OAUTH_PARAM.findall(auth))
    if auth.startswith("OAuth ") and OAUTH1_PARAMS <= set(params):
        return unquote(params["oauth_token"])
    return call.bearer() or _x_unauthorized()


def _x_unauthorized() -> Reply:
    return Reply(
        401,
        {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
    )


def _x_limited(state: State) -> Reply:
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


def x_tweet(state: State, call: Call) -> Reply:
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
        if any(p["text"] == text for p in _mine(state, "x", who)):
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
        _store(
            state,
            "x",
            {"account": who, "id": tweet_id, "text": text, "created_at": _now_iso(state)},
        )
        return Reply(
            201,
            {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}},
            accepted=True,
        )

    return _create(
        state, call, _x_who(call), _x_unauthorized, lambda: _x_limited(state), check, accept
    )


def x_me(state: State, call: Call) -> Reply:
    who = _x_who(call)
    if isinstance(who, Reply):
        return who
    return Reply(200, {"data": {"id": _x_user_id(who), "name": who, "username": who}})


def _x_user_id(who: str) -> str:
    return str(sum(ord(c) for c in who) * 7919 % 10**12)


def x_timeline(state: State, call: Call, user_id: str) -> Reply:
    who = _x_who(call)
    if isinstance(who, Reply):
        return who
    with state.lock:
        mine = [p for p in state.posts.get("x", []) if _x_user_id(p["account"]) == user_id]
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


# --- Facebook -----------------------------------------------------------------------------


def _fb_error(status: int, code: int, message: str, **extra: Any) -> Reply:
    return Reply(
        status,
        {
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "fbtrace_id": "AsandboxTrace",
                **extra,
            }
        },
    )


def _fb_unauthorized() -> Reply:
    return _fb_error(400, 190, "Invalid OAuth access token - Cannot parse access token")


def _fb_who(call: Call) -> str | Reply:
    return (
        call.bearer()
        or call.field("access_token")
        or call.query.get("access_token")
        or _fb_unauthorized()
    )


def _fb_limited(state: State, page: str) -> Reply:
    minutes = max(1, -(-int(state.faults["reset_s"]) // 60))
    usage = {
        page: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 10,
                "total_time": 10,
                "estimated_time_to_regain_access": minutes,
            }
        ]
    }
    reply = _fb_error(400, 32, "Page request limit reached")
    reply.headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
    return reply


def fb_feed(state: State, call: Call, version: str, page: str) -> Reply:
    def check(who: str) -> Reply | None:
        message, link = call.field("message"), call.field("link")
        if not message and not link:
            return _fb_error(400, 100, "(#100) Missing message or attachment")
        if any(
            p["message"] == message and p["link"] == link for p in _mine(state, "facebook", page)
        ):
            return _fb_error(400, 506, "(#506) Duplicate status message")
        return None

    def accept(who: str) -> Reply:
        post_id = f"{page}_{100000000000000 + state.next_id('facebook')}"
        _store(
            state,
            "facebook",
            {
                "account": page,
                "id": post_id,
                "token": who,
                "message": call.field("message"),
                "link": call.field("link"),
                "created_time": _now_iso(state),
            },
        )
        return Reply(200, {"id": post_id}, accepted=True)

    return _create(
        state,
        call,
        _fb_who(call),
        _fb_unauthorized,
        lambda: _fb_limited(state, page),
        check,
        accept,
    )


def fb_posts(state: State, call: Call, version: str, page: str) -> Reply:
    who = _fb_who(call)
    if isinstance(who, Reply):
        return who
    with state.lock:
        data = [
            {
                "id": p["id"],
                "message": p["message"],
                "created_time": p["created_time"],
                "permalink_url": f"https://www.facebook.com/{p['id']}",
                "attachments": {"data": [{"unshimmed_url": p["link"]}]},
            }
            for p in _mine(state, "facebook", page)
        ]
    return Reply(200, {"data": data})


# --- Reddit -------------------------------------------------------------------------------


def _rd_unauthorized() -> Reply:
    return Reply(401, {"message": "Unauthorized", "error": 401})


def _rd_limited(state: State) -> Reply:
    return Reply(
        429,
        {"message": "Too Many Requests", "error": 429},
        {
            "X-Ratelimit-Used": "100",
            "X-Ratelimit-Remaining": "0",
            "X-Ratelimit-Reset": str(int(state.faults["reset_s"])),
        },
    )


def rd_token(state: State, call: Call) -> Reply:
    client = (
        _basic(call.header("Authorization"))
        if call.header("Authorization").lower().startswith("basic ")
        else ""
    )
    grant = call.field("grant_type")
    user = (
        call.field("username")
        if grant == "password" and call.field("password")
        else ("sandbox_user" if grant == "refresh_token" and call.field("refresh_token") else "")
    )
    fail = state.faults["auth_fail"]
    names = [*call.secrets(), call.field("username")]
    if not client or (state.faulted("reddit") and any(s in fail for s in names)):
        return _rd_unauthorized()
    if not user:
        return Reply(200, {"error": "invalid_grant"})
    token = f"sbx-reddit-{state.next_id('reddit-token')}"
    with state.lock:
        state.tokens[token] = user
    return Reply(
        200,
        {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": 86400,
            "scope": "submit read identity",
        },
    )


def _rd_who(state: State, call: Call) -> str | Reply:
    with state.lock:
        return state.tokens.get(call.bearer()) or _rd_unauthorized()


def rd_submit(state: State, call: Call) -> Reply:
    def errors(*triple: str) -> Reply:
        return Reply(200, {"json": {"errors": [list(triple)]}})

    def check(who: str) -> Reply | None:
        sr, title, url = call.field("sr"), call.field("title"), call.field("url")
        if not re.fullmatch(r"\w{2,21}", sr):
            return errors("BAD_SR_NAME", "that name isn't going to work", "sr")
        if not title or len(title) > 300:
            return errors(
                "TOO_LONG" if title else "NO_TEXT",
                "this is too long (max: 300)" if title else "we need something here",
                "title",
            )
        if call.field("kind") != "link" or not url:
            return errors("NO_URL", "a url is required", "url")
        dup = any(p["url"] == url and p["subreddit"] == sr for p in state.posts.get("reddit", []))
        if dup and call.field("resubmit") != "True":
            return errors("ALREADY_SUB", "that link has already been submitted", "url")
        return None

    def accept(who: str) -> Reply:
        n = state.next_id("reddit")
        short = _base36(46656 + n)
        sr = call.field("sr")
        permalink = f"/r/{sr}/comments/{short}/sandbox/"
        _store(
            state,
            "reddit",
            {
                "account": who,
                "id": short,
                "name": f"t3_{short}",
                "subreddit": sr,
                "title": call.field("title"),
                "url": call.field("url"),
                "permalink": permalink,
                "created_utc": state.clock(),
            },
        )
        return Reply(
            200,
            {
                "json": {
                    "errors": [],
                    "data": {
                        "url": f"https://www.reddit.com{permalink}",
                        "id": short,
                        "name": f"t3_{short}",
                        "drafts_count": 0,
                    },
                }
            },
            accepted=True,
        )

    return _create(
        state,
        call,
        _rd_who(state, call),
        _rd_unauthorized,
        lambda: _rd_limited(state),
        check,
        accept,
    )


def rd_submitted(state: State, call: Call, user: str) -> Reply:
    who = _rd_who(state, call)
    if isinstance(who, Reply):
        return who
    with state.lock:
        children = [
            {
                "kind": "t3",
                "data": {
                    k: p[k]
                    for k in ("id", "name", "subreddit", "title", "url", "permalink", "created_utc")
                },
            }
            for p in _mine(state, "reddit", user)
        ]
    return Reply(200, {"kind": "Listing", "data": {"children": children, "after": None}})


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


# --- LinkedIn -----------------------------------------------------------------------------


def _li_unauthorized() -> Reply:
    return Reply(
        401,
        {
            "status": 401,
            "serviceErrorCode": 65600,
            "code": "INVALID_ACCESS_TOKEN",
            "message": "Invalid access token",
        },
    )


def _li_who(state: State, call: Call) -> str | Reply:
    version = call.header("LinkedIn-Version")
    if not re.fullmatch(r"\d{6}", version) or version in state.faults["retired_versions"]:
        return Reply(
            426,
            {
                "status": 426,
                "code": "NONEXISTENT_VERSION",
                "message": f"Requested version {version} is not active",
            },
        )
    if call.header("X-Restli-Protocol-Version") != "2.0.0":
        return Reply(
            400,
            {
                "status": 400,
                "code": "INVALID_REQUEST",
                "message": "X-Restli-Protocol-Version 2.0.0 is required",
            },
        )
    return call.bearer() or _li_unauthorized()


def li_create(state: State, call: Call) -> Reply:
    body = call.parsed if isinstance(call.parsed, dict) else {}

    def check(who: str) -> Reply | None:
        author, text = str(body.get("author") or ""), body.get("commentary")
        if (
            not re.fullmatch(r"urn:li:(person|organization):\w+", author)
            or not isinstance(text, str)
            or len(text) > 3000
            or body.get("lifecycleState") != "PUBLISHED"
        ):
            return Reply(
                400,
                {
                    "status": 400,
                    "code": "INVALID_REQUEST",
                    "message": "ERROR :: /author, /commentary or /lifecycleState",
                },
            )
        for p in _mine(state, "linkedin", author):
            if p["commentary"] == text:
                return Reply(
                    422,
                    {
                        "status": 422,
                        "code": "DUPLICATE_POST",
                        "message": f"ERROR :: /commentary :: Content is a duplicate of {p['id']}",
                    },
                )
        return None

    def accept(who: str) -> Reply:
        urn = f"urn:li:share:{7000000000000000000 + state.next_id('linkedin')}"
        _store(
            state,
            "linkedin",
            {
                "account": str(body["author"]),
                "id": urn,
                "author": body["author"],
                "commentary": body["commentary"],
                "content": body.get("content"),
                "createdAt": int(state.clock() * 1000),
            },
        )
        return Reply(201, b"", {"x-restli-id": urn}, accepted=True)

    return _create(
        state,
        call,
        _li_who(state, call),
        _li_unauthorized,
        lambda: Reply(429, {"status": 429, "message": "Too Many Requests"}),
        check,
        accept,
    )


def li_list(state: State, call: Call) -> Reply:
    who = _li_who(state, call)
    if isinstance(who, Reply):
        return who
    with state.lock:
        elements = [dict(p) for p in _mine(state, "linkedin", call.query.get("author", ""))]
    return Reply(200, {"elements": elements, "paging": {"start": 0, "count": len(elements)}})


Route = tuple[str, re.Pattern[str], Callable[..., Reply]]
ROUTES: dict[str, list[Route]] = {
    "x": [
        ("POST", re.compile(r"/2/tweets"), x_tweet),
        ("GET", re.compile(r"/2/users/me"), x_me),
        ("GET", re.compile(r"/2/users/(\d+)/tweets"), x_timeline),
    ],
    "facebook": [
        ("POST", re.compile(r"/(v\d+\.\d+)/([\w.-]+)/feed"), fb_feed),
        ("GET", re.compile(r"/(v\d+\.\d+)/([\w.-]+)/posts"), fb_posts),
    ],
    "reddit": [
        ("POST", re.compile(r"/api/v1/access_token"), rd_token),
        ("POST", re.compile(r"/api/submit"), rd_submit),
        ("GET", re.compile(r"/user/([\w-]+)/submitted"), rd_submitted),
    ],
    "linkedin": [
        ("POST", re.compile(r"/rest/posts"), li_create),
        ("GET", re.compile(r"/rest/posts"), li_list),
    ],
}
