"""The baseline: a plain feedgen FeedGenerator with the same fields, none of syndicate's fixes."""

from __future__ import annotations

from collections.abc import Sequence

from feedgen.feed import FeedGenerator

from syndicate.models import Article

FEED_URL = "https://feeds.example.com/feeds/all"
HOME = "https://news.example.com/"


def bare_feed(items: Sequence[Article], fmt: str) -> bytes:
    """RSS or Atom of *items* (newest first) as a straightforward feedgen user would write it."""
    gen = FeedGenerator()
    gen.id(f"{FEED_URL}.atom")
    gen.title("syndicate bench news")
    gen.subtitle("Latest articles")
    gen.link(href=HOME, rel="alternate")
    gen.link(href=f"{FEED_URL}.{fmt}", rel="self")
    gen.author({"name": "syndicate bench news"})
    gen.language("en")
    gen.ttl(15)
    if items:  # else feedgen stamps the build time and no two renders are equal
        gen.updated(max(a.updated for a in items))
        gen.lastBuildDate(max(a.updated for a in items))
    for item in reversed(items):  # feedgen prepends: add oldest first
        entry = gen.add_entry()
        entry.id(item.guid or item.url)
        entry.guid(item.guid or item.url, permalink=False)
        entry.title(item.title)
        entry.link(href=item.url)
        entry.author({"name": item.author})
        entry.published(item.published)
        entry.updated(item.updated)
        entry.summary(item.summary)
        entry.content(item.content_html, type="html")
        for term in (*item.categories, *item.tags):
            entry.category({"term": term.label})
        if item.image is not None and item.image.length:
            entry.enclosure(item.image.url, str(item.image.length), item.image.type)
    return bytes(gen.rss_str() if fmt == "rss" else gen.atom_str())
