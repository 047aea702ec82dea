"""X weighted length: official conformance cases and fitting posts into 280."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from twitter_text import parse_tweet
from twitter_text.config import config

from syndicate.adapters import x_length as xtext

DATA = json.loads((Path(__file__).parent / "data" / "twitter_text_weighted.json").read_text())
V3_CASES = [
    c
    for s in ("WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest")
    for c in DATA[s]
]
URL = "https://news.example.com/2026/11/20/a-very-long-article-slug?utm_source=x&utm_id=k"


@pytest.mark.parametrize("case", V3_CASES, ids=lambda c: c["description"][:50])
def test_v3_conformance(case: dict[str, Any]) -> None:
    """syndicate's counter gives the official v3 weighted length and validity."""
    assert xtext.weighted_length(case["text"]) == case["weightedLength"]
    assert xtext.is_valid(case["text"]) is case["valid"]


@pytest.mark.parametrize(
    "case", DATA["WeightedTweetsCounterTest"], ids=lambda c: c["description"][:50]
)
def test_v2_conformance_of_the_library(case: dict[str, Any]) -> None:
    """The underlying library passes the v2 section too (the counter we delegate to)."""
    v2 = {**config["version2"], "emoji_parsing_enabled": False}
    assert parse_tweet(case["text"], v2).weightedLength == case["weightedLength"]


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Hi http://test.co", 26),
        ("https://example.com/" + "a" * 200, 23),
        ("see example.com", 27),
        ("日本語", 6),
        ("😷", 2),
        ("👨\u200d👩\u200d👧\u200d👦", 2),
        ("🇯🇵", 2),
        ("cafe\u0301", 4),
        ("x" * 280, 280),
    ],
)
def test_documented_examples(text: str, length: int) -> None:
    """The worked examples of docs/social.md §2 hold."""
    assert xtext.weighted_length(text) == length


@pytest.mark.parametrize(
    "title",
    [
        "Council " * 60,
        "東京都議会が二〇二六年度予算を可決" * 12,
        "😷👨\u200d👩\u200d👧\u200d👦🇯🇵 " * 60,
        "Read https://other.example.org/story first, then " + "more words " * 40,
        " ".join(f"#Tag{i}" for i in range(80)),
    ],
)
def test_fit_keeps_url_and_limit(title: str) -> None:
    """Long, emoji, CJK, URL-bearing and hashtag-only titles fit; URL and tags stay whole."""
    post = xtext.fit(title, URL, ["Budget"])
    assert xtext.weighted_length(post) <= 280 and URL in post
    words = post.split()
    assert all(
        w.startswith("#Tag") and w[4:].rstrip("…").isdigit() for w in words if w.startswith("#T")
    )
    assert "\u200d…" not in post and not post.startswith("…")


def test_fit_cuts_at_word_boundary() -> None:
    """A cut ends on a whole word followed by an ellipsis."""
    post = xtext.fit("alpha beta gamma " * 30, URL)
    head = post.split(URL)[0].strip()
    assert head.endswith("…") and head[:-1].split()[-1] in {"alpha", "beta", "gamma"}


def test_short_text_untouched_and_nfc() -> None:
    """A short text is kept (NFC-normalised) with the URL and hashtags appended."""
    assert xtext.fit("Cafe\u0301 news", URL, ["Food"]) == f"Café news {URL} #Food"


def test_hashtags_dropped_whole_when_needed() -> None:
    """Too many hashtags are dropped from the end, never cut."""
    post = xtext.fit("", URL, [f"Hashtag{i:03d}" for i in range(40)])
    assert xtext.weighted_length(post) <= 280
    assert all(len(w) == len("#Hashtag000") for w in post.split() if w.startswith("#"))
