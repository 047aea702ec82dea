"""One upstream feed entry (as feedparser reads it) → one raw article, keeping what is usable.

- **Identity**: the entry's guid/id, else its link, else ``hash:`` and a SHA-1 of the
  feed's configured URL and the entry's title (its text when it has no title), whitespace
  and case folded. So description-only RSS items and id-less Atom entries are taken in and
  stay one article across re-polls and body edits (a title-less entry whose text is edited
  becomes a new article: nothing else identifies it).
- **Keep the entry, drop the bad part**: a link that is not an absolute http(s) URL is
  dropped (the article gets its own page URL); an unreadable published date falls back to
  the updated date, then to the time the entry was first seen; a date in the future
  becomes now; each drop is a warning recorded for the entry.
- **Authors**: ``email (Name)``, ``Name <email>``, a bare e-mail and Atom's name/email are
  split; the e-mail never goes into the name (nor its slug) and is kept (and published
  in feeds) only when the upstream sets ``publish_author_email``. Without a name the
  upstream's configured author, then the feed's author, is used.
- **Nothing worth keeping**: an entry without title, description and content is rejected
  with that reason; so is one whose text is mojibake (see :func:`feedbytes.mis_decoded`).
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parseaddr, parsedate_to_datetime
from time import struct_time
from typing import Any
from urllib.parse import urljoin, urlsplit

from syndicate.content.sanitize import html_to_text
from syndicate.content.text import slugify
from syndicate.errors import IngestError
from syndicate.ingest.feedbytes import mis_decoded
from syndicate.ingest.rules import AUTHOR_LIMIT, URL_LIMIT
from syndicate.models import UpstreamSpec

HTML_TYPES = ("text/html", "application/xhtml+xml")
LABEL_LIMIT = 120
_EMAIL = re.compile(r"<?\b[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+\b>?")
_HOST = re.compile(r"[^\s/?#@:\\]+(?:\.[^\s/?#@:\\]+)*|\[[0-9a-fA-F:.]+\]")
# An ISO 8601 date feedparser would "repair" by overflow (month 13 → next year).
_ISO_PARTS = re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[T ](\d{1,2}):(\d{2}))?")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|<\s*>|\[\s*\]")


@dataclass(frozen=True, slots=True)
class FeedContext:
    """What every entry of one document shares: where it came from and when it was read."""

    url: str  # the upstream's configured URL (identity), not where redirects ended
    base_url: str  # what relative links resolve against
    now: datetime
    feed_author: str | None = None


@dataclass(slots=True)
class MappedEntry:
    """A raw article for :func:`ingest_many` plus what was dropped to keep it."""

    key: str
    raw: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    fingerprint: str = ""
    published: datetime | None = None  # as far as it can be read, to order clashing entries


def map_entry(entry: Mapping[str, Any], spec: UpstreamSpec, feed: FeedContext) -> MappedEntry:
    """Map one feedparser entry; raise IngestError when nothing of it can be kept."""
    body = _body(entry)
    title = _title(entry)
    if not title and not body:
        raise IngestError({"entry": "has no title, description or content"})
    for name, text in (("title", title), *body.items()):
        problem = mis_decoded(text)
        if problem:
            raise IngestError({name: problem})
    warnings: list[str] = []
    key = entry_key(entry, feed.url)
    name = author_name(entry) or spec.author or feed.feed_author or ""
    raw: dict[str, Any] = {
        "id": article_id(spec.name, key),
        "title": title,
        "url": _link(entry, feed.base_url, warnings),
        "author": name[:AUTHOR_LIMIT] if name else None,
        "author_email": author_email(entry) if spec.publish_author_email else None,
        "published": _published(entry, feed.now, warnings),
        "updated": _usable_date(entry, "updated", feed.now, warnings),
        "categories": _categories(entry, spec),
        "image": _image(entry, feed.base_url),
        **body,
    }
    kept = {k: v for k, v in raw.items() if v not in (None, "", [], ())}
    published = kept.get("published")
    moment = _as_datetime(published) if isinstance(published, str | datetime) else None
    return MappedEntry(key, kept, warnings, fingerprint(entry), moment)


def entry_key(entry: Mapping[str, Any], feed_url: str) -> str:
    """The entry's identity: its id/guid, else its link, else a hash of feed URL and text."""
    for name in ("id", "link"):
        value = entry.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    basis = _title(entry) or " ".join(_body(entry).values())
    folded = " ".join(html_to_text(basis).split()).casefold()
    return "hash:" + hashlib.sha1(f"{feed_url}\n{folded}".encode()).hexdigest()


