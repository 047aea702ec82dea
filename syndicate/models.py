"""Plain data: articles, feed definitions and upstream sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from syndicate.content.text import feed_slug

Status = Literal["published", "unpublished"]
FeedFormat = Literal["rss", "atom", "json"]
FEED_FORMATS: tuple[FeedFormat, ...] = ("rss", "atom", "json")


@dataclass(frozen=True, slots=True)
class Image:
    """The article's lead image; becomes the feed enclosure and og:image."""

    url: str
    type: str | None = None
    length: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Term:
    """A category or tag: a URL-safe slug and the label people read."""

    slug: str
    label: str


@dataclass(frozen=True, slots=True)
class Article:
    """One article, normalised: sanitised HTML, absolute URLs, aware UTC dates.

    ``id`` is the public, URL-safe key; ``guid`` is fixed the first time the article is
    stored and never changes afterwards (docs/feeds.md R6).
    """

    id: str
    title: str
    url: str
    content_html: str
    summary: str
    author: str
    published: datetime
    updated: datetime
    categories: tuple[Term, ...] = ()
    tags: tuple[Term, ...] = ()
    image: Image | None = None
    source: str = "api"
    guid: str = ""
    status: Status = "published"
    author_email: str | None = None  # published in feeds; set only when the source opts in

    @property
    def author_slug(self) -> str:
        return feed_slug(self.author) if self.author.strip() else ""


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed, as data: what it selects and how it is rendered.

    ``name`` is the path under ``/feeds/`` without extension: ``all``,
    ``category/world``, ``author/jane-doe``.
    """

    name: str
    title: str
    description: str
    link: str
    category: str | None = None
    tag: str | None = None
    author: str | None = None
    source: str | None = None
    limit: int = 50
    full_content: bool = True
    share_links: bool = False


@dataclass(frozen=True, slots=True)
class UpstreamSpec:
    """An upstream RSS/Atom feed to take articles from."""

    name: str
    url: str
    interval: int = 900
    allow_private: bool = False
    allow_loopback: bool = False
    author: str | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)
    publish_author_email: bool = False
