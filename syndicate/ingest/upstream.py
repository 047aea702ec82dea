"""Upstream RSS/Atom feeds: fetched through the SSRF-safe fetcher, parsed with feedparser.

Each configured :class:`~syndicate.models.UpstreamSpec` is polled on its own interval
with conditional GET; its entries become articles of source ``upstream:<name>`` with
stable ids ``<name>-<sha1(entry id)[:16]>``. A bad entry is skipped (and counted) while
the good ones are taken; a failing upstream is recorded in ``upstream_state`` and never
stops the others.

feedparser only ever sees bytes we fetched (wrapped in a stream, since a bare string or
bytes may be opened as a path or URL). Feeds that declare XML entities are refused
before parsing: that stops billion-laughs and external-entity (XXE) documents outright,
on top of expat's amplification limit and feedparser's disabled external entities.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from time import struct_time
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import feedparser
import requests
import sqlalchemy as sa

from syndicate import net
from syndicate.content.text import slugify
from syndicate.errors import FetchError, IngestError, StoreError
from syndicate.ingest import ingest_many
from syndicate.models import UpstreamSpec
from syndicate.runtime import require_safe_expat
from syndicate.store.schema import upstream_state

if TYPE_CHECKING:
    from syndicate.service import Service

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
ENTITY_DECLARATIONS = tuple("<!ENTITY".encode(c) for c in ("utf-8", "utf-16-le", "utf-16-be"))


require_safe_expat()  # also checked when any service opens (syndicate.runtime)


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll of one upstream did."""

    name: str
    status: str  # "ok", "not-modified" or "error"
    entries: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """Entries of a feed document, the base URL they resolve against, and any bozo note."""

    entries: list[Any]
    base_url: str
    feed_author: str | None = None
    warning: str | None = None


def poll_job(service: Service) -> None:
    """Scheduler tick: poll every upstream that is due; one failure never stops the rest."""
    specs = service.settings.upstream
    if not specs:
        return
    now = service.now()
    due = [spec for spec in specs if _is_due(load_state(service, spec.name), spec, now)]
    if not due:
        return
    with net.make_session(net.user_agent_for(service.settings.public_url)) as session:
        for spec in due:
            try:
                poll_upstream(service, spec, session=session)
            except Exception as exc:  # one broken upstream must not stop the others
                log.exception("upstream %s: poll crashed", spec.name)
                _record_failure(service, spec, f"internal error: {exc}")


def poll_upstream(
    service: Service,
    spec: UpstreamSpec,
    *,
    session: requests.Session | None = None,
    fetch: Callable[..., net.FetchResult] = net.safe_fetch,
) -> PollResult:
    """Fetch *spec* (conditionally), take its entries in, and record the outcome.

    *fetch* is :func:`syndicate.net.safe_fetch` or a partial of it with other limits.
    """
    if session is None:
        with net.make_session(net.user_agent_for(service.settings.public_url)) as own:
            return poll_upstream(service, spec, session=own, fetch=fetch)
    old_etag, old_modified = _validators(load_state(service, spec.name), spec)
    try:
        fetched = fetch(
            session, spec.url, allow_private=spec.allow_private,
            etag=old_etag, last_modified=old_modified,
        )  # fmt: skip
    except FetchError as exc:
        return _failed(service, spec, exc.reason)
    if fetched.not_modified:
        _save(service, spec, status="304", error=None, etag=fetched.etag or old_etag,
              last_modified=fetched.last_modified or old_modified)  # fmt: skip
        log.info("upstream %s: not modified", spec.name)
        return PollResult(spec.name, "not-modified")
    try:
        parsed = parse_feed(fetched.body, fetched.url, fetched.headers)
    except IngestError as exc:
        return _failed(service, spec, str(exc))
    result = _take_entries(service, spec, parsed)
    if result.status == "error":
        return result
    _save(service, spec, status=str(fetched.status), error=parsed.warning,
          etag=fetched.etag, last_modified=fetched.last_modified)  # fmt: skip
    log.info(
        "upstream %s: %d entries, %d created, %d updated, %d unchanged, %d skipped%s",
        spec.name, result.entries, result.created, result.updated, result.unchanged,
        len(result.skipped), f" (feed is malformed: {parsed.warning})" if parsed.warning else "",
    )  # fmt: skip
    return result


