"""The /feeds/ page as data: feeds in sections, each with its address, size and age.

Built on the catalog of feeds the publisher serves (:meth:`Publisher.specs`), so a feed
exists here exactly when it exists under /feeds/.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from syndicate.feeds.render import EMPTY_FEED_DATE, MEDIA_TYPES
from syndicate.models import FEED_FORMATS
from syndicate.web.parts import WebParts

_LAST_BUILD = re.compile(rb"<lastBuildDate>([^<]+)</lastBuildDate>")

# Headings of /feeds/, in order: (kind of feed, heading, what the section holds).
INDEX_SECTIONS = (
    ("all", "Everything", "Every article, newest first."),
    ("category", "Sections", "One feed per section."),
    ("author", "Authors", "One feed per author."),
    ("tag", "Tags", "One feed per tag."),
    ("", "More feeds", "Feeds put together by the newsroom."),
)


def feed_links(service: WebParts, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Every feed (or those named) with its URL and media type in each format."""
    publisher = service.publisher
    wanted = set(names) if names is not None else None
    listing = []
    for spec in publisher.specs():
        if wanted is not None and spec.name not in wanted:
            continue
        formats = [
            {
                "format": fmt,
                "label": {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}[fmt],
                "url": publisher.self_url(spec.name, fmt),
                "type": MEDIA_TYPES[fmt].split(";")[0],
            }
            for fmt in FEED_FORMATS
        ]
        listing.append({"spec": spec, "formats": formats})
    return listing


def feed_index(service: WebParts) -> list[dict[str, Any]]:
    """/feeds/ as data: sections with a heading, each feed with its label, addresses,
    number of items and the time of its newest entry."""
    publisher = service.publisher
    counts = service.store.published_counts()
    prefix = f"{service.settings.site_title}: "
    grouped: dict[str, list[dict[str, Any]]] = {kind: [] for kind, _, _ in INDEX_SECTIONS}
    for number, entry in enumerate(feed_links(service)):
        spec = entry["spec"]
        kind = _index_kind(spec.name, grouped)
        count = counts.get(spec.name)
        if count is None or kind == "":  # a configured feed filters on its own terms
            count = len(publisher.articles(spec))
        grouped[kind].append(
            {
                "id": f"feed-{number}",
                "label": spec.title.removeprefix(prefix) or spec.title,
                "item_count": min(count, spec.limit),
                "updated": _newest_entry(publisher.path(spec.name, "rss")),
                "formats": entry["formats"],
            }
        )
    return [
        {"id": f"section-{kind or 'more'}", "title": title, "about": about,
         "feeds": sorted(grouped[kind], key=lambda f: f["label"].casefold())}
        for kind, title, about in INDEX_SECTIONS
        if grouped[kind]
    ]  # fmt: skip


def _index_kind(name: str, kinds: Mapping[str, Any]) -> str:
    if name == "all":
        return "all"
    head, slash, _ = name.partition("/")
    return head if slash and head in kinds else ""


def _newest_entry(path: Path) -> datetime | None:
    """The newest entry's date: the RSS file's ``<lastBuildDate>`` (docs/feeds.md R9).

    Not the file's mtime, which is when the feed's bytes last changed (§5).
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    match = _LAST_BUILD.search(head)
    if match is None:
        return None
    when = parsedate_to_datetime(match.group(1).decode("ascii", "replace"))
    return None if when <= EMPTY_FEED_DATE else when.astimezone(UTC)
