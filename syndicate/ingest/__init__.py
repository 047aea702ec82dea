"""Taking articles in: one normalising gate for every source, then one store transaction.

The drop folder, the push API and upstream feeds all hand raw mappings to
:func:`ingest_many` (per-item results) or :func:`ingest_raw` (all or nothing);
:func:`normalise` (rules in :mod:`syndicate.ingest.rules`) is the single place where raw
input is validated and cleaned. File parsers are found by extension through the
``syndicate.parsers`` entry points (:func:`load_parsers`).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import entry_points
from typing import Any

from syndicate import metrics
from syndicate.config import Settings
from syndicate.content.text import clean_xml_text
from syndicate.errors import IngestError, RefusedByStore
from syndicate.ingest.rules import normalise, present
from syndicate.models import Article
from syndicate.store import Change, Store

log = logging.getLogger(__name__)

Parser = Callable[[bytes, str], list[dict[str, Any]]]
PARSERS_GROUP = "syndicate.parsers"
BUILTIN_PARSERS = {
    "txt": "syndicate.ingest.plaintext:parse_text",
    "md": "syndicate.ingest.markdown:parse_markdown",
    "json": "syndicate.ingest.jsonfile:parse_json",
    "jsonl": "syndicate.ingest.jsonfile:parse_jsonl",
}


@dataclass(frozen=True)
class Intake:
    """What taking articles in works with: the settings, the store, the clock, and the
    process's stop signal (a long scan or poll stops between items once it is set)."""

    settings: Settings
    store: Store
    clock: Callable[[], datetime]
    stopping: threading.Event

    def now(self) -> datetime:
        return self.clock()


# -- storing ----------------------------------------------------------------------------


def ingest_many(
    intake: Intake,
    raws: Sequence[Mapping[str, Any]],
    *,
    source: str,
    default_ids: Sequence[str | None] | None = None,
) -> tuple[list[Change], dict[int, IngestError]]:
    """Store every good raw article in one transaction; return changes and failures by index.

    When the database refuses a value of one article, the batch is stored one article at a
    time instead, so that one article is refused and the others are taken in.
    """
    prepared, failures = _prepare(intake, raws, source, default_ids)
    changes: list[Change] = []
    try:
        if prepared:
            changes = intake.store.upsert_articles(list(prepared.values()), intake.now())
    except RefusedByStore:
        for index, item in prepared.items():
            try:
                changes += intake.store.upsert_articles([item], intake.now())
            except RefusedByStore as exc:
                failures[index] = exc
    for change in changes:
        metrics.articles_ingested.labels(source=source, result=change.kind).inc()
    if failures:
        metrics.articles_ingested.labels(source=source, result="rejected").inc(len(failures))
    return changes, failures


def ingest_raw(
    intake: Intake,
    raws: Sequence[Mapping[str, Any]],
    *,
    source: str,
    default_ids: Sequence[str | None] | None = None,
) -> list[Change]:
    """All or nothing: store every raw article, or raise IngestError and store none.

    With several items the problem keys are prefixed by the item's index (``"2.title"``).
    """
    prepared, failures = _prepare(intake, raws, source, default_ids)
    articles = list(prepared.values())
    if failures:
        metrics.articles_ingested.labels(source=source, result="rejected").inc(len(failures))
        if len(raws) == 1:
            raise failures[0]
        raise IngestError(
            {f"{i}.{k}": v for i, exc in sorted(failures.items()) for k, v in exc.problems.items()}
        )
    changes = intake.store.upsert_articles(articles, intake.now()) if articles else []
    for change in changes:
        metrics.articles_ingested.labels(source=source, result=change.kind).inc()
    return changes


def _prepare(
    intake: Intake,
    raws: Sequence[Mapping[str, Any]],
    source: str,
    default_ids: Sequence[str | None] | None,
) -> tuple[dict[int, Article], dict[int, IngestError]]:
    """Normalised articles and failures, by their index in *raws*.

    Any error raised by one raw article fails that article only; a database that cannot
    be reached (StoreError) still stops the whole batch, which is then retried later.
    """
    now = intake.now()
    store = intake.store
    articles: dict[int, Article] = {}
    failures: dict[int, IngestError] = {}
    for index, raw in enumerate(raws):
        default = default_ids[index] if default_ids else None
        try:
            default = _known_id_for_url(store, raw) or default
            item = normalise(raw, intake.settings, source=source, now=now, default_id=default)
            articles[index] = _keep_first_publication(store, item, raw, now)
        except IngestError as exc:
            failures[index] = exc
        except (TypeError, ValueError, ArithmeticError, LookupError, RecursionError) as exc:
            log.warning(
                "article %d of %s raised %s", index, source, type(exc).__name__, exc_info=True
            )
            failures[index] = IngestError({"article": f"could not be taken in: {_describe(exc)}"})
    return articles, failures


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."


def _known_id_for_url(store: Store, raw: Mapping[str, Any]) -> str | None:
    """Idempotency on the canonical URL when the raw article carries no id."""
    if present(raw.get("id")) or not isinstance(raw.get("url"), str):
        return None
    url = clean_xml_text(raw["url"]).strip()
    return store.find_id_by_url(url) if url else None


def _keep_first_publication(
    store: Store, item: Article, raw: Mapping[str, Any], now: datetime
) -> Article:
    """Give a re-ingested article without its own date the stored one, so it stays unchanged."""
    if present(raw.get("published")) and item.published < now:
        return item
    stored = store.get_article(item.id)
    if stored is None:
        return item
    updated = item.updated if present(raw.get("updated")) else stored.published
    return dataclasses.replace(
        item, published=stored.published, updated=max(updated, stored.published),
        guid=stored.guid,
    )  # fmt: skip


# -- parsers ------------------------------------------------------------------------------


class _LazyParser:
    """A parser imported on first use, so unused formats cost nothing at start-up."""

    def __init__(self, ref: str) -> None:
        self.ref = ref

    @functools.cached_property
    def func(self) -> Parser:
        module, _, attr = self.ref.partition(":")
        parser: Parser = getattr(importlib.import_module(module), attr)
        return parser

    def __call__(self, data: bytes, name: str) -> list[dict[str, Any]]:
        return self.func(data, name)


@functools.cache
def load_parsers() -> dict[str, Callable[[bytes, str], list[dict[str, Any]]]]:
    """Parsers by file extension (no dot), from the ``syndicate.parsers`` entry points."""
    refs = dict(BUILTIN_PARSERS)
    refs.update({ep.name.lower(): ep.value for ep in entry_points(group=PARSERS_GROUP)})
    return {ext: _LazyParser(ref) for ext, ref in sorted(refs.items())}
