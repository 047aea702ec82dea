"""Upstream RSS/Atom feeds: fetched through the SSRF-safe fetcher, parsed with feedparser.

Each configured :class:`~syndicate.models.UpstreamSpec` is polled on its own interval
with conditional GET; its entries become articles of source ``upstream:<name>`` with
stable ids ``<name>-<sha1(entry key)[:16]>`` (:mod:`syndicate.ingest.upstream_entries`
says how entries are identified and what is dropped to keep one). A bad entry is
rejected with its reason while the good ones are taken; a failing upstream never stops
the others. Every poll's outcome is stored (:mod:`syndicate.ingest.poll_record`) and each
rejected entry is logged at WARNING with the upstream and its position.

feedparser only ever sees bytes we fetched, decoded and entity-expanded by
:mod:`syndicate.ingest.feedbytes` (no external entities, bounded expansion).

**Duplicate ids in one document**: a repeat (same id, link, title and text) is taken
once and counted as ``repeated``; a clash (same id, different entry) keeps both: the
oldest by published date (then the first in the document) keeps the id, so a newer item
re-using an old guid never takes over the old article; the others' keys get ``#`` and
their fingerprint appended, with a warning naming the entry that kept the id. Nothing is
overwritten silently.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import requests

from syndicate import net
from syndicate.errors import FetchError, IngestError, StoreError
from syndicate.ingest import Intake, feedbytes, ingest_many
from syndicate.ingest.poll_record import EntryProblem, PollResult, record_poll
from syndicate.ingest.upstream_entries import (
    FeedContext,
    MappedEntry,
    article_id,
    entry_label,
    map_entry,
    split_author,
)
from syndicate.models import UpstreamSpec
from syndicate.runtime import require_safe_expat
from syndicate.store import Change
from syndicate.store.upstreams import load_state, save_state

log = logging.getLogger(__name__)

# Fields normalise() may refuse that an entry can live without (dropped, with a warning).
DROPPABLE = (
    "url", "published", "updated", "author", "author_email", "categories", "tags", "image",
    "summary",
)  # fmt: skip


require_safe_expat()  # also checked when any service opens (syndicate.runtime)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """Entries of a feed document, the base URL they resolve against, and notes on it."""

    entries: list[Any]
    base_url: str
    feed_author: str | None = None
    warning: str | None = None
    encoding: str | None = None
    notes: list[str] = field(default_factory=list)


def poll_job(intake: Intake) -> None:
    """Scheduler tick: poll every upstream that is due; one failure never stops the rest."""
    specs = intake.settings.upstream
    if not specs:
        return
    now = intake.now()
    due = [spec for spec in specs if _is_due(load_state(intake.store, spec.name), spec, now)]
    if not due:
        return
    # Each upstream is fetched in its own thread with its own session, so a slow one
    # never delays another's poll; every fetch ends by its deadline.
    workers = min(len(due), POLL_THREADS)
    with ThreadPoolExecutor(workers, thread_name_prefix="upstream") as pool:
        for future in [pool.submit(_poll_isolated, intake, spec) for spec in due]:
            future.result()


POLL_THREADS = 8


def _poll_isolated(intake: Intake, spec: UpstreamSpec) -> None:
    if intake.stopping.is_set():
        return
    try:
        poll_upstream(intake, spec)
    except Exception as exc:  # one broken upstream must not stop the others
        log.exception("upstream %s: poll crashed", spec.name)
        try:
            reason = f"internal error: {type(exc).__name__}: {exc}"[:500]
            _failed(intake, spec, reason, "unconditional", None)
        except StoreError:
            log.error("upstream %s: could not record the failure", spec.name)


def poll_upstream(
    intake: Intake,
    spec: UpstreamSpec,
    *,
    session: requests.Session | None = None,
    fetch: Callable[..., net.FetchResult] = net.safe_fetch,
) -> PollResult:
    """Fetch *spec* (conditionally), take its entries in, and record the outcome.

    *fetch* is :func:`syndicate.net.safe_fetch` or a partial of it with other limits.
    """
    if session is None:
        with net.make_session(net.user_agent_for(intake.settings.public_url)) as own:
            return poll_upstream(intake, spec, session=own, fetch=fetch)
    old_etag, old_modified = _validators(load_state(intake.store, spec.name), spec)
    conditional = "modified" if old_etag or old_modified else "unconditional"
    try:
        fetched = fetch(
            session, spec.url, allow_private=spec.allow_private,
            allow_loopback=spec.allow_loopback, cancel=intake.stopping,
            etag=old_etag, last_modified=old_modified,
        )  # fmt: skip
    except FetchError as exc:
        return _failed(intake, spec, exc.reason, conditional, exc.status)
    if fetched.not_modified:
        _save(intake, spec, status="304", error=None, etag=fetched.etag or old_etag,
              last_modified=fetched.last_modified or old_modified)  # fmt: skip
        log.info("upstream %s: not modified", spec.name)
        result = PollResult(spec.name, "not-modified", 304, "not-modified")
        record_poll(intake, spec.url, result)
        return result
    try:
        parsed = parse_feed(fetched.body, fetched.url, fetched.headers)
    except IngestError as exc:
        return _failed(intake, spec, _problem_text(exc), conditional, fetched.status)
    result = _take_entries(intake, spec, parsed, fetched.status, conditional)
    if result.status == "error":
        return result
    _save(intake, spec, status=str(fetched.status), error=parsed.warning,
          etag=fetched.etag, last_modified=fetched.last_modified)  # fmt: skip
    record_poll(intake, spec.url, result)
    log.info(
        "upstream %s: %d entries, %d created, %d updated, %d unchanged, %d rejected%s",
        spec.name, result.entries, result.created, result.updated, result.unchanged,
        len(result.rejected), f" (feed is malformed: {parsed.warning})" if parsed.warning else "",
    )  # fmt: skip
    return result


def parse_feed(body: bytes, url: str, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Decode and parse fetched bytes; raise IngestError when nothing usable is there."""
    content_type = (headers or {}).get("Content-Type") or ""
    document = feedbytes.prepare(body, content_type)
    media_type = content_type.split(";", 1)[0].strip() or "application/xml"
    response_headers = {
        "content-location": url, "content-type": f"{media_type}; charset=utf-8",
    }  # fmt: skip
    doc = feedparser.parse(io.BytesIO(document.data), response_headers=response_headers)
    warning = _describe_bozo(doc) if doc.get("bozo") else None
    if not doc.entries:
        if warning:
            raise IngestError({"feed": f"not a readable feed: {warning}"})
        if not doc.get("version"):
            raise IngestError({"feed": "not an RSS or Atom feed"})
    author = doc.get("feed", {}).get("author") or ""
    notes = [*document.notes, *([f"feed is malformed: {warning}"] if warning else [])]
    return ParsedFeed(
        list(doc.entries), url, split_author(author)[0] or None, warning,
        document.encoding, notes,
    )  # fmt: skip