def fingerprint(entry: Mapping[str, Any]) -> str:
    """A short digest of an entry's link, title and text (tells repeats from clashes)."""
    parts = [str(entry.get("link") or ""), _title(entry) or "", *_body(entry).values()]
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:12]


def article_id(upstream: str, key: str) -> str:
    """A stable, URL-safe article id for an upstream entry."""
    prefix = slugify(upstream)[:60].strip("-") or "upstream"
    return f"{prefix}-{hashlib.sha1(key.encode()).hexdigest()[:16]}"


def entry_label(entry: Mapping[str, Any]) -> str:
    """How an operator recognises an entry: its title, else the start of its text."""
    title = _title(entry)
    if title:
        return title[:LABEL_LIMIT]
    text = next(iter(_body(entry).values()), "")[: LABEL_LIMIT * 20]
    return " ".join(html_to_text(text).split())[:LABEL_LIMIT]


# -- authors ----------------------------------------------------------------------------


def split_author(text: str) -> tuple[str, str | None]:
    """``(name, email)`` from ``email (Name)``, ``Name <email>``, ``Name (email)``, or a
    bare name or e-mail; the name never contains an e-mail address."""
    text = " ".join(html.unescape(text).split())
    name, email = parseaddr(text)
    if not email or "@" not in email:
        found = _EMAIL.search(text)
        email = found.group(0).strip("<>") if found else ""
        name = text
    name = _EMAIL.sub(" ", name if name else text.replace(email, " "))
    name = " ".join(_EMPTY_BRACKETS.sub(" ", name).split())
    parts = (part.strip(" :-") for part in re.split(r"[,;]", name))
    return ", ".join(part for part in parts if part), email or None


def author_name(entry: Mapping[str, Any]) -> str:
    """Every author's name (e-mails removed), joined with ", "."""
    names: list[str] = []
    for author in entry.get("authors") or [{"name": entry.get("author")}]:
        raw = author.get("name") if isinstance(author, Mapping) else None
        if not raw and isinstance(author, Mapping):
            raw = author.get("email")
        if isinstance(raw, str) and raw.strip():
            name, _ = split_author(raw)
            if name and name not in names:
                names.append(name)
    if not names and isinstance(entry.get("author"), str):
        names.append(split_author(entry["author"])[0])
    return ", ".join(n for n in names if n)


def author_email(entry: Mapping[str, Any]) -> str | None:
    """The first author's e-mail address, if the entry gives one."""
    for author in entry.get("authors") or [{"name": entry.get("author")}]:
        if not isinstance(author, Mapping):
            continue
        for raw in (author.get("email"), author.get("name")):
            if isinstance(raw, str) and "@" in raw:
                found = split_author(raw)[1]
                if found:
                    return found
    return None


# -- parts ----------------------------------------------------------------------------------


def _title(entry: Mapping[str, Any]) -> str:
    detail = entry.get("title_detail") or {}
    title = entry.get("title") or ""
    if title and detail.get("type") in HTML_TYPES:
        title = html_to_text(title)
    return " ".join(title.split())


def _body(entry: Mapping[str, Any]) -> dict[str, str]:
    """Content preferring HTML over plain text (escaped), plus the summary beside it."""
    contents = [c for c in entry.get("content") or [] if c.get("value")]
    summary_detail = entry.get("summary_detail") or {}
    summary = entry.get("summary") or ""
    html_content = next((c for c in contents if c.get("type") in HTML_TYPES), None)
    if html_content is not None:
        return _with_summary({"body": html_content["value"]}, summary)
    if contents:
        return _with_summary({"text": contents[0]["value"]}, summary)
    if not summary.strip():
        return {}
    if summary_detail.get("type") in HTML_TYPES:
        return {"body": summary}
    return {"text": summary}


def _with_summary(body: dict[str, str], summary: str) -> dict[str, str]:
    return {**body, "summary": summary} if summary.strip() else body


