"""The fake LinkedIn Posts API (versioned REST, Rest.li 2.0): create and list posts."""

from __future__ import annotations

import re

from syndicate.sandbox.common import Call, Reply, Route, create
from syndicate.sandbox.state import State


def _unauthorized() -> Reply:
    return Reply(
        401,
        {
            "status": 401,
            "serviceErrorCode": 65600,
            "code": "INVALID_ACCESS_TOKEN",
            "message": "Invalid access token",
        },
    )


def _who(state: State, call: Call) -> str | Reply:
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
    return call.bearer() or _unauthorized()


# Little text format: an unescaped reserved character starts an element; a plain-text
# post is silently cut there (docs/social.md §3.4). A "#" that starts a hashtag is fine.
_CUT = re.compile(r"[|{}@\[\]()<>*_~]|#(?!\w)|(?<=\S)#")


def shown(commentary: str) -> str:
    """The text LinkedIn would show: escapes resolved, cut at the first unescaped reserved."""
    out: list[str] = []
    i = 0
    while i < len(commentary):
        char = commentary[i]
        if char == "\\" and i + 1 < len(commentary):
            out.append(commentary[i + 1])
            i += 2
            continue
        if _CUT.match(commentary, i):
            break
        out.append(char)
        i += 1
    return "".join(out)


def _limited() -> Reply:
    return Reply(429, {"status": 429, "message": "Too Many Requests"})


def create_post(state: State, call: Call) -> Reply:
    """``POST /rest/posts``; the new post's URN comes back in ``x-restli-id``."""
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
        for p in state.mine("linkedin", author):
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
        state.store(
            "linkedin",
            {
                "account": str(body["author"]),
                "id": urn,
                "author": body["author"],
                "commentary": body["commentary"],
                "shown": shown(str(body["commentary"])),
                "content": body.get("content"),
                "createdAt": int(state.clock() * 1000),
            },
        )
        return Reply(201, b"", {"x-restli-id": urn}, accepted=True)

    return create(state, call, _who(state, call), _unauthorized, _limited, check, accept)


def list_posts(state: State, call: Call) -> Reply:
    """``GET /rest/posts?author=…``, newest first."""
    who = _who(state, call)
    if isinstance(who, Reply):
        return who
    with state.lock:
        elements = [dict(p) for p in state.mine("linkedin", call.query.get("author", ""))]
    return Reply(200, {"elements": elements, "paging": {"start": 0, "count": len(elements)}})


ROUTES: list[Route] = [
    ("POST", re.compile(r"/rest/posts"), create_post),
    ("GET", re.compile(r"/rest/posts"), list_posts),
]
