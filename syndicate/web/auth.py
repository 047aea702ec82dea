"""Bearer-token authentication for the push API and operator endpoints."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Response, current_app, request

from syndicate.web.errors import json_error
from syndicate.web.parts import parts_of

F = TypeVar("F", bound=Callable[..., Any])


def token_matches(header: str | None, expected: str) -> bool:
    """True if *header* is ``Bearer <expected>``; the scheme is case-insensitive, the token not.

    Both tokens are hashed first, so the constant-time comparison does not leak the length.
    """
    if not header or not expected:
        return False
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    given = given.strip()
    return hmac.compare_digest(_digest(given), _digest(expected))


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def unauthorized() -> Response:
    """401 with ``WWW-Authenticate: Bearer`` (RFC 6750); never echoes what was sent."""
    error = ', error="invalid_token"' if request.headers.get("Authorization") else ""
    return json_error(
        401,
        "a valid 'Authorization: Bearer <token>' header is required",
        headers={"WWW-Authenticate": f'Bearer realm="syndicate"{error}'},
    )


def require_token(view: F) -> F:
    """Decorator: answer 401 unless the request carries the service's API token."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        expected = parts_of(current_app).settings.api_token
        if not token_matches(request.headers.get("Authorization"), expected):
            return unauthorized()
        return view(*args, **kwargs)

    return cast(F, wrapper)
