"""What the four fake APIs share: the request and reply types and the posting flow."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from syndicate.sandbox.state import State

OAUTH_PARAM = re.compile(r'(oauth_\w+)="([^"]*)"')
SECRET_FIELDS = (
    "access_token",
    "password",
    "client_secret",
    "refresh_token",
    "appsecret_proof",
    "code",
    "code_verifier",
    "client_assertion",
    "accessJwt",
    "refreshJwt",
)
REDACTED = "<redacted>"


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
    target: str = ""  # the request target as sent: path and query string

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
                for k, v in OAUTH_PARAM.findall(auth)
                if k in ("oauth_consumer_key", "oauth_token", "oauth_signature")
            ),
        ]
        if auth.lower().startswith("basic "):
            found += [auth.split(" ", 1)[1].strip(), *basic_credentials(auth).split(":", 1)]
        for name in SECRET_FIELDS:
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


Refusal = Callable[[], Reply]
Route = tuple[str, re.Pattern[str], Callable[..., Reply]]


def http_error(status: int, message: str) -> Reply:
    return Reply(status, {"error": status, "message": message})


def basic_credentials(header: str) -> str:
    """The ``user:password`` of a Basic ``Authorization`` header ("" when unreadable)."""
    try:
        return base64.b64decode(header.split(" ", 1)[1]).decode()
    except (ValueError, IndexError):
        return ""


def now_iso(state: State) -> str:
    return datetime.fromtimestamp(state.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def create(
    state: State,
    call: Call,
    who: str | Reply,
    unauthorized: Refusal,
    limited: Refusal,
    check: Callable[[str], Reply | None],
    accept: Callable[[str], Reply],
    *,
    capped: Refusal | None = None,
) -> Reply:
    """The shared posting flow: auth, fault knobs, validation and duplicates, then accept."""
    net = call.network
    if isinstance(who, Reply):
        return who
    fail = state.faults["auth_fail"]
    if state.faulted(net) and any(s in fail for s in [*call.secrets(), who]):
        return unauthorized()
    if capped is not None and state.take("usage_capped", net):
        return capped()
    if state.take("rate_limit", net):
        return limited()
    with state.lock:
        failing = state.faulted(net) and state.rng.random() < float(state.faults["error_rate"])
    if failing and not state.faults["error_accepts"]:
        return _bad_gateway(accepted=False)
    with state.lock:  # check and accept atomically so concurrent duplicates are caught
        problem = check(who)
        if problem is not None:
            return problem
        reply = accept(who)
    if failing:
        return _bad_gateway(accepted=True)
    reply.stall = state.take("timeout_after_accept", net)
    return reply


def _bad_gateway(*, accepted: bool) -> Reply:
    return Reply(
        502,
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        {"Content-Type": "text/html"},
        accepted=accepted,
    )
