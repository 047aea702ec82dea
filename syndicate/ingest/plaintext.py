"""Plain-text articles (``.txt``), like the seed article.

Layout:

- An optional header block of ``Key: value`` lines, ended by the first blank line. Keys
  (any case): Title, URL, ID, Published, Updated, Author, Categories, Tags, Summary, Image,
  and Image-Type, Image-Length, Image-Width, Image-Height for the image's details. The
  block is a header only if every one of its lines is such a key; otherwise it is body.
- Every non-empty line of the body is a paragraph. A line is a subheading (``<h2>``) when
  all of these hold: it is not the first paragraph; a longer paragraph follows it; it has
  at most 80 characters and 12 words; it does not end in ``. , ; : !`` or an ellipsis; it
  is not quoted speech; and it reads as a heading, being in Title Case or a question.
- A trailing publisher footer ("This article was published on … Thanks for reading!",
  "Share on Facebook «||» Share on Twitter …", also glued onto the last paragraph) is cut.
- Without a Title header the title is derived by :func:`syndicate.ingest.derive_title`:
  the first sentence of the first paragraph, cut to at most 110 characters at a word
  boundary with an ellipsis.

Text is HTML-escaped and otherwise left untouched (curly quotes, dashes, any Unicode).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from syndicate.ingest.raw import RawArticle, decode_utf8

HEADER_KEYS = frozenset({
    "title", "url", "id", "published", "updated", "author", "categories", "tags", "summary",
    "image", "image-type", "image-length", "image-width", "image-height",
})  # fmt: skip
HEADING_MAX_CHARS = 80
HEADING_MAX_WORDS = 12
TITLE_CASE_SHARE = 0.75

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_HEADER_LINE = re.compile(r"([A-Za-z][A-Za-z-]*)[ \t]*:[ \t]*(.*)")
_SEPARATOR = r"\s*(?:«\|\|»|\|\||[|·•])?\s*"
_PUBLISHED_ON = r"This article (?:was|is) (?:first |originally )?published (?:on|by|at)\b[^\n]{0,200}?Thanks for reading[!.]?"  # noqa: E501
_SHARE_ON = r"Share (?:on|via) [A-Z][\w.+]*"
_FOOTER = re.compile(rf"(?:{_SEPARATOR}(?:{_PUBLISHED_ON}|{_SHARE_ON}))+{_SEPARATOR}$")
_NOT_HEADING_END = tuple(".,;:!…")
_QUOTES = frozenset('“”„"«»')
_SMALL_WORDS = frozenset(
    "a an and as at but by for from in into nor of off on onto or over per so than the to up "
    "via vs with yet".split()
)


def parse_text(data: bytes, name: str) -> list[dict[str, Any]]:
    """Parse a ``.txt`` article into one raw article mapping."""
    lines = _LINE_BREAK.split(decode_utf8(data))
    while lines and not lines[0].strip():
        lines.pop(0)
    raw, body_lines = _split_header(lines)
    paragraphs = strip_footer([line.strip() for line in body_lines if line.strip()])
    if paragraphs:
        raw["body"] = render_paragraphs(paragraphs)
    return [RawArticle(raw)]


def _split_header(lines: list[str]) -> tuple[dict[str, Any], list[str]]:
    end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    fields: dict[str, str] = {}
    for line in lines[:end]:
        match = _HEADER_LINE.fullmatch(line.strip())
        if not match or match.group(1).lower() not in HEADER_KEYS:
            return {}, lines
        fields[match.group(1).lower()] = match.group(2).strip()
    if not fields:
        return {}, lines
    raw: dict[str, Any] = {k: v for k, v in fields.items() if not k.startswith("image")}
    image = {k.removeprefix("image-"): v for k, v in fields.items() if k.startswith("image-")}
    if "image" in fields:
        raw["image"] = {"url": fields["image"], **image} if image else fields["image"]
    elif image:
        raw["image"] = image
    return raw, lines[end:]


def strip_footer(paragraphs: Sequence[str]) -> list[str]:
    """Drop a trailing publisher footer, whole paragraphs or glued onto the last one."""
    kept = list(paragraphs)
    while kept:
        match = _FOOTER.search(kept[-1])
        if match is None:
            break
        rest = kept[-1][: match.start()].rstrip()
        if rest:
            kept[-1] = rest
            break
        kept.pop()
    return kept


def render_paragraphs(paragraphs: Sequence[str]) -> str:
    """HTML for the paragraphs: ``<h2>`` for subheadings, ``<p>`` for the rest."""
    parts = []
    for index, text in enumerate(paragraphs):
        tag = "h2" if is_heading(paragraphs, index) else "p"
        parts.append(f"<{tag}>{html.escape(text, quote=False)}</{tag}>")
    return "\n".join(parts)


def is_heading(paragraphs: Sequence[str], index: int) -> bool:
    """Whether paragraph *index* stands alone as a subheading over the ones after it."""
    if index == 0 or index + 1 >= len(paragraphs):
        return False
    line = paragraphs[index]
    words = line.split()
    if len(line) > HEADING_MAX_CHARS or len(words) > HEADING_MAX_WORDS:
        return False
    if line.endswith(_NOT_HEADING_END) or _QUOTES.intersection(line):
        return False
    if len(paragraphs[index + 1]) <= len(line):
        return False
    return line.endswith("?") or _title_case(words)


def _title_case(words: Sequence[str]) -> bool:
    """Most significant words start with a capital (or a digit), the first one always."""

    def capitalised(word: str) -> bool:
        first = next((c for c in word if c.isalnum()), "")
        return first.isupper() or first.isdigit()

    if not capitalised(words[0]):
        return False
    significant = [w for w in words[1:] if w.lower().strip("’'.,") not in _SMALL_WORDS]
    if not significant:
        return True
    return sum(map(capitalised, significant)) / len(significant) >= TITLE_CASE_SHARE
