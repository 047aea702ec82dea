"""JSON error responses for the HTTP API: one shape everywhere.

Every error body is ``{"error": "<what went wrong>"}``, plus ``"fields": {name: reason}``
when the request had bad fields, so a client can show every problem at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

# Paths whose errors are always answered in JSON, whatever the client accepts.
JSON_PREFIXES = ("/api/",)


def json_error(
    status: int,
    message: str,
    *,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A JSON error response: ``{"error": message, "fields": {...}, **extra}``."""
    body: dict[str, Any] = {"error": message, **extra}
    if fields:
        body["fields"] = dict(sorted(fields.items()))
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def wants_json() -> bool:
    """True for API paths, and for clients preferring JSON over HTML."""
    if request.path.startswith(JSON_PREFIXES):
        return True
    accept = request.accept_mimetypes
    return accept.best_match(["text/html", "application/json"]) == "application/json"


def http_error(exc: HTTPException) -> Response | HTTPException:
    """App-level handler: HTTP errors as JSON for API clients, else Werkzeug's HTML page."""
    if not wants_json():
        return exc
    status = exc.code or 500
    response = json_error(status, exc.description or exc.name)
    # Keep the headers Werkzeug adds for this error, e.g. Allow on 405.
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response
