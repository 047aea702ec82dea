"""X (Twitter) text: the twitter-text v3 weighted length, and fitting a post into it.

Counting is delegated to ``twitter-text-parser`` (it passes the official conformance
cases, vendored in ``tests/adapters/data/``): URLs count 23, emoji sequences and most
code points outside Latin/Greek/Cyrillic/… count 2, after NFC normalisation (docs/social.md §2).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence

from twitter_text import extract_urls_with_indices, parse_tweet
from twitter_text.config import config as _CONFIGS
from twitter_text.has_invalid_characters import has_invalid_characters

from syndicate.content.text import grapheme_stops

LIMIT = 280
# Characters of text looked at when cutting: more than ever fits (each character counts
# at least 1, a URL 23), so counting stays bounded whatever the title's size.
MAX_HEAD = 2 * LIMIT
MAX_TEXT = 4 * LIMIT
ELLIPSIS = "…"
_TRIM = " ,;:-–—"
_V3 = _CONFIGS["version3"]


def weighted_length(text: str) -> int:
    """The weighted length X counts for *text* (twitter-text v3)."""
    return int(parse_tweet(text, _V3).weightedLength)


def is_valid(text: str, limit: int = LIMIT) -> bool:
    """Whether X accepts *text*: 0 < weighted length ≤ *limit*, no invalid characters."""
    return 0 < weighted_length(text) <= limit and not has_invalid_characters(_nfc(text))


def fit(
    text_before_url: str, url: str = "", hashtags: Sequence[str] = (), limit: int = LIMIT
) -> str:
    """Compose ``text url #tag …`` within *limit*, cutting only the text before the URL.

    The text is cut at a word boundary with an ellipsis; the URL is never cut, and
    hashtags are dropped whole from the end only if the text alone cannot make room.
    """
    tags = [f"#{t.lstrip('#')}" for t in hashtags if t.lstrip("#")]
    tail = " ".join(part for part in (url, *tags) if part)
    head = " ".join(_nfc(_clip(text_before_url, MAX_TEXT)).split())
    if not url:
        return fit_text(_join(head, tail), limit)
    return _fit_parts(head, tail, limit)


def fit_text(text: str, limit: int = LIMIT) -> str:
    """Make an already-composed post fit *limit*, keeping URLs and hashtags whole.

    The part before the first URL (or before trailing hashtags) is shortened first;
    then trailing hashtags are dropped; a URL is never cut.
    """
    text = _nfc(text).strip()
    if len(text) > MAX_TEXT:  # keep the start (what is kept) and the end (URL, hashtags)
        end = text[-MAX_TEXT // 2 :]
        text = _clip(text, MAX_TEXT // 2) + ELLIPSIS + " " + end[end.find(" ") + 1 :]
    if weighted_length(text) <= limit:
        return text
    head, tail = _split_head(text)
    return _fit_parts(head, tail, limit)


def _clip(text: str, size: int) -> str:
    """At most *size* characters of *text*, cut at a space when there is one."""
    if len(text) <= size:
        return text
    cut = text[:size]
    return cut[: cut.rfind(" ")] if " " in cut else cut


def _fit_parts(head: str, tail: str, limit: int) -> str:
    """Shorten *head* word by word, then drop trailing hashtags of *tail*, to fit *limit*."""
    if len(head) <= MAX_HEAD and weighted_length(_join(head, tail)) <= limit:
        return _join(head, tail)
    head = _shorten_head(head, tail, limit)
    while weighted_length(_join(head, tail)) > limit and _drop_last_hashtag(tail) != tail:
        tail = _drop_last_hashtag(tail)
    return _join(head, tail)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _join(head: str, tail: str) -> str:
    return " ".join(part for part in (head.strip(), tail.strip()) if part)


def _split_head(text: str) -> tuple[str, str]:
    """Split into (cuttable head, protected tail starting at the first URL or hashtag run)."""
    urls = extract_urls_with_indices(text)
    if urls:
        start = min(u["indices"][0] for u in urls)
        return text[:start], text[start:]
    words = text.split(" ")
    cut = len(words)
    while cut > 0 and words[cut - 1].startswith("#"):
        cut -= 1
    return " ".join(words[:cut]), " ".join(words[cut:])


def _shorten_head(head: str, tail: str, limit: int) -> str:
    """Keep the most whole words of *head* (or characters of a lone word) that fit.

    The length grows with every word kept, so the longest fitting prefix is found by
    bisection: O(log n) length counts of at most ``MAX_HEAD`` characters, never one
    count per word dropped (a 900 KB title once took 22 s of CPU that way).
    """
    words = head[:MAX_HEAD].split()
    if len(head) > MAX_HEAD and len(words) > 1:
        words = words[:-1]  # the cut may have split the last word

    def candidate(count: int) -> str:
        text = " ".join(words[:count])
        if count < len(words) or len(head) > MAX_HEAD:
            if not words[count - 1].startswith("#"):
                text = text.rstrip(_TRIM) + ELLIPSIS
        return text

    def fits(count: int) -> bool:
        return weighted_length(_join(candidate(count), tail)) <= limit

    best = _last_true(fits, len(words))
    if best:
        return candidate(best)
    if words and not words[0].startswith("#"):
        return _shorten_word(words[0], tail, limit)
    return ""


def _shorten_word(word: str, tail: str, limit: int) -> str:
    """Cut a single long word (CJK text has no spaces) by characters, never mid-sequence."""
    word = word[:MAX_HEAD]
    stops = grapheme_stops(word)[:-1]  # where a cut may fall: never inside a grapheme

    def candidate(count: int) -> str:
        kept = word[: stops[count - 1]].rstrip(_TRIM)
        return kept + ELLIPSIS if kept else ""

    def fits(count: int) -> bool:
        text = candidate(count)
        return bool(text) and weighted_length(_join(text, tail)) <= limit

    best = _last_true(fits, len(stops))
    return candidate(best) if best else ""


def _last_true(fits: Callable[[int], bool], high: int) -> int:
    """The largest n in 1..*high* with fits(n), for a *fits* true up to a point; else 0."""
    low, found = 1, 0
    while low <= high:
        middle = (low + high) // 2
        if fits(middle):
            found, low = middle, middle + 1
        else:
            high = middle - 1
    return found


def _drop_last_hashtag(tail: str) -> str:
    words = tail.split(" ")
    if len(words) > 1 and words[-1].startswith("#"):
        return " ".join(words[:-1])
    return tail
