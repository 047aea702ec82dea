"""The Flask app factory. ``syndicate serve`` runs it; so does any WSGI server:
``gunicorn 'syndicate.web:create_app()'``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from syndicate import config
from syndicate.errors import ConfigError, StoreError
from syndicate.service import Service


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
    app.extensions["syndicate"] = service

    from syndicate.web import admin, api, feeds, ops, pages, share

    for module in (feeds, api, share, pages, admin, ops):
        app.register_blueprint(module.bp)

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


def service_of(app: Flask) -> Service:
    service: Service = app.extensions["syndicate"]
    return service
