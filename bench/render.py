"""Render: syndicate's full and incremental renders against bare feedgen on the same fields."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable

from bench import data
from bench.bare import FEED_URL, HOME, bare_feed
from bench.results import (
    Check,
    FamilyResult,
    Table,
    fmt_ms,
    fmt_ratio,
    interleaved,
    median_time,
    ratio,
)
from syndicate.feeds import jsonfeed
from syndicate.feeds import render as rendering
from syndicate.feeds.common import FRAGMENTS, Site
from syndicate.models import FEED_FORMATS, Article, FeedFormat, FeedSpec

SITE = Site(title="syndicate bench news", home_url=HOME,
                      public_url="https://feeds.example.com")  # fmt: skip
FULL_TARGET = 1.3
INCREMENTAL_TARGET = 0.1


def _spec(size: int) -> FeedSpec:
    return FeedSpec("all", "syndicate bench news", "Latest articles", HOME, limit=size)


def _render(items: list[Article], fmt: FeedFormat, size: int) -> bytes:
    feed = rendering.render(_spec(size), items, fmt, SITE, self_url=f"{FEED_URL}.{fmt}")
    return feed.body


def _bare_json(items: list[Article], size: int) -> bytes:
    """json.dumps of the same JSON Feed dicts, built without the fragment cache."""
    spec = _spec(size)
    doc = jsonfeed.json_head(spec, SITE, f"{FEED_URL}.json")
    doc["items"] = [jsonfeed.json_item(item, spec, None) for item in items]
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def baseline(items: list[Article], fmt: FeedFormat, size: int) -> Callable[[], object]:
    if fmt == "json":
        return lambda: _bare_json(items, size)
    return lambda: bare_feed(items, fmt)


def full(items: list[Article], fmt: FeedFormat, size: int) -> Callable[[], object]:
    def run() -> object:
        FRAGMENTS.clear()  # a cold render: every entry serialised
        return _render(items, fmt, size)

    return run


def incremental_time(items: list[Article], fmt: FeedFormat, size: int, repeats: int) -> float:
    """Median time to re-render after one new article, the older ones rendered before."""
    FRAGMENTS.clear()
    older = items[1:]
    _render(older, fmt, size)  # warm: what the previous render left cached
    times = []
    for n in range(repeats):
        new = [data.article(n, prefix=f"new-{fmt}-{size}"), *older]
        times.append(median_time(lambda new=new: _render(new, fmt, size), 1))  # type: ignore[misc]
    FRAGMENTS.clear()
    return statistics.median(times)


def run(quick: bool = False, sizes: tuple[int, ...] = (50, 1000)) -> FamilyResult:
    result = FamilyResult(
        "render", "Render",
        "The site feed rendered by `syndicate.feeds.render.render` (fragment cache cleared: a full "
        "render) against bare feedgen with the same entries and fields and none of the fixes; "
        "JSON Feed against `json.dumps` of the same dicts. Re-render: one new article on top of "
        "a feed whose other entries were rendered before (the fragment cache is warm).",
    )  # fmt: skip
    table = Table("Render times (median)", ["feed", "bare", "full render", "full / bare",
                                            "re-render +1", "re-render / full"])  # fmt: skip
    result.tables.append(table)
    for size in sizes:
        items = data.articles(size, prefix="render")
        repeats = (3 if quick else 7) if size <= 100 else (2 if quick else 5)
        for fmt in FEED_FORMATS:
            base, whole = interleaved([baseline(items, fmt, size), full(items, fmt, size)],
                                      repeats)  # fmt: skip
            again = incremental_time(items, fmt, size, 3 * repeats)
            full_ratio, inc_ratio = ratio(whole, base), ratio(again, whole)
            table.add(f"{size} items {fmt.upper()}", fmt_ms(base), fmt_ms(whole),
                      fmt_ratio(full_ratio), fmt_ms(again), fmt_ratio(inc_ratio))  # fmt: skip
            if fmt != "json":
                result.checks.append(Check(f"full render vs bare feedgen, {size} {fmt.upper()}",
                                           full_ratio, FULL_TARGET, at_most=True))  # fmt: skip
            result.checks.append(Check(f"re-render +1 article vs full, {size} {fmt.upper()}",
                                       inc_ratio, INCREMENTAL_TARGET, at_most=True))  # fmt: skip
    result.notes.append(
        "The JSON Feed baseline is not feedgen (feedgen has no JSON Feed); its full/bare ratio "
        "is for information."
    )
    return result
