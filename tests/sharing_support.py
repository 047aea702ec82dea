"""Shared test data for the sharing tests: articles, a [share] table, test credentials."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syndicate.models import Article, Image, Term

WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
ARTICLE_URL = "https://news.example.com/world/nato-kursk?id=7&q=a%20b#top"
# Credentials that must never appear in any output.
SECRETS = {
    "SYNDICATE_SECRET_X_NEWSDESK_ACCESS_TOKEN": "tok-x-9f8e7d6c5b4a",
    "SYNDICATE_SECRET_FACEBOOK_DEMO_PAGE_PAGE_TOKEN": "tok-fb-1a2b3c4d5e6f",
    "SYNDICATE_SECRET_LINKEDIN_ORG_ACCESS_TOKEN": "tok-li-0099887766",
}
SECRETS_FILE = """\
[reddit.desk]
client_id = "tok-rd-client-4433"
client_secret = "tok-rd-secret-5566"
username = "desk"
password = "tok-rd-password-7788"
"""
TOKENS = (*SECRETS.values(), "tok-rd-secret-5566", "tok-rd-password-7788")

SHARE: dict[str, Any] = {
    "hashtags": {"world": "WorldNews", "misc": ""},
    "twitter_site": "newsroom",
    "networks": {
        "x": {
            "template": "{title} {url} {hashtags}",
            "utm": {"utm_source": "x", "utm_medium": "social"},
        },
        "facebook": {"utm": {"utm_source": "facebook", "utm_medium": "social"}},
        "reddit": {"utm": {"utm_source": "reddit"}},
        "linkedin": {"utm": {"utm_source": "linkedin"}, "version": "202601"},
    },
    "accounts": [
        {"network": "x", "name": "newsdesk", "auth": "oauth2", "via": "newsdesk", "daily_cap": 20},
        {"network": "facebook", "name": "demo-page", "page_id": "1000000000001"},
        {"network": "reddit", "name": "desk", "subreddit": "worldnews"},
        {"network": "linkedin", "name": "org", "author": "urn:li:organization:42"},
        {"network": "x", "name": "off", "enabled": False},
    ],
}


def share_table(**changes: Any) -> dict[str, Any]:
    """A deep copy of :data:`SHARE` with top-level *changes*."""
    table = copy.deepcopy(SHARE)
    table.update(changes)
    return table


def write_secrets(directory: Path) -> Path:
    path = directory / "secrets.toml"
    path.write_text(SECRETS_FILE, encoding="utf-8")
    return path


def make_article(**changes: Any) -> Article:
    """A published article with curly quotes, CJK, RTL and an emoji in its text."""
    article = Article(
        id="nato-kursk",
        title="NATO: “North Korean troops” in Kursk — 北朝鮮 and שלום 😷",
        url=ARTICLE_URL,
        content_html="<p>NATO officials have expressed growing concern.</p>",
        summary="NATO officials have expressed growing concern over reports from Kursk.",
        author="Jane Doe",
        published=WHEN,
        updated=WHEN,
        categories=(Term("world", "World"), Term("misc", "Misc")),
        tags=(Term("north-korea", "North Korea"), Term("world-news", "World news")),
        image=Image("https://news.example.com/img/lead.jpg", "image/jpeg", 200_000, 1200, 630),
    )
    article = replace(article, **changes)
    return article if article.guid else replace(article, guid=f"tag:news.example.com:{article.id}")
