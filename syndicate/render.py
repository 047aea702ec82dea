"""Feed rendering: RSS 2.0 and Atom 1.0 with feedgen (plus its fixes), JSON Feed 1.1 by hand.

Pure: no I/O, no clock. The same articles give byte-identical output. Each entry's
serialised fragment is memoised in a bounded LRU (``_FRAGMENTS``), so re-rendering
after one new article serialises only that one; the assembled bytes equal what
feedgen builds for the whole document, plus the fixes.

Decisions (feeds.md §2.2, R1–R22):

- Feed-level date = newest entry ``updated``. An empty feed uses ``EMPTY_FEED_DATE``
  (2000-01-01T00:00:00Z): fixed, and after 1990 so the validator finds it plausible;
  its ``last_modified`` is ``None``.
- Categories and tags both become categories; the *label* is the term in every format
  (RSS ``<category>label</category>``, Atom ``term="label"``, JSON ``tags``), as
  WordPress does: one term set, readable by people.
- An image becomes an enclosure only when its byte length is known and its type is
  known or guessable from the URL (RSS requires both); JSON still gives ``image``.
- RSS authors are names without e-mail, so they go in ``dc:creator``; an article
  without an author is credited to the site.
- The entry id is the article's permanent ``guid`` (``isPermaLink="false"``), or its
  URL when an article has none yet.
"""

from __future__ import annotations

import html
import json
import mimetypes
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from feedgen.entry import FeedEntry
from feedgen.ext.dc import DcEntryExtension, DcExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicate.models import Article, FeedFormat, FeedSpec, Image, Term
from syndicate.text import clean_xml_text

if TYPE_CHECKING:
    from syndicate.config import Settings

ShareHtml = Callable[[Article], str]

EMPTY_FEED_DATE = datetime(2000, 1, 1, tzinfo=UTC)
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
MEDIA_TYPES: dict[str, str] = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json",
}
_ATOM_LINK_ATTRS = ("rel", "type", "hreflang", "title", "length")
# Plain-text RSS elements: lxml writes "&lt;", which the validator reads as escaped HTML.
_DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
_PLAIN_TEXT = re.compile(rb"(<(title|category|dc:creator)(?: [^>]*)?>)([^<]*)(</\2>)")


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


_FRAGMENTS = FragmentCache(max_entries=8192, max_bytes=64_000_000)


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


@dataclass(frozen=True, slots=True)
class RenderedFeed:
    """One rendered feed document."""

    body: bytes
    last_modified: datetime | None
    media_type: str


def render(
    spec: FeedSpec,
    articles: Sequence[Article],
    fmt: FeedFormat,
    site: Site,
    *,
    self_url: str,
    share_html: ShareHtml | None = None,
) -> RenderedFeed:
    """Render *articles* (all of them, newest first) as feed *fmt* of *spec*."""
    items = ordered(articles)
    newest = max((modified(a) for a in items), default=None)
    updated = newest or EMPTY_FEED_DATE
    share = share_html if spec.share_links else None
    if fmt == "json":
        body = _json_document(spec, items, site, self_url, share)
    elif fmt in ("rss", "atom"):
        body = _xml_document(spec, items, fmt, site, self_url, updated, share)
    else:
        raise ValueError(f"unknown feed format {fmt!r}")
    return RenderedFeed(body, newest, MEDIA_TYPES[fmt])


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
    return item.guid or item.url


def section_link(spec: FeedSpec, site: Site) -> str:
    """The HTML page a feed stands for (RSS channel link, Atom alternate)."""
    return spec.link or site.home_url


# -- RSS and Atom ---------------------------------------------------------------------


class _Entry(FeedEntry):
    """feedgen's entry with Atom link attributes restored (feedgen#135/#143).

    RSS gets ``dc:creator`` directly: feedgen's dc extension would do the same, slower.
    """

    creator = ""

    def atom_entry(self, extensions: bool = True) -> Any:
        entry = super().atom_entry(extensions)
        for element, link in zip(entry.iterchildren("link"), self.link() or (), strict=True):
            for attr in _ATOM_LINK_ATTRS:
                if link.get(attr):
                    element.set(attr, str(link[attr]))
        return entry

    def rss_entry(self, extensions: bool = True) -> Any:
        item = super().rss_entry(extensions)
        if self.creator:
            etree.SubElement(item, _DC_CREATOR).text = self.creator
        return item