def _describe_bozo(doc: Any) -> str:
    exc = doc.get("bozo_exception")
    text = f"{type(exc).__name__}: {exc}" if exc is not None else "malformed feed"
    return text[:500]


def _problem_text(exc: IngestError) -> str:
    return "; ".join(f"{k}: {v}" for k, v in exc.problems.items())


# -- entries --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Batch:
    """Entries of one document on their way into the store."""

    mapped: list[tuple[int, MappedEntry]] = field(default_factory=list)
    problems: list[EntryProblem] = field(default_factory=list)
    repeated: int = 0
    labels: dict[int, str] = field(default_factory=dict)

    def problem(self, position: int, key: str | None, kind: str, reason: str) -> None:
        label = self.labels.get(position, "")
        self.problems.append(EntryProblem(position, key, label, kind, reason))


def _take_entries(
    intake: Intake, spec: UpstreamSpec, feed: ParsedFeed, http_status: int, conditional: str
) -> PollResult:
    context = FeedContext(spec.url, feed.base_url, intake.now(), spec.author or feed.feed_author)
    batch = _map_all(spec, feed.entries, context)
    try:
        changes = _store(intake, spec, batch)
    except StoreError as exc:
        return _failed(intake, spec, f"storing entries failed: {exc}", conditional, http_status)
    for problem in batch.problems:
        level = logging.WARNING if problem.kind == "rejected" else logging.INFO
        log.log(
            level, "upstream %s: entry %d (%r) %s: %s", spec.name, problem.position,
            problem.key or problem.label, "rejected" if level == logging.WARNING else "kept",
            problem.reason,
        )  # fmt: skip
    kinds = [c.kind for c in changes]
    return PollResult(
        spec.name, "ok", http_status, conditional, feed.encoding, entries=len(feed.entries),
        created=kinds.count("created"), updated=kinds.count("updated") + kinds.count("republished"),
        unchanged=kinds.count("unchanged"), repeated=batch.repeated,
        problems=tuple(sorted(batch.problems, key=lambda p: p.position)), notes=tuple(feed.notes),
    )  # fmt: skip


def _map_all(spec: UpstreamSpec, entries: Sequence[Any], context: FeedContext) -> _Batch:
    batch = _Batch()
    groups: dict[str, list[tuple[int, MappedEntry]]] = {}
    for position, entry in enumerate(entries, start=1):
        batch.labels[position] = entry_label(entry)
        try:
            mapped = map_entry(entry, spec, context)
        except IngestError as exc:
            batch.problem(position, _raw_key(entry), "rejected", _problem_text(exc))
            continue
        except Exception as exc:  # one odd entry must not cost the feed its good entries
            log.warning("upstream %s: entry %d raised %s", spec.name, position, exc, exc_info=True)
            reason = f"could not be read: {type(exc).__name__}: {exc}"[:300]
            batch.problem(position, _raw_key(entry), "rejected", reason)
            continue
        groups.setdefault(mapped.key, []).append((position, mapped))
    for group in groups.values():
        for position, mapped in _resolve_clashes(group, spec, batch):
            for warning in mapped.warnings:
                batch.problem(position, mapped.key, "warning", warning)
            batch.mapped.append((position, mapped))
    batch.mapped.sort(key=lambda pm: pm[0])
    return batch


