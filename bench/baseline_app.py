"""Serve baseline (a): a minimal Flask app re-rendering the feed with feedgen per request.

Run under gunicorn with the same settings as `syndicate serve`. It reads the 50 newest
articles once at start (no database work per request: the baseline gets that for free),
builds the RSS with bare feedgen on every request, gzips when asked (level 6, as
on-the-fly compressors do) and answers 304 when the body's hash matches If-None-Match.
"""

from __future__ import annotations

import gzip
import hashlib
import os

from flask import Flask, Response, request

from bench.bare import bare_feed
from syndicate.store import Store

_store = Store.open(os.environ["SYNDICATE_DATABASE_URL"], migrate=False)
ITEMS = _store.recent_articles(limit=50)
_store.close()

app = Flask(__name__)


@app.get("/feeds/all.rss")
def feed() -> Response:
    """The site feed, rendered now."""
    body = bare_feed(ITEMS, "rss")
    etag = f'"{hashlib.sha256(body).hexdigest()[:40]}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=900", "Vary": "Accept-Encoding"}
    if request.headers.get("If-None-Match") == etag:
        return Response(status=304, headers=headers)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        body = gzip.compress(body, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return Response(body, 200, headers, content_type="application/rss+xml; charset=utf-8")