def parse_feed(body: bytes, url: str, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse fetched bytes with feedparser; raise IngestError when nothing usable is there."""
    if any(marker in body for marker in ENTITY_DECLARATIONS):
        raise IngestError({"feed": "declares XML entities (refused: billion laughs / XXE)"})
    response_headers = {"content-location": url}
    if headers and headers.get("Content-Type"):
        response_headers["content-type"] = headers["Content-Type"]
    doc = feedparser.parse(io.BytesIO(body), response_headers=response_headers)
    warning = _describe_bozo(doc) if doc.get("bozo") else None
    if not doc.entries:
        if warning:
            raise IngestError({"feed": f"not a readable feed: {warning}"})
        if not doc.get("version"):
            raise IngestError({"feed": "not an RSS or Atom feed"})
    author = doc.get("feed", {}).get("author") or None
    return ParsedFeed(list(doc.entries), url, author, warning)


def entry_to_raw(entry: Mapping[str, Any], spec: UpstreamSpec, feed: ParsedFeed) -> dict[str, Any]:
    """Map one feedparser entry to the raw article mapping of :func:`ingest_many`."""
    key = entry_key(entry)
    if not key:
        raise IngestError({"id": "entry has no id, link or title to identify it"})
    link = entry.get("link") or (key if key.startswith(("http://", "https://")) else None)
    raw: dict[str, Any] = {
        "id": article_id(spec.name, key),
        "title": _title(entry),
        "url": urljoin(feed.base_url, link) if link else None,
        "author": entry.get("author") or spec.author or feed.feed_author,
        "published": _date(entry, "published") or _date(entry, "updated"),
        "updated": _date(entry, "updated"),
        "categories": _categories(entry, spec),
        "image": _image(entry, feed.base_url),
    }
    raw.update(_body(entry))
    return {k: v for k, v in raw.items() if v not in (None, "", [], ())}


def entry_key(entry: Mapping[str, Any]) -> str:
    """The upstream's identity of an entry: its id/guid, else its link, else its title."""
    for name in ("id", "link", "title"):
        value = entry.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def article_id(upstream: str, key: str) -> str:
    """A stable, URL-safe article id for an upstream entry."""
    prefix = slugify(upstream)[:60].strip("-") or "upstream"
    return f"{prefix}-{hashlib.sha1(key.encode()).hexdigest()[:16]}"


def _title(entry: Mapping[str, Any]) -> str | None:
    detail = entry.get("title_detail") or {}
    title = entry.get("title")
    if title and detail.get("type") in HTML_TYPES:
        return _html_text(title)
    return title


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
    if not summary:
        return {}
    if summary_detail.get("type") in HTML_TYPES:
        return {"body": summary}
    return {"text": summary}


def _with_summary(body: dict[str, str], summary: str) -> dict[str, str]:
    return {**body, "summary": summary} if summary else body


def _date(entry: Mapping[str, Any], name: str) -> str | datetime | None:
    """The entry's date: its own text when readable (a naive one takes the site timezone,
    in :func:`normalise`), else feedparser's parse of it in UTC."""
    text = entry.get(name)
    if isinstance(text, str) and _readable_date(text.strip()):
        return text.strip()
    parsed = entry.get(f"{name}_parsed")
    if isinstance(parsed, struct_time | tuple) and len(parsed) >= 6:
        try:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
        except (ValueError, OverflowError):
            return None
    return None


def _readable_date(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
        return True
    except ValueError:
        pass
    try:
        parsedate_to_datetime(text)
        return True
    except (TypeError, ValueError, IndexError):
        return False


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


def _html_text(markup: str) -> str:
    from syndicate.content.sanitize import html_to_text

    return html_to_text(markup)


def _describe_bozo(doc: Any) -> str:
    exc = doc.get("bozo_exception")
    text = f"{type(exc).__name__}: {exc}" if exc is not None else "malformed feed"
    return text[:500]


def _take_entries(service: Service, spec: UpstreamSpec, feed: ParsedFeed) -> PollResult:
    raws: list[dict[str, Any]] = []
    labels: list[str] = []
    skipped: dict[str, str] = {}
    for position, entry in enumerate(feed.entries):
        label = entry_key(entry) or f"entry {position + 1}"
        try:
            raws.append(entry_to_raw(entry, spec, feed))
            labels.append(label)
        except IngestError as exc:
            skipped[label] = str(exc)
    try:
        changes, failures = ingest_many(service, raws, source=f"upstream:{spec.name}")
    except StoreError as exc:
        return _failed(service, spec, f"storing entries failed: {exc}")
    for index, failure in failures.items():
        skipped[labels[index]] = str(failure)
    kinds = [c.kind for c in changes]
    return PollResult(
        spec.name, "ok", entries=len(feed.entries), created=kinds.count("created"),
        updated=kinds.count("updated") + kinds.count("republished"),
        unchanged=kinds.count("unchanged"), skipped=skipped,
    )  # fmt: skip


def _failed(service: Service, spec: UpstreamSpec, reason: str) -> PollResult:
    log.warning("upstream %s: %s", spec.name, reason)
    _record_failure(service, spec, reason)
    return PollResult(spec.name, "error", error=reason)


def _record_failure(service: Service, spec: UpstreamSpec, reason: str) -> None:
    etag, last_modified = _validators(load_state(service, spec.name), spec)
    _save(service, spec, status="error", error=reason, etag=etag, last_modified=last_modified)


# -- upstream_state ------------------------------------------------------------------------


def load_state(service: Service, name: str) -> dict[str, Any] | None:
    """The stored state row of upstream *name*, or None before its first poll."""
    with service.store.read() as conn:
        row = conn.execute(sa.select(upstream_state).where(upstream_state.c.name == name)).first()
    return dict(row._mapping) if row else None


def _validators(state: Mapping[str, Any] | None, spec: UpstreamSpec) -> tuple[str | None, ...]:
    """The stored ETag and Last-Modified, unless the configured URL has changed since."""
    if state is None or state["url"] != spec.url:
        return None, None
    return state["etag"], state["last_modified"]


def _save(
    service: Service, spec: UpstreamSpec, *, status: str, error: str | None,
    etag: str | None, last_modified: str | None,
) -> None:  # fmt: skip
    now = service.now()
    values = {
        "url": spec.url, "etag": _clip(etag, 500), "last_modified": _clip(last_modified, 100),
        "fetched_at": now, "next_fetch_at": now + timedelta(seconds=spec.interval),
        "last_status": status, "last_error": error,
    }  # fmt: skip
    with service.store.begin() as conn:
        updated = conn.execute(
            upstream_state.update().where(upstream_state.c.name == spec.name).values(values)
        )
        if not updated.rowcount:
            conn.execute(upstream_state.insert().values(name=spec.name, **values))


def _clip(value: str | None, limit: int) -> str | None:
    return value if value is None or len(value) <= limit else None


def _is_due(state: Mapping[str, Any] | None, spec: UpstreamSpec, now: datetime) -> bool:
    if state is None or state["url"] != spec.url or state["next_fetch_at"] is None:
        return True
    return bool(state["next_fetch_at"] <= now)
