"""The Flask app, built from the parts the wiring hands it.

A WSGI server runs ``syndicate.wiring:create_app()``, which builds the parts and then
calls :func:`build_app`; so does ``syndicate serve``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter, Map

from syndicate.content.text import to_uri
from syndicate.errors import StoreError
from syndicate.web import admin, api, feeds, ops, pages, share
from syndicate.web.cache import PageCache
from syndicate.web.errors import json_error
from syndicate.web.parts import EXTENSION_KEY, PAGES_KEY, WebParts


def build_app(parts: WebParts) -> Flask:
    """The app serving feeds, the API, share links, pages, the operator page and health."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = parts.settings.max_request_bytes
    # Ids in paths are ASCII digits within a 64-bit column: anything else is a 404.
    app.url_map.converters["int"] = StoredInteger
    app.extensions[EXTENSION_KEY] = parts
    app.extensions[PAGES_KEY] = PageCache()
    app.jinja_env.filters["uri"] = to_uri  # every URL in a page is an ASCII URI
    for module in (feeds, api, share, pages, admin, ops):
        app.register_blueprint(module.bp)

    @app.before_request
    def _refuse_nul() -> Any:
        # No id, name or filter of syndicate contains NUL, and PostgreSQL refuses it in
        # any text: answer 400 here rather than fail deep in a query.
        args = request.args.items(multi=True)
        if "\x00" in request.path or any("\x00" in k + v for k, v in args):
            return json_error(400, "the URL contains a NUL character")
        return None

    @app.errorhandler(StoreError)
    def _database_busy(exc: StoreError) -> Any:
        # A write that waited db_busy_seconds for another writer, or a database that is
        # down: the client may try again, so 503 with Retry-After, never a 500.
        return json_error(
            503, "the database is busy or unavailable; try again", headers={"Retry-After": "5"}
        )

    @app.after_request
    def _security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return app


class StoredInteger(IntegerConverter):
    """``<int:…>`` limited to ASCII digits and the range of a BIGINT column."""

    regex = r"[0-9]{1,19}"

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)
