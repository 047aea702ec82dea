"""The fake Reddit API: OAuth token, link submission and a user's submitted listing."""

from __future__ import annotations

import re

from syndicate.sandbox.common import Call, Reply, Route, basic_credentials, create
from syndicate.sandbox.state import State

_LISTED = ("id", "name", "subreddit", "title", "url", "permalink", "created_utc")


def _unauthorized() -> Reply:
    return Reply(401, {"message": "Unauthorized", "error": 401})


def _limited(state: State) -> Reply:
    return Reply(
        429,
        {"message": "Too Many Requests", "error": 429},
        {
            "X-Ratelimit-Used": "100",
            "X-Ratelimit-Remaining": "0",
            "X-Ratelimit-Reset": str(int(state.faults["reset_s"])),
        },
    )


def token(state: State, call: Call) -> Reply:
    """``POST /api/v1/access_token`` (password or refresh-token grant, Basic client auth)."""
    auth = call.header("Authorization")
    client = basic_credentials(auth) if auth.lower().startswith("basic ") else ""
    grant = call.field("grant_type")
    user = (
        call.field("username")
        if grant == "password" and call.field("password")
        else ("sandbox_user" if grant == "refresh_token" and call.field("refresh_token") else "")
    )
    fail = state.faults["auth_fail"]
    names = [*call.secrets(), call.field("username")]
    if not client or (state.faulted("reddit") and any(s in fail for s in names)):
        return _unauthorized()
    if not user:
        return Reply(200, {"error": "invalid_grant"})
    issued = f"sbx-reddit-{state.next_id('reddit-token')}"
    with state.lock:
        state.tokens[issued] = user
    return Reply(
        200,
        {
            "access_token": issued,
            "token_type": "bearer",
            "expires_in": 86400,
            "scope": "submit read identity",
        },
    )


def _who(state: State, call: Call) -> str | Reply:
    with state.lock:
        return state.tokens.get(call.bearer()) or _unauthorized()


def submit(state: State, call: Call) -> Reply:
    """``POST /api/submit`` (link posts only)."""

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
        short = _base36(46656 + state.next_id("reddit"))
        sr = call.field("sr")
        permalink = f"/r/{sr}/comments/{short}/sandbox/"
        state.store(
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
        data = {
            "url": f"https://www.reddit.com{permalink}",
            "id": short,
            "name": f"t3_{short}",
            "drafts_count": 0,
        }
        return Reply(200, {"json": {"errors": [], "data": data}}, accepted=True)

    return create(
        state, call, _who(state, call), _unauthorized, lambda: _limited(state), check, accept
    )


def submitted(state: State, call: Call, user: str) -> Reply:
    """``GET /user/{name}/submitted``, newest first."""
    who = _who(state, call)
    if isinstance(who, Reply):
        return who
    with state.lock:
        children = [
            {"kind": "t3", "data": {k: p[k] for k in _LISTED}} for p in state.mine("reddit", user)
        ]
    return Reply(200, {"kind": "Listing", "data": {"children": children, "after": None}})


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


ROUTES: list[Route] = [
    ("POST", re.compile(r"/api/v1/access_token"), token),
    ("POST", re.compile(r"/api/submit"), submit),
    ("GET", re.compile(r"/user/([\w-]+)/submitted"), submitted),
]
