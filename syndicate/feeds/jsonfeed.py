"""JSON Feed 1.1 (docs/feeds.md R20): the feed object, its items, and the assembled document.

Pure: no I/O, no clock. Each item's bytes are memoised like the XML entries, so the
document is the head, then the items joined, byte-identical to one ``json.dumps``.
"""

from __future__ import annotations

import json
from typing import Any

from syndicate.content.text import clean_xml_text, to_uri
from syndicate.feeds.common import (
    ShareHtml,
    Site,
    cleaned,
    cleaned_share,
    enclosure,
    entry_id,
    fragments,
    modified,
    section_link,
    term_labels,
    utc,
)
from syndicate.models import Article, FeedSpec

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def document(
    spec: FeedSpec,
    items: list[Article],
    site: Site,
    self_url: str,
    share: ShareHtml | None,
    next_url: str | None = None,
) -> bytes:
    """The whole JSON Feed of *items* (already ordered), compact UTF-8."""

    def build(missing: list[Article]) -> list[bytes]:
        clean_share = share and cleaned_share(share)
        return [_dumps(json_item(cleaned(item), spec, clean_share)) for item in missing]

    parts = fragments(items, "json", spec, site, share, build)
    head = json_head(spec, site, self_url)
    if next_url:
        head["next_url"] = next_url
    return b"".join((_dumps(head)[:-1], b',"items":[', b",".join(parts), b"]}"))


def json_head(spec: FeedSpec, site: Site, self_url: str) -> dict[str, Any]:
    """The JSON Feed object without ``items``."""
    head: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": clean_xml_text(spec.title) or site.title,
        "home_page_url": section_link(spec, site),
        "feed_url": self_url,
        "description": clean_xml_text(spec.description or spec.title),
        "language": site.language,
        "authors": [{"name": site.title, "url": to_uri(site.home_url)}],
    }
    if site.hub_url:
        head["hubs"] = [{"type": "WebSub", "url": to_uri(site.hub_url)}]
    return head


def json_item(item: Article, spec: FeedSpec, share: ShareHtml | None) -> dict[str, Any]:
    """One JSON Feed item (R20)."""
    out: dict[str, Any] = {"id": entry_id(item), "url": to_uri(item.url), "title": item.title}
    if spec.full_content:
        out["content_html"] = item.content_html + (share(item) if share else "")
    else:
        out["content_text"] = item.summary or item.title
    if item.summary:
        out["summary"] = item.summary
    if item.image and (item.image.type or "image/").startswith("image/"):
        out["image"] = to_uri(item.image.url)
    out["date_published"] = utc(item.published).isoformat()
    out["date_modified"] = modified(item).isoformat()
    if item.author:
        out["authors"] = [{"name": item.author}]
    labels = term_labels(item)
    if labels:
        out["tags"] = labels
    attachment = enclosure(item.image)
    if attachment:
        url, length, kind = attachment
        out["attachments"] = [{"url": url, "mime_type": kind, "size_in_bytes": int(length)}]
    return out


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
