"""The push API for a CMS: create, update, read, list and unpublish articles.

Every endpoint needs ``Authorization: Bearer <api_token>``. Bad input is answered with
400/413/415/422 and a JSON body naming every bad field; never a 500.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from syndicate.errors import IngestError, StoreError
from syndicate.ingest import ingest_raw
from syndicate.ingest.poll_record import poll_outcomes
from syndicate.ingest.rules import FIELDS, normalise
from syndicate.models import FEED_FORMATS, Article, FeedSpec
from syndicate.web.auth import require_token
from syndicate.web.errors import http_error, json_error
from syndicate.web.parts import WebParts, parts_of

bp = Blueprint("api", __name__, url_prefix="/api")
bp.app_errorhandler(HTTPException)(http_error)

LIST_DEFAULT_LIMIT = 50
LIST_MAX_LIMIT = 500
STATUSES = ("published", "unpublished", "all")

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A request the API answers with an error response instead of a result."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@bp.errorhandler(ApiError)
def _bad_request(exc: ApiError) -> Response:
    return exc.response


@bp.errorhandler(StoreError)
def _store_error(exc: StoreError) -> Response:
    return json_error(503, "the database is unavailable; try again", headers={"Retry-After": "5"})


def _service() -> WebParts:
    return parts_of(current_app)


def read_json_object() -> dict[str, Any]:
    """The request body as a JSON object; raises ApiError (415, 400) otherwise."""
    if not request.is_json:
        raise ApiError(json_error(415, "the body must be JSON (Content-Type: application/json)"))
    data = request.get_data(cache=False)  # 413 past MAX_CONTENT_LENGTH
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and len(data) >= limit and _more_body():
        # A chunked body is cut at the limit by the stream; one byte more means too large.
        raise ApiError(
            json_error(413, f"the body is larger than {limit} bytes (max_request_bytes)")
        )
    try:
        raw = json.loads(data)
    except ValueError as exc:  # also invalid UTF-8
        raise ApiError(json_error(400, f"malformed JSON: {exc}")) from None
    except RecursionError:
        raise ApiError(json_error(400, "malformed JSON: nested too deeply")) from None
    if not isinstance(raw, dict):
        raise ApiError(json_error(400, "the body must be a JSON object of article fields"))
    return raw


def _more_body() -> bool:
    try:
        return bool(request.environ["wsgi.input"].read(1))
    except (OSError, ValueError):
        return False


def checked_fields(raw: dict[str, Any], service: WebParts) -> dict[str, Any]:
    """The known fields of *raw*; raises ApiError (422) if any field is unknown.

    The 422 then names every other bad field too, so one round trip shows them all.
    """
    known = {name: value for name, value in raw.items() if name in FIELDS}
    problems = {name: "unknown field" for name in raw if name not in FIELDS}
    if problems:
        try:
            normalise(known, service.settings, source="api", now=service.now())
        except IngestError as exc:
            problems.update(exc.problems)
        except (TypeError, ValueError) as exc:
            problems.update(_slipped(exc))
        raise ApiError(json_error(422, "invalid article", fields=problems))
    return known


def _slipped(exc: Exception) -> dict[str, str]:
    """Problems for an input error ingest raised without naming the field (an ingest bug)."""
    log.warning("ingest raised %s instead of IngestError", type(exc).__name__, exc_info=True)
    return {"article": f"invalid: {exc}"}


def feeds_of(item: Article, specs: list[FeedSpec]) -> list[FeedSpec]:
    """The feeds a published article belongs to, by their filters."""
    if item.status != "published":
        return []
    categories = {t.slug for t in item.categories}
    tags = {t.slug for t in item.tags}
    return [
        spec
        for spec in specs
        if (spec.category is None or spec.category in categories)
        and (spec.tag is None or spec.tag in tags)
        and (spec.author is None or spec.author == item.author_slug)
        and (spec.source is None or spec.source == item.source)
    ]


def article_json(item: Article, service: WebParts) -> dict[str, Any]:
    """The API's view of an article: every field, plus the feeds it appears in."""
    publisher = service.publisher
    image = item.image
    return {
        "id": item.id,
        "guid": item.guid,
        "url": item.url,
        "status": item.status,
        "title": item.title,
        "summary": item.summary,
        "body": item.content_html,
        "author": item.author,
        "published": item.published.isoformat(),
        "updated": item.updated.isoformat(),
        "categories": [t.label for t in item.categories],
        "tags": [t.label for t in item.tags],
        "image": None
        if image is None
        else {
            "url": image.url,
            "type": image.type,
            "length": image.length,
            "width": image.width,
            "height": image.height,
        },
        "source": item.source,
        "feeds": [
            publisher.self_url(spec.name, fmt)
            for spec in feeds_of(item, publisher.specs())
            for fmt in FEED_FORMATS
        ],
    }