def _link(entry: Mapping[str, Any], base: str, warnings: list[str]) -> str | None:
    link = entry.get("link")
    if not isinstance(link, str) or not link.strip():
        return None
    url = urljoin(base, link.strip())
    if _usable_url(url):
        return url
    shown = url if len(url) <= 200 else url[:200] + "…"
    warnings.append(f"link dropped (not an absolute http(s) URL): {shown!r}; using its own page")
    return None


def _usable_url(url: str) -> bool:
    """An absolute http(s) URL with a plausible host, within the length limit."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        return False
    host = parts.hostname or ""
    return (
        parts.scheme in ("http", "https") and bool(_HOST.fullmatch(host)) and len(url) <= URL_LIMIT
    )


def _published(entry: Mapping[str, Any], now: datetime, warnings: list[str]) -> Any:
    published = _usable_date(entry, "published", now, warnings)
    if published is not None:
        return published
    if entry.get("published"):
        fallback = "the updated date" if _date(entry, "updated") else "the time first seen"
        warnings.append(f"published date unreadable: {entry['published']!r}; using {fallback}")
    return _date(entry, "updated")


def _usable_date(
    entry: Mapping[str, Any], name: str, now: datetime, warnings: list[str]
) -> str | datetime | None:
    value = _date(entry, name)
    if value is None:
        return None
    moment = _as_datetime(value)
    repeated = name == "updated" and entry.get("updated") == entry.get("published")
    if moment is not None and moment > now and not repeated:
        warnings.append(f"{name} date {entry.get(name)!r} is in the future; using now")
    return value


def _date(entry: Mapping[str, Any], name: str) -> str | datetime | None:
    """The entry's date: its own text when readable (a naive one takes the site timezone,
    in :func:`normalise`), else feedparser's parse of it in UTC."""
    text = entry.get(name)
    if isinstance(text, str) and _as_datetime(text.strip()) is not None:
        return text.strip()
    if isinstance(text, str) and _out_of_range(text.strip()):
        return None
    parsed = entry.get(f"{name}_parsed")
    if isinstance(parsed, struct_time | tuple) and len(parsed) >= 6:
        try:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
        except (ValueError, OverflowError):
            return None
    return None


def _out_of_range(text: str) -> bool:
    """An ISO-looking date whose month, day or hour cannot exist."""
    found = _ISO_PARTS.match(text)
    if found is None:
        return False
    _, month, day, hour, minute = (int(g) if g else None for g in found.groups())
    return bool(
        not 1 <= (month or 1) <= 12 or not 1 <= (day or 1) <= 31
        or (hour or 0) > 24 or (minute or 0) > 59
    )  # fmt: skip


def _as_datetime(value: str | datetime) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _categories(entry: Mapping[str, Any], spec: UpstreamSpec) -> list[str]:
    labels = [t.get("label") or t.get("term") for t in entry.get("tags") or []]
    return [label.strip() for label in [*labels, *spec.categories] if label and label.strip()]


def _image(entry: Mapping[str, Any], base: str) -> dict[str, Any] | None:
    """The first image among enclosures, media:content and media:thumbnail."""
    candidates = [
        {"url": e.get("href"), "type": e.get("type"), "length": e.get("length")}
        for e in entry.get("enclosures") or []
    ]
    candidates += [
        {"url": m.get("url"), "type": m.get("type"), "length": m.get("filesize"),
         "width": m.get("width"), "height": m.get("height"), "medium": m.get("medium")}
        for m in entry.get("media_content") or []
    ]  # fmt: skip
    candidates += [
        {"url": t.get("url"), "width": t.get("width"), "height": t.get("height"),
         "medium": "image"}
        for t in entry.get("media_thumbnail") or []
    ]  # fmt: skip
    for item in candidates:
        kind = item.get("type") or ""
        if not item.get("url") or not (kind.startswith("image/") or item.get("medium") == "image"):
            continue
        image: dict[str, Any] = {"url": urljoin(base, item["url"])}
        if kind.startswith("image/"):
            image["type"] = kind
        for name in ("length", "width", "height"):
            number = _whole_number(item.get(name))
            if number is not None:
                image[name] = number
        return image
    return None


def _whole_number(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() and int(text) > 0 else None
