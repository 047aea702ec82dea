"""What every feed format shares: the site, article facts, XML-safe cleaning, the entry memo.

Pure: no I/O, no clock. :mod:`syndicate.feeds.render` (RSS, Atom) and
:mod:`syndicate.feeds.jsonfeed` build on it; ``FRAGMENTS`` memoises each entry's serialised
fragment so re-rendering after one new article serialises only that one.
"""

from __future__ import annotations

import mimetypes
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from syndicate.content.text import clean_xml_text, to_uri
from syndicate.models import Article, FeedFormat, FeedSpec, Image, Term

if TYPE_CHECKING:
    from syndicate.config import Settings

ShareHtml = Callable[[Article], str]


@dataclass(frozen=True, slots=True)
class Site:
    """What every feed of one site shares: names, URLs, language and hints."""

    title: str
    home_url: str
    public_url: str
    language: str = "en"
    ttl_minutes: int = 15
    hub_url: str = ""
    generator: str = "syndicate"

    @classmethod
    def from_settings(cls, settings: Settings) -> Site:
        return cls(
            title=settings.site_title,
            home_url=settings.home_url,
            public_url=settings.public_url,
            language=settings.language,
            ttl_minutes=settings.feed_ttl,
            hub_url=settings.websub_hub,
        )


def ordered(articles: Sequence[Article]) -> list[Article]:
    """Newest first by publication, then id; one entry per guid."""
    seen: set[str] = set()
    items = []
    for item in sorted(articles, key=lambda a: (utc(a.published), a.id), reverse=True):
        if entry_id(item) not in seen:
            seen.add(entry_id(item))
            items.append(item)
    return items


def utc(when: datetime) -> datetime:
    """Aware UTC; a naive time is taken as UTC (ingest has already localised it)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def modified(item: Article) -> datetime:
    """Last modification: ``updated``, but never before first publication."""
    return max(utc(item.updated), utc(item.published))


def entry_id(item: Article) -> str:
    return to_uri(item.guid or item.url)


def section_link(spec: FeedSpec, site: Site) -> str:
    """The HTML page a feed stands for (RSS channel link, Atom alternate)."""
    return to_uri(spec.link or site.home_url)


def term_labels(item: Article) -> list[str]:
    """Category then tag labels, first occurrence kept."""
    return list(dict.fromkeys(t.label for t in (*item.categories, *item.tags) if t.label))


def enclosure(image: Image | None) -> tuple[str, str, str] | None:
    """``(url, length, type)`` when the length is known and the type known or guessable."""
    if image is None or image.length is None or image.length < 0:
        return None
    kind = image.type or mimetypes.guess_type(image.url)[0]
    return (to_uri(image.url), str(image.length), kind) if kind else None


def cleaned(item: Article) -> Article:
    """*item* with every text field stripped of characters XML forbids."""
    image = item.image
    return replace(
        item,
        title=clean_xml_text(item.title),
        url=clean_xml_text(item.url),
        content_html=clean_xml_text(item.content_html),
        summary=clean_xml_text(item.summary),
        author=clean_xml_text(item.author),
        author_email=clean_xml_text(item.author_email) if item.author_email else None,
        guid=clean_xml_text(item.guid),
        categories=_clean_terms(item.categories),
        tags=_clean_terms(item.tags),
        image=replace(image, url=clean_xml_text(image.url)) if image else None,
    )


def _clean_terms(terms: tuple[Term, ...]) -> tuple[Term, ...]:
    return tuple(Term(clean_xml_text(t.slug), clean_xml_text(t.label)) for t in terms)


def cleaned_share(share: ShareHtml) -> ShareHtml:
    """*share* with its HTML stripped of characters XML forbids."""
    return lambda item: clean_xml_text(share(item))


class FragmentCache:
    """A thread-safe LRU of rendered entry fragments, bounded in count and bytes.

    A hit needs the stored article to equal the given one, so an edited article whose
    key is unchanged is rebuilt rather than served stale.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._data: OrderedDict[Hashable, tuple[Article, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[Hashable], items: Sequence[Article]) -> list[bytes | None]:
        out: list[bytes | None] = []
        with self._lock:
            for key, item in zip(keys, items, strict=True):
                hit = self._data.get(key)
                if hit is not None and hit[0] == item:
                    self._data.move_to_end(key)
                    out.append(hit[1])
                else:
                    out.append(None)
        return out

    def put_many(self, entries: Sequence[tuple[Hashable, Article, bytes]]) -> None:
        with self._lock:
            for key, item, fragment in entries:
                old = self._data.pop(key, None)
                if old is not None:
                    self._bytes -= len(old[1])
                self._data[key] = (item, fragment)
                self._bytes += len(fragment)
            while len(self._data) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._data.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._data)


FRAGMENTS = FragmentCache(max_entries=8192, max_bytes=64_000_000)


def fragments(
    items: list[Article],
    fmt: FeedFormat,
    spec: FeedSpec,
    site: Site,
    share: ShareHtml | None,
    build: Callable[[list[Article]], list[bytes]],
) -> list[bytes]:
    """Each item's fragment: from ``FRAGMENTS`` when the article is unchanged, else built."""
    keys = [
        (fmt, entry_id(item), spec.full_content, share(item) if share else "", site)
        for item in items
    ]
    found = FRAGMENTS.get_many(keys, items)
    missing = [i for i, fragment in enumerate(found) if fragment is None]
    built = build([items[i] for i in missing])
    FRAGMENTS.put_many([(keys[i], items[i], built[n]) for n, i in enumerate(missing)])
    for n, i in enumerate(missing):
        found[i] = built[n]
    return [fragment for fragment in found if fragment is not None]