@bp.post("/articles")
@require_token
def put_article() -> tuple[Response, int, dict[str, str]]:
    """Create (201) or update (200) an article, idempotent on its id or canonical URL."""
    service = _service()
    known = checked_fields(read_json_object(), service)
    try:
        # Validates every field; matches an existing article by id, else canonical URL.
        changes = ingest_raw(service.intake, [known], source="api")
    except IngestError as exc:
        raise ApiError(json_error(422, "invalid article", fields=exc.problems)) from None
    except (TypeError, ValueError) as exc:
        raise ApiError(json_error(422, "invalid article", fields=_slipped(exc))) from None
    change = changes[0]
    if change.kind != "unchanged":
        service.publisher.request_render()
    body = article_json(change.article, service) | {"change": change.kind}
    status = 201 if change.kind == "created" else 200
    return jsonify(body), status, {"Location": f"/api/articles/{change.article.id}"}


@bp.get("/articles/<article_id>")
@require_token
def get_article(article_id: str) -> Response:
    """One article as JSON (404 if unknown; unpublished ones are kept and shown)."""
    service = _service()
    item = service.store.get_article(article_id)
    if item is None:
        return json_error(404, f"no article with id {article_id!r}")
    return jsonify(article_json(item, service))


@bp.get("/articles")
@require_token
def list_articles() -> Response:
    """Articles newest first, paged with ``limit`` and ``offset``, filtered by ``status``."""
    service = _service()
    problems: dict[str, str] = {}
    limit = _int_arg("limit", LIST_DEFAULT_LIMIT, 1, LIST_MAX_LIMIT, problems)
    offset = _int_arg("offset", 0, 0, None, problems)
    status = request.args.get("status", "all")
    if status not in STATUSES:
        problems["status"] = f"must be one of {', '.join(STATUSES)}, got {status!r}"
    if problems:
        return json_error(400, "bad query parameter", fields=problems)
    items = service.store.recent_articles(
        limit=limit, offset=offset, status=None if status == "all" else status
    )
    return jsonify(
        {
            "articles": [article_json(item, service) for item in items],
            "limit": limit,
            "offset": offset,
        }
    )


def _int_arg(name: str, default: int, low: int, high: int | None, problems: dict[str, str]) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    valid = raw.isascii() and raw.isdigit() and len(raw) <= 12
    if valid and int(raw) >= low and (high is None or int(raw) <= high):
        return int(raw)
    bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
    problems[name] = f"must be a whole number {bound}, got {raw!r}"
    return default


@bp.delete("/articles/<article_id>")
@require_token
def delete_article(article_id: str) -> Response:
    """Unpublish: the article leaves every feed; its record (and guid) is kept."""
    service = _service()
    if not service.store.unpublish(article_id, service.now()):
        return json_error(404, f"no article with id {article_id!r}")
    service.publisher.request_render()
    return jsonify({"id": article_id, "status": "unpublished"})


@bp.get("/upstreams")
@require_token
def list_upstreams() -> Response:
    """Each upstream feed with its last poll: outcome, counts and every problem's reason."""
    service = _service()
    return jsonify({"upstreams": poll_outcomes(service.store, service.settings.upstream)})