def _resolve_clashes(
    group: list[tuple[int, MappedEntry]], spec: UpstreamSpec, batch: _Batch
) -> list[tuple[int, MappedEntry]]:
    """Entries sharing one key: repeats are taken once; of different entries the oldest
    (then the first in the document) keeps the key, the others get their own."""
    distinct: dict[str, tuple[int, MappedEntry]] = {}
    for position, mapped in group:
        if mapped.fingerprint in distinct:
            batch.repeated += 1
            earlier = distinct[mapped.fingerprint][0]
            batch.problem(position, mapped.key, "warning", f"repeats entry {earlier}: taken once")
        else:
            distinct[mapped.fingerprint] = (position, mapped)
    kept = sorted(distinct.values(), key=_age_then_position)
    holder = kept[0][0]
    return [kept[0], *((p, _disambiguated(m, spec, holder)) for p, m in kept[1:])]


def _age_then_position(item: tuple[int, MappedEntry]) -> tuple[datetime, int]:
    position, mapped = item
    return (mapped.published or datetime.max.replace(tzinfo=UTC), position)


def _disambiguated(mapped: MappedEntry, spec: UpstreamSpec, earlier: int) -> MappedEntry:
    key = f"{mapped.key}#{mapped.fingerprint}"
    mapped.raw["id"] = article_id(spec.name, key)
    mapped.warnings.append(
        f"id {mapped.key!r} is also used by entry {earlier}: kept as a separate article"
    )
    mapped.key = key
    return mapped


def _store(intake: Intake, spec: UpstreamSpec, batch: _Batch) -> list[Change]:
    """Store the mapped entries; an entry normalise refuses only for a part it can live
    without is stored again without that part."""
    source = f"upstream:{spec.name}"
    changes, failures = ingest_many(intake, [m.raw for _, m in batch.mapped], source=source)
    retry: list[tuple[int, MappedEntry]] = []
    for index, failure in sorted(failures.items()):
        position, mapped = batch.mapped[index]
        fields = {name.split(".", 1)[0] for name in failure.problems}
        if fields <= set(DROPPABLE):
            for name, reason in sorted(failure.problems.items()):
                mapped.raw.pop(name.split(".", 1)[0], None)
                batch.problem(position, mapped.key, "warning", f"{name} dropped: {reason}")
            retry.append((position, mapped))
        else:
            batch.problem(position, mapped.key, "rejected", _problem_text(failure))
    if retry:
        more, still = ingest_many(intake, [m.raw for _, m in retry], source=source)
        changes += more
        for index, failure in still.items():
            position, mapped = retry[index]
            batch.problem(position, mapped.key, "rejected", _problem_text(failure))
    return changes


def _raw_key(entry: Mapping[str, Any]) -> str | None:
    for name in ("id", "link"):
        value = entry.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _failed(
    intake: Intake, spec: UpstreamSpec, reason: str, conditional: str, http_status: int | None
) -> PollResult:
    log.warning("upstream %s: %s", spec.name, reason)
    _record_failure(intake, spec, reason)
    result = PollResult(spec.name, "error", http_status, conditional, error=reason)
    record_poll(intake, spec.url, result)
    return result


def _record_failure(intake: Intake, spec: UpstreamSpec, reason: str) -> None:
    etag, last_modified = _validators(load_state(intake.store, spec.name), spec)
    _save(intake, spec, status="error", error=reason, etag=etag, last_modified=last_modified)


# -- upstream_state ------------------------------------------------------------------------


def _validators(state: Mapping[str, Any] | None, spec: UpstreamSpec) -> tuple[str | None, ...]:
    """The stored ETag and Last-Modified, unless the configured URL has changed since."""
    if state is None or state["url"] != spec.url:
        return None, None
    return state["etag"], state["last_modified"]


def _save(
    intake: Intake, spec: UpstreamSpec, *, status: str, error: str | None,
    etag: str | None, last_modified: str | None,
) -> None:  # fmt: skip
    now = intake.now()
    values = {
        "url": spec.url, "etag": _clip(etag, 500), "last_modified": _clip(last_modified, 100),
        "fetched_at": now, "next_fetch_at": now + timedelta(seconds=spec.interval),
        "last_status": status, "last_error": error,
    }  # fmt: skip
    save_state(intake.store, spec.name, values)


def _clip(value: str | None, limit: int) -> str | None:
    return value if value is None or len(value) <= limit else None


def _is_due(state: Mapping[str, Any] | None, spec: UpstreamSpec, now: datetime) -> bool:
    if state is None or state["url"] != spec.url or state["next_fetch_at"] is None:
        return True
    return bool(state["next_fetch_at"] <= now)
