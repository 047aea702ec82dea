"""Feed rendering: RSS 2.0 and Atom 1.0 with feedgen (plus its fixes); JSON Feed 1.1 in jsonfeed.

Pure: no I/O, no clock. The same articles give byte-identical output. Each entry's
serialised fragment is memoised in a bounded LRU (``_FRAGMENTS``), so re-rendering
after one new article serialises only that one; the assembled bytes equal what
feedgen builds for the whole document, plus the fixes. What all formats share lives in
:mod:`syndicate.feeds.common`, JSON Feed in :mod:`syndicate.feeds.jsonfeed`.

Decisions (docs/feeds.md §2.2, R1–R22):

- Feed-level date = newest entry ``updated``. An empty feed uses ``EMPTY_FEED_DATE``
  (2000-01-01T00:00:00Z): fixed, and after 1990 so the validator finds it plausible;
  its ``last_modified`` is ``None``.
- Categories and tags both become categories; the *label* is the term in every format
  (RSS ``<category>label</category>``, Atom ``term="label"``, JSON ``tags``), as
  WordPress does: one term set, readable by people.
- An image becomes an enclosure only when its byte length is known and its type is
  known or guessable from the URL (RSS requires both); JSON still gives ``image``.
- RSS authors are names without e-mail, so they go in ``dc:creator``; an article
  without an author is credited to the site. An article whose source opted in to
  publishing its author's e-mail also gets RSS ``<author>email (name)</author>`` and
  Atom ``<email>``.
- The entry id is the article's permanent ``guid`` (``isPermaLink="false"``), or its
  URL when an article has none yet.
"""

from __future__ import annotations

import html
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.ext.dc import DcEntryExtension, DcExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from syndicate.content.text import clean_xml_text, to_uri
from syndicate.feeds import jsonfeed
from syndicate.feeds.common import (
    ShareHtml,
    Site,
    cleaned,
    cleaned_share,
    enclosure,
    entry_id,
    fragments,
    modified,
    ordered,
    section_link,
    term_labels,
    utc,
)
from syndicate.models import Article, FeedFormat, FeedSpec, Image

EMPTY_FEED_DATE = datetime(2000, 1, 1, tzinfo=UTC)
MEDIA_TYPES: dict[str, str] = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json",
}
Pages = tuple[tuple[str, str], ...]
_ATOM_LINK_ATTRS = ("rel", "type", "hreflang", "title", "length")
# Plain-text RSS elements: lxml writes "&lt;", which the validator reads as escaped HTML.
_MEDIA_NS = "http://search.yahoo.com/mrss/"
_MEDIA_CONTENT = f"{{{_MEDIA_NS}}}content"
_DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
_PLAIN_TEXT = re.compile(rb"(<(title|category|dc:creator)(?: [^>]*)?>)([^<]*)(</\2>)")


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
    pages: Pages = (),
) -> RenderedFeed:
    """Render *articles* (all of them, newest first) as feed *fmt* of *spec*.

    *pages* are RFC 5005 paging links, ``(rel, url)`` with rel ``next``, ``previous`` or
    ``first``; JSON Feed takes ``next`` as ``next_url``.
    """
    items = ordered(articles)
    newest = max((modified(a) for a in items), default=None)
    updated = newest or EMPTY_FEED_DATE
    share = share_html if spec.share_links else None
    if fmt == "json":
        next_url = dict(pages).get("next")
        body = jsonfeed.document(spec, items, site, self_url, share, next_url)
    elif fmt in ("rss", "atom"):
        body = _xml_document(spec, items, fmt, site, (self_url, pages), updated, share)
    else:
        raise ValueError(f"unknown feed format {fmt!r}")
    return RenderedFeed(body, newest, MEDIA_TYPES[fmt])


class _Entry(FeedEntry):  # type: ignore[misc]  # feedgen ships no type hints
    """feedgen's entry with Atom link attributes restored (feedgen#135/#143).

    RSS gets ``dc:creator`` directly: feedgen's dc extension would do the same, slower.
    """

    creator = ""
    media_image: Image | None = None

    def atom_entry(self, extensions: bool = True) -> Any:
        entry = super().atom_entry(extensions)
        for element, link in zip(entry.iterchildren("link"), self.link() or (), strict=True):
            for attr in _ATOM_LINK_ATTRS:
                if link.get(attr):
                    element.set(attr, str(link[attr]))
        declare_html(entry.find("title"))
        _add_media(entry, self.media_image)
        return entry

    def rss_entry(self, extensions: bool = True) -> Any:
        item = super().rss_entry(extensions)
        if self.creator:
            etree.SubElement(item, _DC_CREATOR).text = self.creator
        _add_media(item, self.media_image)
        return item


