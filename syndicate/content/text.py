"""Small pure text helpers shared by ingest, render and share code."""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Callable

import regex

# XML 1.0 Char production, minus the Unicode noncharacters (U+FDD0..U+FDEF and the last
# two code points of every plane), which the validator reports as bad characters.
_XML_ILLEGAL = re.compile(
    "[^\t\n\r\x20-\ud7ff\ue000-\ufdcf\ufdf0-\ufffd"
    + "".join(f"{chr(plane << 16)}-{chr((plane << 16) | 0xFFFD)}" for plane in range(1, 17))
    + "]"
)
# A numeric character reference, decimal or hex (the ";" is optional in HTML).
_CHAR_REFERENCE = re.compile(r"&#(?:[xX]([0-9A-Fa-f]{1,8})|([0-9]{1,10}));?")
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


def drop_bad_references(text: str) -> str:
    """Remove character references to code points XML forbids (``&#0;``, ``&#xD800;``,
    ``&#xFFFE;``): an HTML parser would turn them into U+FFFD, a bad character in feeds."""

    def keep(match: re.Match[str]) -> str:
        hex_digits, digits = match.groups()
        code = int(hex_digits, 16) if hex_digits else int(digits)
        if code > 0x10FFFF or _XML_ILLEGAL.match(chr(code) if code else "\x00"):
            return ""
        return match.group()

    return _CHAR_REFERENCE.sub(keep, text) if "&#" in text else text


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


# Feed names (docs/feeds.md §6). Frozen: a published feed name must never change, so
# changing any of this needs a migration that keeps the old names as aliases.
FEED_SLUG_BYTES = 80  # UTF-8 bytes: with ".atom.gz" and a temp suffix, far below 255
_SLUG_HASH_CHARS = 10  # base32: 50 bits
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)


def section_key(label: str) -> str:
    """What makes two labels one section: equal after NFKC, case folding and spacing."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", label).casefold())
    return " ".join(folded.split())


def feed_slug(label: str) -> str:
    r"""The feed name segment of a section label: stable, non-empty, URL- and file-safe.

    Letters, marks and digits of every script are kept (``"Наука"`` -> ``"наука"``,
    ``"हिन्दी"`` stays whole: marks are not dropped as python-slugify's ``\W`` would).
    A label made only of words and single spaces becomes those words joined by ``-``.
    Anything else (punctuation, symbols, hyphens, a name too long, a reserved device
    name) gets a readable part, ``--`` and a hash of its :func:`section_key`: plain
    names never hold ``--``, so no two distinct keys share a name.
    """
    key = section_key(label)
    plain = key.replace(" ", "-")
    if (
        key
        and all(_slug_char(c) for c in key.replace(" ", ""))
        and not _is_mark(key[0])
        and len(plain.encode()) <= FEED_SLUG_BYTES
        and plain not in _WINDOWS_RESERVED
    ):
        return plain
    digest = hashlib.sha256(key.encode()).digest()
    tag = base64.b32encode(digest).decode().lower()[:_SLUG_HASH_CHARS]
    readable = _readable(key) or _symbol_names(key) or "x"
    budget = FEED_SLUG_BYTES - len(tag) - 2
    while len(readable.encode()) > budget or (readable and _is_mark(readable[0])):
        readable = readable[:-1] if len(readable.encode()) > budget else readable[1:]
    return f"{readable.strip('-') or 'x'}--{tag}"


def is_feed_slug(slug: str) -> bool:
    """True for a name :func:`feed_slug` can give (and old ASCII slugs)."""
    return (
        bool(slug)
        and not _is_mark(slug[0])
        and slug[0] != "-"
        and all(c == "-" or _slug_char(c) for c in slug)
        and len(slug.encode()) <= FEED_SLUG_BYTES + 120
    )


def _slug_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LMN"


def _is_mark(char: str) -> bool:
    return unicodedata.category(char)[0] == "M"


def _readable(key: str) -> str:
    runs = re.split("-+", "".join(c if _slug_char(c) else "-" for c in key))
    return "-".join(run for run in runs if run)


def _symbol_names(key: str) -> str:
    """Names of the symbols in an all-symbol label: ``"🔥"`` -> ``"fire"``."""
    names = (unicodedata.name(c, "") for c in key if unicodedata.category(c)[0] == "S")
    return _readable(" ".join(names).casefold())


# RFC 3986 characters; anything else in a URL is percent-encoded by to_uri.
_URI_CHARS = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def to_uri(url: str) -> str:
    """An ASCII URI for *url* (an IRI, RFC 3987 §3.1): non-ASCII and spaces percent-encoded
    as UTF-8, an international host name in punycode, a stray ``%`` as ``%25``; escapes
    already there are left alone, so converting twice changes nothing."""
    if not _URI_CHARS.search(url) and not _BAD_PERCENT.search(url):
        return url
    from werkzeug.urls import iri_to_uri

    try:
        converted = iri_to_uri(_BAD_PERCENT.sub("%25", url))
    except (UnicodeError, ValueError):  # a host IDNA refuses: escape it like the rest
        converted = _BAD_PERCENT.sub("%25", url)
    return _URI_CHARS.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), converted)


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