class _Generator(FeedGenerator):
    """feedgen's generator that also writes the WebSub hub link into RSS (R19)."""

    hub_url = ""

    def _create_rss(self, extensions: bool = True) -> Any:
        feed, doc = super()._create_rss(extensions)
        if self.hub_url:
            selflink = feed.find("channel/{http://www.w3.org/2005/Atom}link[@rel='self']")
            hub = selflink.makeelement(selflink.tag, href=self.hub_url, rel="hub")
            selflink.addnext(hub)
        return feed, doc


def generator(
    spec: FeedSpec, fmt: FeedFormat, site: Site, self_url: str, updated: datetime
) -> FeedGenerator:
    """The channel/feed part, without entries."""
    gen = _Generator()
    gen.hub_url = site.hub_url
    gen.register_extension("dc", DcExtension, DcEntryExtension, atom=False, rss=True)
    gen.id(f"{site.public_url}/feeds/{spec.name}.atom")
    gen.title(clean_xml_text(spec.title) or site.title)
    gen.subtitle(clean_xml_text(spec.description or spec.title) or site.title)
    # Self first: feedgen uses the last link added as the RSS <channel><link> (trap 1).
    gen.link(href=self_url, rel="self", type=MEDIA_TYPES[fmt].split(";")[0])
    gen.link(href=section_link(spec, site), rel="alternate", type="text/html")
    if site.hub_url and fmt == "atom":
        gen.link(href=site.hub_url, rel="hub")
    gen.author({"name": site.title})
    gen.language(site.language)
    gen.updated(updated)
    gen.lastBuildDate(updated)
    gen.ttl(site.ttl_minutes)
    gen.generator(site.generator)
    return gen


def entry(item: Article, spec: FeedSpec, site: Site, share: ShareHtml | None) -> FeedEntry:
    """One feedgen entry for *item*; raises ValueError on XML-illegal text."""
    fe = _Entry()
    fe.id(entry_id(item))
    fe.title(item.title)
    fe.link(href=item.url, rel="alternate", type="text/html")
    author = item.author or site.title
    fe.author({"name": author})
    fe.creator = author
    fe.published(utc(item.published))
    fe.updated(modified(item))
    if item.summary:
        fe.summary(html.escape(item.summary, quote=False), type="html")
    if spec.full_content:
        extra = share(item) if share else ""
        fe.content(item.content_html + extra, type="html")
    labels = term_labels(item)
    if labels:
        fe.category([{"term": label} for label in labels])
    enclosure = _enclosure(item.image)
    if enclosure:
        fe.enclosure(*enclosure)
    return fe


def term_labels(item: Article) -> list[str]:
    """Category then tag labels, first occurrence kept."""
    return list(dict.fromkeys(t.label for t in (*item.categories, *item.tags) if t.label))


def _enclosure(image: Image | None) -> tuple[str, str, str] | None:
    if image is None or image.length is None or image.length < 0:
        return None
    kind = image.type or mimetypes.guess_type(image.url)[0]
    return (image.url, str(image.length), kind) if kind else None


def fix_plain_text(xml: bytes) -> bytes:
    """Write ``<`` and ``&`` as hex references in plain-text RSS elements (trap 6)."""
    return _PLAIN_TEXT.sub(_hex_escape, xml)


def _hex_escape(match: re.Match[bytes]) -> bytes:
    text = match.group(3).replace(b"&lt;", b"&#x3C;").replace(b"&amp;", b"&#x26;")
    return match.group(1) + text + match.group(4)


def _needs_hex(item: Article, site: Site) -> bool:
    texts = (item.title, item.author or site.title, *term_labels(item))
    return any("&" in t or "<" in t for t in texts)


def _xml_document(
    spec: FeedSpec,
    items: list[Article],
    fmt: FeedFormat,
    site: Site,
    self_url: str,
    updated: datetime,
    share: ShareHtml | None,
) -> bytes:
    gen = generator(spec, fmt, site, self_url, updated)
    root, doc = gen._create_rss() if fmt == "rss" else gen._create_atom()
    parent = root[0] if fmt == "rss" else root
    tag, close = (b"<item>", b"</channel>") if fmt == "rss" else (b"<entry>", b"</feed>")
    shell = b""

    def build(missing: list[Article]) -> list[bytes]:
        # One serialisation of the document with the new entries, cut at their start
        # tags: text and attributes never hold a raw "<", so the cuts are exact.
        nonlocal shell
        hex_escape = []
        for item in missing:
            element, plain = _element(item, spec, fmt, site, share)
            parent.append(element)
            hex_escape.append(fmt == "rss" and _needs_hex(plain, site))
        full: bytes = etree.tostring(doc, encoding="UTF-8", xml_declaration=True)
        end = full.rindex(close)
        start = full.find(tag) if missing else end
        shell = full[:start] + full[end:]
        parts = [tag + part for part in full[start:end].split(tag)[1:]]
        return [fix_plain_text(p) if h else p for p, h in zip(parts, hex_escape, strict=True)]

    fragments = _fragments(items, fmt, spec, site, share, build)
    if fmt == "rss":
        shell = fix_plain_text(shell)
    cut = shell.rindex(close)
    return b"".join((shell[:cut], *fragments, shell[cut:]))


