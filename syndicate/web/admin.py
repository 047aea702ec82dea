"""The operator page (``/admin``) and the share-ledger JSON API (``/api/shares``).

Authentication is the API bearer token only, never a cookie: the page is a static shell
that asks for the token, keeps it in ``sessionStorage`` (gone when the tab closes) and
sends it as ``Authorization: Bearer`` on every ``fetch``. No cookie means no ambient
credential, so cross-site requests cannot act on the operator's behalf (no CSRF).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from syndicate import shares
from syndicate.shares import view as shares_view
from syndicate.shares.ledger import ACTIONS, ShareActionError, ShareNotFound, State
from syndicate.store.feeds import feed_alerts
from syndicate.web.auth import require_token
from syndicate.web.errors import json_error
from syndicate.web.parts import WebParts, parts_of

bp = Blueprint("admin", __name__)

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


def _service() -> WebParts:
    return parts_of(current_app)


def _with_actions(job: dict[str, Any]) -> dict[str, Any]:
    """A job plus the operator actions its state allows (the page shows those buttons)."""
    allowed = [name for name, (starts, _) in ACTIONS.items() if State(job["state"]) in starts]
    return job | {"actions": allowed}


@bp.get("/admin")
def page() -> Response:
    """The operator page shell: no data until the token is given."""
    response = Response(render_template("admin.html"), mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/api/admin/overview")
@require_token
def overview() -> Response:
    """Recent articles with each network's share state, alerts and state counts."""
    service = _service()
    articles = shares_view.articles_with_jobs(service.store, limit=_limit(50))
    for item in articles:
        item["shares"] = [_with_actions(j) for j in item["shares"]]
    return jsonify(
        {
            "articles": articles,
            "alerts": (
                shares_view.alerts(service.store, service.now())
                + feed_alerts(service.publisher.state)
            ),
            "counts": shares_view.state_counts(service.store),
        }
    )


@bp.get("/api/shares")
@require_token
def list_shares() -> Response:
    """Jobs filtered by ``article``, ``state`` and ``network``."""
    state = request.args.get("state") or None
    if state is not None and state not in {s.value for s in State}:
        return json_error(
            400,
            "bad query",
            fields={
                "state": f"unknown state {state!r}; one of {', '.join(s.value for s in State)}"
            },
        )
    jobs = shares_view.list_jobs(
        _service().store,
        article=request.args.get("article") or None,
        state=state,
        network=request.args.get("network") or None,
        limit=_limit(500),
    )
    return jsonify({"shares": [_with_actions(j) for j in jobs]})


@bp.get("/api/shares/<int:job_id>")
@require_token
def show_share(job_id: int) -> Response:
    """One job with its audit trail and its recorded (redacted) request."""
    service = _service()
    job = shares_view.get_job(service.store, job_id)
    if job is None:
        return json_error(404, f"no share job with id {job_id}")
    return jsonify(
        _with_actions(job)
        | {
            "events": shares_view.events(service.store, job_id),
            "request": shares_view.request_preview(service.store, job_id),
        }
    )


@bp.post("/api/shares/<int:job_id>/<action>")
@require_token
def act(job_id: int, action: str) -> Response:
    """Operator action: retry, cancel, resolve (``{"posted": false}`` = not there), reshare."""
    if action not in ACTIONS:
        return json_error(404, f"no action {action!r}; use {', '.join(ACTIONS)}")
    body = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(body, dict):
        return json_error(400, "the body must be a JSON object (or empty)")
    posted, permalink = body.get("posted", True), body.get("permalink")
    problems = {}
    if not isinstance(posted, bool):
        problems["posted"] = "must be true or false"
    if permalink is not None and not (
        isinstance(permalink, str) and permalink.startswith(("https://", "http://"))
    ):
        problems["permalink"] = "must be an http(s) URL"
    if problems:
        return json_error(400, "bad fields", fields=problems)
    try:
        job = shares.act(
            _service().outbox,
            job_id,
            action,
            actor="operator:api",
            posted=posted,
            permalink=permalink,
        )
    except ShareNotFound:
        return json_error(404, f"no share job with id {job_id}")
    except ShareActionError as exc:
        return json_error(409, str(exc))
    return jsonify(_with_actions(job))


def _limit(default: int) -> int:
    raw = request.args.get("limit", "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 9:
        return max(1, min(int(raw), 1000))
    return default