def _add_media(parent: Any, image: Image | None) -> None:
    """A Media RSS ``media:content`` for an image whose byte length is unknown (RSS and
    Atom enclosures need one), with its type and size where known."""
    if image is None:
        return
    kind = image.type or mimetypes.guess_type(image.url)[0]
    attrs = {"url": to_uri(image.url), "medium": "image", "type": kind or ""}
    attrs |= {"width": str(image.width or ""), "height": str(image.height or "")}
    element = etree.SubElement(parent, _MEDIA_CONTENT, nsmap={"media": _MEDIA_NS})
    for name, value in attrs.items():
        if value:
            element.set(name, value)


def declare_html(element: Any) -> None:
    """Give an Atom text construct holding ``<`` or ``&`` the type html, escaped."""
    if element is not None and element.text and ("<" in element.text or "&" in element.text):
        element.set("type", "html")
        element.text = html.escape(element.text, quote=False)


class _Generator(FeedGenerator):  # type: ignore[misc]  # feedgen ships no type hints
    """feedgen's generator that also writes the WebSub hub link into RSS (R19)."""

    hub_url = ""
    pages: Pages = ()

    def _create_atom(self, extensions: bool = True) -> Any:
        feed, doc = super()._create_atom(extensions)
        for name in ("title", "subtitle"):
            declare_html(feed.find(name))  # feedgen builds unqualified elements
        return feed, doc

    def _create_rss(self, extensions: bool = True) -> Any:
        feed, doc = super()._create_rss(extensions)
        selflink = feed.find("channel/{http://www.w3.org/2005/Atom}link[@rel='self']")
        extra = [("hub", self.hub_url)] if self.hub_url else []
        for rel, href in reversed([*extra, *self.pages]):
            selflink.addnext(selflink.makeelement(selflink.tag, href=href, rel=rel))
        return feed, doc


def generator(
    spec: FeedSpec,
    fmt: FeedFormat,
    site: Site,
    self_url: str,
    updated: datetime,
    pages: Pages = (),
) -> FeedGenerator:
    """The channel/feed part, without entries."""
    gen = _Generator()
    gen.pages = pages
    gen.hub_url = to_uri(site.hub_url)
    gen.register_extension("dc", DcExtension, DcEntryExtension, atom=False, rss=True)
    gen.id(to_uri(f"{site.public_url}/feeds/{spec.name}.atom"))
    gen.title(clean_xml_text(spec.title) or site.title)
    gen.subtitle(clean_xml_text(spec.description or spec.title) or site.title)
    # Self first: feedgen uses the last link added as the RSS <channel><link> (trap 1).
    gen.link(href=self_url, rel="self", type=MEDIA_TYPES[fmt].split(";")[0])
    if fmt == "atom":
        for rel, href in pages:
            gen.link(href=href, rel=rel, type=MEDIA_TYPES[fmt].split(";")[0])
    gen.link(href=section_link(spec, site), rel="alternate", type="text/html")
    if site.hub_url and fmt == "atom":
        gen.link(href=to_uri(site.hub_url), rel="hub")
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
    fe.link(href=to_uri(item.url), rel="alternate", type="text/html")
    author = item.author or site.title
    fe.author({"name": author, **({"email": item.author_email} if item.author_email else {})})
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
    attachment = enclosure(item.image)
    if attachment:
        fe.enclosure(*attachment)
    elif item.image and (item.image.type or "image/").startswith("image/"):
        fe.media_image = item.image  # no byte length: described as media:content instead
    return fe


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
    urls: tuple[str, Pages],
    updated: datetime,
    share: ShareHtml | None,
) -> bytes:
    gen = generator(spec, fmt, site, urls[0], updated, urls[1])
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

    built = fragments(items, fmt, spec, site, share, build)
    if fmt == "rss":
        shell = fix_plain_text(shell)
    cut = shell.rindex(close)
    return b"".join((shell[:cut], *built, shell[cut:]))


def _element(
    item: Article, spec: FeedSpec, fmt: FeedFormat, site: Site, share: ShareHtml | None
) -> tuple[Any, Article]:
    """The lxml entry element, and the article as it went in."""
    try:
        fe = entry(item, spec, site, share)
        return (fe.rss_entry() if fmt == "rss" else fe.atom_entry()), item
    except ValueError:  # XML-illegal characters or a bad date: clean, then build (R21)
        item = cleaned(item)
        fe = entry(item, spec, site, share and cleaned_share(share))
        return (fe.rss_entry() if fmt == "rss" else fe.atom_entry()), item