def _element(
    item: Article, spec: FeedSpec, fmt: FeedFormat, site: Site, share: ShareHtml | None
) -> tuple[Any, Article]:
    """The lxml entry element, and the article as it went in."""
    try:
        fe = entry(item, spec, site, share)
        return (fe.rss_entry() if fmt == "rss" else fe.atom_entry()), item
    except ValueError:  # XML-illegal characters or a bad date: clean, then build (R21)
        item = cleaned(item)
        fe = entry(item, spec, site, share and _cleaned_share(share))
        return (fe.rss_entry() if fmt == "rss" else fe.atom_entry()), item


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
        guid=clean_xml_text(item.guid),
        categories=_clean_terms(item.categories),
        tags=_clean_terms(item.tags),
        image=replace(image, url=clean_xml_text(image.url)) if image else None,
    )


def _clean_terms(terms: tuple[Term, ...]) -> tuple[Term, ...]:
    return tuple(Term(clean_xml_text(t.slug), clean_xml_text(t.label)) for t in terms)


def _cleaned_share(share: ShareHtml) -> ShareHtml:
    return lambda item: clean_xml_text(share(item))


def _fragments(
    items: list[Article],
    fmt: FeedFormat,
    spec: FeedSpec,
    site: Site,
    share: ShareHtml | None,
    build: Callable[[list[Article]], list[bytes]],
) -> list[bytes]:
    """Each item's fragment: from the memo when the article is unchanged, else built."""
    keys = [
        (fmt, entry_id(item), spec.full_content, share(item) if share else "", site)
        for item in items
    ]
    found = _FRAGMENTS.get_many(keys, items)
    missing = [i for i, fragment in enumerate(found) if fragment is None]
    built = build([items[i] for i in missing])
    _FRAGMENTS.put_many([(keys[i], items[i], built[n]) for n, i in enumerate(missing)])
    for n, i in enumerate(missing):
        found[i] = built[n]
    return [fragment for fragment in found if fragment is not None]


# -- JSON Feed 1.1 ----------------------------------------------------------------------


def _json_document(
    spec: FeedSpec, items: list[Article], site: Site, self_url: str, share: ShareHtml | None
) -> bytes:
    def build(missing: list[Article]) -> list[bytes]:
        clean_share = share and _cleaned_share(share)
        return [_dumps(json_item(cleaned(item), spec, clean_share)) for item in missing]

    fragments = _fragments(items, "json", spec, site, share, build)
    return b"".join(
        (_dumps(json_head(spec, site, self_url))[:-1], b',"items":[', b",".join(fragments), b"]}")
    )


def json_head(spec: FeedSpec, site: Site, self_url: str) -> dict[str, Any]:
    """The JSON Feed object without ``items``."""
    head: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": clean_xml_text(spec.title) or site.title,
        "home_page_url": section_link(spec, site),
        "feed_url": self_url,
        "description": clean_xml_text(spec.description or spec.title),
        "language": site.language,
        "authors": [{"name": site.title, "url": site.home_url}],
    }
    if site.hub_url:
        head["hubs"] = [{"type": "WebSub", "url": site.hub_url}]
    return head


def json_item(item: Article, spec: FeedSpec, share: ShareHtml | None) -> dict[str, Any]:
    """One JSON Feed item (R20)."""
    out: dict[str, Any] = {"id": entry_id(item), "url": item.url, "title": item.title}
    if spec.full_content:
        out["content_html"] = item.content_html + (share(item) if share else "")
    else:
        out["content_text"] = item.summary or item.title
    if item.summary:
        out["summary"] = item.summary
    if item.image:
        out["image"] = item.image.url
    out["date_published"] = utc(item.published).isoformat()
    out["date_modified"] = modified(item).isoformat()
    if item.author:
        out["authors"] = [{"name": item.author}]
    labels = term_labels(item)
    if labels:
        out["tags"] = labels
    enclosure = _enclosure(item.image)
    if enclosure:
        url, length, kind = enclosure
        out["attachments"] = [{"url": url, "mime_type": kind, "size_in_bytes": int(length)}]
    return out


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
