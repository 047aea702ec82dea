"""Small pure text helpers shared by ingest, render and share code."""

from __future__ import annotations

import re
import unicodedata

# XML 1.0 Char production, minus the discouraged non-characters U+FFFE/U+FFFF.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SLUG_DROP = re.compile(r"[^\w\s-]", re.UNICODE)
_SLUG_JOIN = re.compile(r"[\s_-]+")


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


def shorten(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut *text* to at most *limit* characters at a word boundary, adding *ellipsis*."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ellipsis) + 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    else:
        cut = cut[: limit - len(ellipsis)]
    return cut.rstrip(" ,;:-–—") + ellipsis
