"""Feed checks feedparser does not make (docs/feeds.md R3–R12, R19, R20, §2.2).

Each ``check_*`` returns a list of problems (empty when the feed is fine), so a test
can ``assert check_rss(body, url) == []`` and see every problem at once.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} \+0000$"
)
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
PLAIN_TEXT = re.compile(rb"<(title|category|dc:creator)(?: [^>]*)?>([^<]*)</\1>")


def is_absolute(url: str | None) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def check_rss(
    body: bytes, self_url: str, *, now: datetime | None = None, hub: str | None = None
) -> list[str]:
    """Problems of an RSS 2.0 document."""
    problems: list[str] = []
    channel = etree.fromstring(body).find("channel")
    selfs = channel.findall(f"{ATOM}link[@rel='self']")
    if [s.get("href") for s in selfs] != [self_url]:
        problems.append(f"want one atom:link rel=self {self_url!r}, got {len(selfs)}")
    link = channel.findtext("link")
    if not is_absolute(link) or link == self_url or "/feeds/" in (link or ""):
        problems.append(f"channel link {link!r} must be an absolute HTML page, not the feed")
    if not channel.findtext("description"):
        problems.append("channel has no description")
    hubs = [h.get("href") for h in channel.findall(f"{ATOM}link[@rel='hub']")]
    if hubs != ([hub] if hub else []):
        problems.append(f"hub links {hubs} != {[hub] if hub else []}")
    dates = []
    guids = []
    for item in channel.iter("item"):
        guid = item.find("guid")
        guids.append(None if guid is None else guid.text)
        if guid is None or guid.get("isPermaLink") != "false":
            problems.append(f"item guid {guids[-1]!r} missing or isPermaLink != false")
        pub = item.findtext("pubDate") or ""
        problems += _rfc822(pub, now)
        if RFC822.match(pub):
            dates.append(parsedate_to_datetime(pub))
        enclosures = item.findall("enclosure")
        if len(enclosures) > 1:
            problems.append(f"item {guids[-1]}: {len(enclosures)} enclosures")
        for enc in enclosures:
            if not (
                is_absolute(enc.get("url"))
                and (enc.get("length") or "").isdigit()
                and "/" in (enc.get("type") or "")
            ):
                problems.append(f"enclosure lacks url/length/type: {dict(enc.attrib)}")
        if not item.findtext(f"{DC}creator"):
            problems.append(f"item {guids[-1]}: no dc:creator")
    if len(set(guids)) != len(guids):
        problems.append("duplicate guids")
    built = channel.findtext("lastBuildDate") or ""
    problems += _rfc822(built, now)
    if dates and RFC822.match(built) and parsedate_to_datetime(built) < max(dates):
        problems.append("lastBuildDate older than the newest item")
    for match in PLAIN_TEXT.finditer(body):
        if b"&lt;" in match.group(2):
            problems.append(f"&lt; in plain-text <{match.group(1).decode()}>")
    return problems


def _rfc822(value: str, now: datetime | None) -> list[str]:
    if not RFC822.match(value):
        return [f"date {value!r} is not RFC 822 with +0000"]
    if now is not None and parsedate_to_datetime(value) > now:
        return [f"date {value!r} is in the future"]
    return []


def check_atom(
    body: bytes,
    self_url: str,
    *,
    now: datetime | None = None,
    hub: str | None = None,
    updated: datetime | None = None,
) -> list[str]:
    """Problems of an Atom 1.0 document; *updated* is the expected feed date."""
    problems: list[str] = []
    feed = etree.fromstring(body)
    links = feed.findall(f"{ATOM}link")
    if [x.get("href") for x in links if x.get("rel") == "self"] != [self_url]:
        problems.append(f"want exactly one rel=self {self_url!r}")
    alternates = [x.get("href") for x in links if x.get("rel") in (None, "alternate")]
    if len(alternates) != 1 or not is_absolute(alternates[0]) or alternates[0] == self_url:
        problems.append(f"feed alternate link {alternates} must be one HTML page")
    hubs = [x.get("href") for x in links if x.get("rel") == "hub"]
    if hubs != ([hub] if hub else []):
        problems.append(f"hub links {hubs} != {[hub] if hub else []}")
    problems += _atom_common(feed, "feed", now)
    ids: list[str | None] = []
    entry_dates = []
    for entry in feed.findall(f"{ATOM}entry"):
        ids.append(entry.findtext(f"{ATOM}id"))
        problems += _atom_common(entry, f"entry {ids[-1]}", now)
        problems += _atom_entry(entry, ids[-1])
        stamp = entry.findtext(f"{ATOM}updated") or ""
        if RFC3339.match(stamp):
            entry_dates.append(datetime.fromisoformat(stamp))
    if len(set(ids)) != len(ids):
        problems.append("duplicate entry ids")
    stamp = feed.findtext(f"{ATOM}updated") or ""
    expected = max(entry_dates, default=updated)
    if expected is not None and RFC3339.match(stamp) and datetime.fromisoformat(stamp) != expected:
        problems.append(f"feed updated {stamp} != newest entry {expected.isoformat()}")
    return problems


def _atom_common(element: Any, what: str, now: datetime | None) -> list[str]:
    problems = []
    for name in ("id", "title", "updated"):
        if len(element.findall(f"{ATOM}{name}")) != 1:
            problems.append(f"{what}: needs exactly one {name}")
    for name in ("updated", "published"):
        value = element.findtext(f"{ATOM}{name}")
        if value is None:
            continue
        if not RFC3339.match(value):
            problems.append(f"{what}: {name} {value!r} is not RFC 3339")
        elif now is not None and datetime.fromisoformat(value) > now:
            problems.append(f"{what}: {name} {value} is in the future")
    return problems


def _atom_entry(entry: Any, entry_id: str | None) -> list[str]:
    problems = []
    if not entry.findtext(f"{ATOM}author/{ATOM}name"):
        problems.append(f"entry {entry_id}: no author name")
    for name in ("content", "summary"):
        element = entry.find(f"{ATOM}{name}")
        if element is not None and element.get("type") != "html":
            problems.append(f"entry {entry_id}: {name} type {element.get('type')!r} != html")
    seen = set()
    for link in entry.findall(f"{ATOM}link"):
        rel = link.get("rel", "alternate")
        if rel == "alternate":
            key = (link.get("type"), link.get("hreflang"))
            if key in seen:
                problems.append(f"entry {entry_id}: duplicate alternate link {key}")
            seen.add(key)
        if rel == "enclosure" and not ((link.get("length") or "").isdigit() and link.get("type")):
            problems.append(f"entry {entry_id}: enclosure without type/length")
    if not seen:
        problems.append(f"entry {entry_id}: no alternate link")
    return problems


def check_json(body: bytes, self_url: str, *, hub: str | None = None) -> list[str]:
    """Problems of a JSON Feed 1.1 document (R20)."""
    problems: list[str] = []
    feed = json.loads(body)
    if feed.get("version") != "https://jsonfeed.org/version/1.1":
        problems.append(f"version {feed.get('version')!r}")
    if not isinstance(feed.get("title"), str) or not isinstance(feed.get("items"), list):
        problems.append("title and items are required")
    if feed.get("feed_url") != self_url:
        problems.append(f"feed_url {feed.get('feed_url')!r} != {self_url!r}")
    home = feed.get("home_page_url")
    if not is_absolute(home) or home == self_url:
        problems.append(f"home_page_url {home!r} must be the HTML page")
    hubs = [h.get("url") for h in feed.get("hubs", [])]
    if hubs != ([hub] if hub else []):
        problems.append(f"hubs {hubs} != {[hub] if hub else []}")
    ids = []
    for item in feed.get("items", []):
        ids.append(item.get("id"))
        if not isinstance(item.get("id"), str):
            problems.append(f"item id {item.get('id')!r} is not a string")
        if "content_html" not in item and "content_text" not in item:
            problems.append(f"item {item.get('id')}: no content_html/content_text")
        if "author" in item or not isinstance(item.get("authors", []), list):
            problems.append(f"item {item.get('id')}: use an authors array")
        for name in ("date_published", "date_modified"):
            if name in item and not RFC3339.match(item[name]):
                problems.append(f"item {item.get('id')}: {name} not RFC 3339")
        for att in item.get("attachments", []):
            if not (
                att.get("url")
                and att.get("mime_type")
                and isinstance(att.get("size_in_bytes", 0), int)
            ):
                problems.append(f"item {item.get('id')}: bad attachment {att}")
    if len(set(ids)) != len(ids):
        problems.append("duplicate item ids")
    return problems


def check(fmt: str, body: bytes, self_url: str, **kwargs: Any) -> list[str]:
    """Dispatch to the check for *fmt* (``rss``, ``atom`` or ``json``)."""
    shared = check_content(fmt, body)
    if fmt == "json":
        kwargs.pop("now", None)
        kwargs.pop("updated", None)
        return check_json(body, self_url, **kwargs) + shared
    if fmt == "rss":
        kwargs.pop("updated", None)
        return check_rss(body, self_url, **kwargs) + shared
    return check_atom(body, self_url, **kwargs) + shared


# -- URIs, characters, text constructs (validator: UriNotIri, InvalidUriChar,
# InvalidURLAttribute, BadCharacters, ContainsEmail, ContainsUndeclaredHTML, NotHtml) ------

URI = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
BAD_CHARACTERS = re.compile("[\ufffd\ufdd0-\ufdef\ufffe\uffff]|[\U0001fffe-\U0001ffff]")
EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}")
HTML_IN_TEXT = re.compile(r"<[A-Za-z/!]|&(?:#\d+|#x[0-9A-Fa-f]+|[A-Za-z]\w*);")
HTML_URL = re.compile(r"""\s(?:href|src|cite)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
MEDIA = "{http://search.yahoo.com/mrss/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"


