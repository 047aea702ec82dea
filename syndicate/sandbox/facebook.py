"""The fake Facebook Graph API: post to a Page feed and list the Page's posts."""

from __future__ import annotations

import json
import re
from typing import Any

from syndicate.sandbox.common import Call, Reply, Route, create, now_iso
from syndicate.sandbox.state import State


def _error(status: int, code: int, message: str, **extra: Any) -> Reply:
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


def _unauthorized() -> Reply:
    return _error(400, 190, "Invalid OAuth access token - Cannot parse access token")


def _who(call: Call) -> str | Reply:
    return (
        call.bearer()
        or call.field("access_token")
        or call.query.get("access_token")
        or _unauthorized()
    )


def _limited(state: State, page: str) -> Reply:
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
    reply = _error(400, 32, "Page request limit reached")
    reply.headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
    return reply


def feed(state: State, call: Call, version: str, page: str) -> Reply:
    """``POST /{version}/{page}/feed``."""

    def check(who: str) -> Reply | None:
        message, link = call.field("message"), call.field("link")
        if not message and not link:
            return _error(400, 100, "(#100) Missing message or attachment")
        if any(p["message"] == message and p["link"] == link for p in state.mine("facebook", page)):
            return _error(400, 506, "(#506) Duplicate status message")
        return None

    def accept(who: str) -> Reply:
        post_id = f"{page}_{100000000000000 + state.next_id('facebook')}"
        state.store(
            "facebook",
            {
                "account": page,
                "id": post_id,
                "token": who,
                "message": call.field("message"),
                "link": call.field("link"),
                "created_time": now_iso(state),
            },
        )
        return Reply(200, {"id": post_id}, accepted=True)

    return create(
        state, call, _who(call), _unauthorized, lambda: _limited(state, page), check, accept
    )


def posts(state: State, call: Call, version: str, page: str) -> Reply:
    """``GET /{version}/{page}/posts``, newest first."""
    who = _who(call)
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
            for p in state.mine("facebook", page)
        ]
    return Reply(200, {"data": data})


ROUTES: list[Route] = [
    ("POST", re.compile(r"/(v\d+\.\d+)/([\w.-]+)/feed"), feed),
    ("GET", re.compile(r"/(v\d+\.\d+)/([\w.-]+)/posts"), posts),
]
