"""Small pure text helpers shared by ingest, render and share code."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import regex

# XML 1.0 Char production, minus the discouraged non-characters U+FFFE/U+FFFF.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SLUG_DROP = re.compile(r"[^\w\s-]", re.UNICODE)
_SLUG_JOIN = re.compile(r"[\s_-]+")
# One user-perceived character (UAX #29 extended grapheme cluster): a letter with its
# combining marks, an Indic conjunct, a ZWJ emoji sequence, a flag pair, a keycap.
_GRAPHEME = regex.compile(r"\X")
TRIM = " ,;:-–—"
# A URL written in running text: up to white space, minus the sentence's own trailing
# punctuation (a closing bracket stays when the URL opened one).
_URL_IN_TEXT = re.compile(r"(?i)\bhttps?://[^\s<>\"«»“”]+")
_SENTENCE_END = ".,;:!?'’)]…"


_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """*text* with control characters (newlines included) written as escapes, for logs:
    a value from input can then never start a forged log line."""
    return _CONTROLS.sub(lambda m: repr(m.group())[1:-1], text)


def clean_xml_text(text: str) -> str:
    """Return *text* in NFC with every character XML 1.0 forbids removed.

    Lone surrogates, C0 controls other than tab/newline/CR, U+FFFE and U+FFFF go.
    """
    return unicodedata.normalize("NFC", _XML_ILLEGAL.sub("", text))


def slugify(text: str) -> str:
    """Make a lowercase ASCII slug: ``"World News"`` -> ``"world-news"``.

    Letters without an ASCII form are kept (``"日本"`` stays ``"日本"``) so no label
    collapses to an empty slug.
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    if not folded.strip():
        folded = unicodedata.normalize("NFC", text)
    slug = _SLUG_JOIN.sub("-", _SLUG_DROP.sub("", folded).strip().lower())
    return slug.strip("-")


def graphemes(text: str) -> list[str]:
    """*text* split into user-perceived characters (extended grapheme clusters)."""
    return list(_GRAPHEME.findall(text))


def grapheme_count(text: str) -> int:
    """How many user-perceived characters *text* has (Bluesky counts its limit so)."""
    return len(_GRAPHEME.findall(text))


def grapheme_stops(text: str) -> list[int]:
    """Every offset in *text* where a cut keeps whole graphemes, from the first to ``len``."""
    stops = [m.end() for m in _GRAPHEME.finditer(text)]
    return stops


def cut_graphemes(text: str, fits: Callable[[str], bool]) -> str:
    """The longest prefix of *text* made of whole graphemes for which *fits* holds.

    *fits* must be monotone (true for every shorter prefix of a fitting one).
    """
    stops = [0, *grapheme_stops(text)]
    lo, hi = 0, len(stops) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(text[: stops[mid]]):
            lo = mid
        else:
            hi = mid - 1
    return text[: stops[lo]]


def shorten(text: str, limit: int, ellipsis: str = "…", measure: Callable[[str], int] = len) -> str:
    """Cut *text* to at most *limit* (by *measure*) at a word boundary, adding *ellipsis*.

    Never cuts inside a grapheme: a ZWJ emoji, a flag, a letter and its combining
    accent or an Indic conjunct stays whole. Text without spaces (CJK) is cut between
    graphemes.
    """
    text = " ".join(text.split())
    if measure(text) <= limit:
        return text
    cut = cut_graphemes(text, lambda t: measure(t + ellipsis) <= limit)
    space = cut.rfind(" ")
    if space > len(cut) // 2 and not text[len(cut) : len(cut) + 1].isspace():
        cut = cut[:space]
    kept = cut.rstrip(TRIM)
    return kept + ellipsis if kept else cut_graphemes(ellipsis, lambda t: measure(t) <= limit)


def url_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each ``http(s)://`` URL written in *text*, sentence punctuation out."""
    spans = []
    for match in _URL_IN_TEXT.finditer(text):
        raw = match.group(0)
        core = raw.rstrip(_SENTENCE_END)
        if raw[len(core) :].startswith(")") and core.count("(") > core.count(")"):
            core += ")"
        spans.append((match.start(), match.start() + len(core)))
    return spans
