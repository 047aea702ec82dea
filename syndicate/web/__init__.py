"""The Flask app factory. ``syndicate serve`` runs it; so does any WSGI server:
``gunicorn 'syndicate.web:create_app()'``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter, Map

from syndicate import config
from syndicate.errors import ConfigError, StoreError
from syndicate.service import Service
from syndicate.web.cache import PageCache


def create_app(
    settings: config.Settings | Mapping[str, Any] | None = None, service: Service | None = None
) -> Flask:
    """Build the app. *settings* may be Settings or overrides for :func:`config.load`.

    Under a WSGI server every worker process builds its own app, so the API token must
    be set (``SYNDICATE_API_TOKEN``): a token made up per process would differ per worker.
    """
    if service is None:
        if not isinstance(settings, config.Settings):
            settings = config.load(overrides=settings or {})
        if not settings.api_token:
            raise ConfigError(
                f"api_token ({config.env_name('api_token')})",
                "must be set when the app is served by a WSGI server",
            )
        service = Service.open(settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = service.settings.max_request_bytes
    # Ids in paths are ASCII digits within a 64-bit column: anything else is a 404.
    app.url_map.converters["int"] = StoredInteger
    app.extensions["syndicate"] = service
    app.extensions["syndicate_pages"] = PageCache()

    from syndicate.web import admin, api, feeds, ops, pages, share

    for module in (feeds, api, share, pages, admin, ops):
        app.register_blueprint(module.bp)

    @app.before_request
    def _refuse_nul() -> Any:
        # No id, name or filter of syndicate contains NUL, and PostgreSQL refuses it in
        # any text: answer 400 here rather than fail deep in a query.
        args = request.args.items(multi=True)
        if "\x00" in request.path or any("\x00" in k + v for k, v in args):
            from syndicate.web.errors import json_error

            return json_error(400, "the URL contains a NUL character")
        return None

    @app.errorhandler(StoreError)
    def _database_busy(exc: StoreError) -> Any:
        # A write that waited db_busy_seconds for another writer, or a database that is
        # down: the client may try again, so 503 with Retry-After, never a 500.
        from syndicate.web.errors import json_error

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


def pages_of(app: Flask) -> PageCache:
    cache: PageCache = app.extensions["syndicate_pages"]
    return cache


def service_of(app: Flask) -> Service:
    service: Service = app.extensions["syndicate"]
    return service