def check_uri(value: str | None, where: str) -> list[str]:
    """An ASCII URI: no IRI characters, no spaces, every % an escape (RFC 3986/3987)."""
    if value is None or URI.match(value):
        return []
    return [f"{where}: {value!r} is not an ASCII URI"]


def check_html_uris(html: str | None, where: str) -> list[str]:
    """Every href/src/cite inside an HTML fragment is an absolute ASCII URI."""
    problems = []
    for match in HTML_URL.finditer(" " + (html or "")):
        url = match.group(1) if match.group(1) is not None else match.group(2)
        url = url.replace("&amp;", "&")
        problems += check_uri(url, where)
        if not (is_absolute(url) or url.startswith("mailto:")):
            problems.append(f"{where}: {url!r} is not absolute")
    return problems


def check_content(fmt: str, body: bytes) -> list[str]:
    """The checks every format shares: URIs everywhere, no bad characters, and per format
    the text constructs the validator reads."""
    text = body.decode("utf-8")
    problems = [f"bad character U+{ord(c):04X}" for c in set(BAD_CHARACTERS.findall(text))]
    if fmt == "json":
        return problems + _json_uris(json.loads(body))
    root = etree.fromstring(body)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        for attr in ("href", "url", "src", "domain"):
            if attr in element.attrib and not (attr == "domain"):
                problems += check_uri(element.get(attr), f"<{name} {attr}>")
        if name in ("link", "id", "uri", "icon", "logo", "comments", "docs") and not len(element):
            if element.text and element.tag != f"{ATOM}link":
                problems += check_uri(element.text.strip(), f"<{name}>")
        if name == "guid" and element.get("isPermaLink") != "false":
            problems += check_uri(element.text, "<guid>")
        if name in ("description", "summary", "content") or element.tag == CONTENT:
            if fmt == "rss" or element.get("type") == "html":
                problems += check_html_uris(element.text, f"<{name}>")
        if fmt == "atom" and name in ("title", "subtitle", "rights", "summary", "content"):
            if element.get("type", "text") == "text" and HTML_IN_TEXT.search(element.text or ""):
                problems.append(f"<{name}> {element.text!r}: HTML in a text construct")
        if name in ("name", "creator") and EMAIL.search(element.text or ""):
            problems.append(f"<{name}> {element.text!r} holds an e-mail address")
    return problems


def _json_uris(feed: dict[str, Any]) -> list[str]:
    problems = []
    for key in ("home_page_url", "feed_url", "next_url", "icon", "favicon"):
        problems += check_uri(feed.get(key), key)
    people = list(feed.get("authors", []))
    hubs = feed.get("hubs", [])
    problems += [p for hub in hubs for p in check_uri(hub.get("url"), "hubs.url")]
    for item in feed.get("items", []):
        for key in ("url", "external_url", "image", "banner_image"):
            problems += check_uri(item.get(key), f"item.{key}")
        problems += check_html_uris(item.get("content_html"), "item.content_html")
        people += item.get("authors", [])
        for att in item.get("attachments", []):
            problems += check_uri(att.get("url"), "attachment.url")
        image = item.get("image")
        if image and "image" in item and not _looks_like_image(image):
            problems.append(f"item.image {image!r} is not an image")
    problems += [p for person in people for p in check_uri(person.get("url"), "author.url")]
    return problems


def _looks_like_image(url: str) -> bool:
    import mimetypes

    kind = mimetypes.guess_type(urlsplit(url).path)[0]
    return kind is None or kind.startswith("image/")
