"""Operations endpoints: ``/healthz``, ``/readyz`` and ``/metrics`` (docs/reliability.md §7)."""

from __future__ import annotations

import os
from datetime import timedelta

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from syndicate import metrics
from syndicate.shares import view as shares_view
from syndicate.web import service_of
from syndicate.web.auth import token_matches, unauthorized

bp = Blueprint("ops", __name__)

# Three missed heartbeats (the worker beats every 5 s) and the worker counts as gone.
HEARTBEAT_STALE = timedelta(seconds=15)


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers; touches nothing else."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready when the database answers, a worker beat recently and feeds/ is writable."""
    service = service_of(current_app)
    problems: dict[str, str] = {}
    beat = None
    try:
        service.store.ping()
        beat = shares_view.last_heartbeat(service)
    except Exception as exc:  # any database failure means "not ready", with the reason
        problems["database"] = f"unreachable: {type(exc).__name__}"
    if "database" not in problems:
        if beat is None:
            problems["worker"] = "no worker heartbeat recorded: is `syndicate worker` running?"
        elif service.now() - beat > HEARTBEAT_STALE:
            age = int((service.now() - beat).total_seconds())
            problems["worker"] = f"last worker heartbeat {age} s ago"
    if not os.access(service.settings.feeds_dir, os.W_OK):
        problems["feeds_dir"] = f"{service.settings.feeds_dir} is not writable"
    body = {
        "status": "not ready" if problems else "ready",
        "problems": problems,
        "heartbeat": beat.isoformat().replace("+00:00", "Z") if beat else None,
    }
    return jsonify(body), 503 if problems else 200


@bp.get("/metrics")
def prometheus() -> Response:
    """Prometheus text: process metrics plus ledger numbers read from the database."""
    service = service_of(current_app)
    if service.settings.metrics_token and not token_matches(
        request.headers.get("Authorization"), service.settings.api_token
    ):
        return unauthorized()
    text = generate_latest(REGISTRY) + generate_latest(metrics.ledger_registry(service))
    return Response(
        text,
        mimetype=CONTENT_TYPE_LATEST.split(";")[0],
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )
