"""The /feeds/ page as data: feeds in sections, each with its address, size and age.

Built on the catalog of feeds the publisher serves (:meth:`Publisher.specs`), so a feed
exists here exactly when it exists under /feeds/.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syndicate.web.feeds import feed_links

if TYPE_CHECKING:
    from syndicate.service import Service


# Headings of /feeds/, in order: (kind of feed, heading, what the section holds).
INDEX_SECTIONS = (
    ("all", "Everything", "Every article, newest first."),
    ("category", "Sections", "One feed per section."),
    ("author", "Authors", "One feed per author."),
    ("tag", "Tags", "One feed per tag."),
    ("", "More feeds", "Feeds put together by the newsroom."),
)


def feed_index(service: Service) -> list[dict[str, Any]]:
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
    """The feed file's mtime, which the publisher sets to its newest entry."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None
