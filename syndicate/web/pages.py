"""Human pages: the home page and the fallback page of an article without a URL of its own."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template
from markupsafe import Markup

from syndicate.content.sanitize import sanitize_html
from syndicate.web.feed_index import feed_links
from syndicate.web.parts import pages_of, parts_of

bp = Blueprint("pages", __name__)

HTML = "text/html; charset=utf-8"
LATEST_ON_HOME = 10


@bp.get("/")
def home() -> str:
    """What this service is: the feeds, the latest articles, the feed list and the admin."""
    service = parts_of(current_app)
    return render_template(
        "home.html",
        settings=service.settings,
        feeds=feed_links(service, names=["all"]),
        latest=service.store.recent_articles(limit=LATEST_ON_HOME),
    )


@bp.get("/articles/<article_id>")
def article(article_id: str) -> Response:
    """A simple, accessible page of one article; 404 if unknown, 410 once unpublished."""
    service = parts_of(current_app)
    item = service.store.get_article(article_id)
    if item is None:
        page = render_template("article_missing.html", settings=service.settings, gone=False)
        return Response(page, 404, content_type=HTML)
    if item.status != "published":
        page = render_template("article_missing.html", settings=service.settings, gone=True)
        return Response(page, 410, content_type=HTML)

    def render() -> str:
        return render_template(
            "article.html",
            settings=service.settings,
            article=item,
            # Sanitised at ingest; again here so a policy change reaches stored HTML too.
            content=Markup(sanitize_html(item.content_html, item.url)),
            feeds=feed_links(service, names=["all"]),
        )

    page = pages_of(current_app).page("article", item, render)
    return Response(page, 200, content_type=HTML)
