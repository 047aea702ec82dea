"""Share surfaces over HTTP: per-account share previews, the share bar and the meta tags.

``GET /api/articles/<id>/share`` (token) shows, for each enabled account, the intent link
and the exact API request with every secret redacted. ``/articles/<id>/share.html`` and
``/articles/<id>/meta.html`` are public fragments for embedding in article pages.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from markupsafe import Markup

from syndicate.adapters.base import Account, redact
from syndicate.errors import ConfigError, SyndicateError
from syndicate.models import Article
from syndicate.shares import view as shares_view
from syndicate.shares.accounts import secret_values
from syndicate.web.auth import require_token
from syndicate.web.errors import json_error
from syndicate.web.parts import WebParts, pages_of, parts_of

bp = Blueprint("share", __name__)

FRAGMENT_CACHE = "public, max-age=300"


class NotFound(Exception):
    """No (published) article with that id."""


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Response:
    return json_error(404, f"no article with id {exc.args[0]!r}")


@bp.errorhandler(ConfigError)
def _misconfigured(exc: ConfigError) -> Response:
    return json_error(503, f"sharing is misconfigured: {exc}")


def _service() -> WebParts:
    return parts_of(current_app)


def _article(article_id: str, *, published_only: bool) -> Article:
    article = _service().store.get_article(article_id)
    if article is None or (published_only and article.status != "published"):
        raise NotFound(article_id)
    return article


@bp.get("/api/articles/<article_id>/share")
@require_token
def share_preview(article_id: str) -> Response:
    """Each enabled account's intent URL and API request (secrets redacted), plus jobs."""
    service = _service()
    article = _article(article_id, published_only=False)
    sharing = service.sharing
    jobs = _jobs(service, article.id)
    markers = {_job_account(j): str(j["share_key"]) for j in jobs if j.get("share_key")}
    shares = [
        _account_entry(service, article, account, markers.get(account.key))
        for account in sharing.accounts()
    ]
    for entry in shares:
        entry["jobs"] = [j for j in jobs if _job_account(j) == entry["key"]]
    body: dict[str, Any] = {
        "article": article.id,
        "status": article.status,
        # A list, not an object: the share bar's order is part of the answer.
        "intents": [
            {"network": network, "url": url}
            for network, url in sharing.intent_urls(article).items()
        ],
        "shares": shares,
        "jobs": jobs,
    }
    return jsonify(body)


def _account_entry(
    service: WebParts, article: Article, account: Account, marker: str | None
) -> dict[str, Any]:
    """One account's intent, text and request; *marker* is its job's share key, if any."""
    sharing = service.sharing
    entry: dict[str, Any] = {
        "network": account.network,
        "account": account.name,
        "key": account.key,
    }
    secrets = secret_values(account)
    try:
        composed = sharing.compose(article, account, marker)
        request = sharing.build_request(article, account, service.now(), marker)
        entry.update(
            intent_url=sharing.intent_url(article, account.network, account),
            text=composed.text,
            cut=composed.cut,
            fits=composed.fits,
            request=request.preview(),
        )
    except (SyndicateError, KeyError, ValueError) as exc:
        entry["error"] = f"cannot build the request: {exc}"
    # Belt and braces: whatever an adapter forgot to list, no credential leaves.
    redacted: dict[str, Any] = redact(entry, secrets)
    return redacted


def _jobs(service: WebParts, article_id: str) -> list[dict[str, Any]]:
    """The ledger's jobs for the article."""
    return [_jsonable(job) for job in shares_view.jobs_for_article(service.store, article_id)]


def _job_account(job: dict[str, Any]) -> str:
    if "account_key" in job:
        return str(job["account_key"])
    account = str(job.get("account", ""))
    return account if ":" in account else f"{job.get('network', '')}:{account}"


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


@bp.get("/articles/<article_id>/share.html")
def share_bar_fragment(article_id: str) -> Response:
    """The share bar as an HTML fragment to embed in an article page."""
    article = _article(article_id, published_only=True)
    sharing = _service().sharing
    html = pages_of(current_app).page(
        "share.html", article, lambda: sharing.share_bar_html(article)
    )
    return _fragment(html)


@bp.get("/articles/<article_id>/meta.html")
def meta_fragment(article_id: str) -> Response:
    """The Open Graph and X card tags for the article page's ``<head>``."""
    article = _article(article_id, published_only=True)
    sharing = _service().sharing
    html = pages_of(current_app).page("meta.html", article, lambda: sharing.meta_tags_html(article))
    return _fragment(html)


def _fragment(html: str) -> Response:
    response = Response(html + "\n", mimetype="text/html")
    response.headers["Cache-Control"] = FRAGMENT_CACHE
    return response


@bp.app_template_global("share_head_meta")
def share_head_meta(article: Article) -> Markup:
    """Template global for ``article.html``'s ``head_meta`` block: the meta tags."""
    return Markup(_service().sharing.meta_tags_html(article))


@bp.app_template_global("share_bar")
def share_bar(article: Article) -> Markup:
    """Template global for ``article.html``'s ``share`` block: the share bar."""
    return Markup(_service().sharing.share_bar_html(article))
