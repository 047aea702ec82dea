"""Markdown articles (``.md``) with YAML (``---``) or TOML (``+++``) front matter.

The front matter holds the article fields (title, id, url, published, updated, author,
categories, tags, summary, image); ``date``, ``lastmod`` and ``description`` are taken as
aliases of published, updated and summary. Without a title, a leading level-1 heading
becomes the title. The body is rendered with Python-Markdown (extensions ``extra`` and
``sane_lists``); sanitising happens later, in :func:`syndicate.ingest.normalise`.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import markdown as md
import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler

from syndicate.errors import IngestError
from syndicate.ingest.raw import RawArticle, decode_utf8

EXTENSIONS = ("extra", "sane_lists")
ALIASES = {"date": "published", "lastmod": "updated", "description": "summary"}
_LEADING_H1 = re.compile(r"\A#[ \t]+(.+?)[ \t#]*\n+")


def parse_markdown(data: bytes, name: str) -> list[dict[str, Any]]:
    """Parse a ``.md`` article into one raw article mapping."""
    text = decode_utf8(data).replace("\r\n", "\n")
    meta, body = split_front_matter(text)
    raw: dict[str, Any] = {}
    for key, value in meta.items():
        key = str(key).lower()
        raw.setdefault(ALIASES.get(key, key), value)
    body = body.lstrip("\n")
    if "title" not in raw and (match := _LEADING_H1.match(body + "\n")):
        raw["title"] = match.group(1)
        body = body[match.end() :]
    raw.pop("text", None)
    raw.pop("body", None)
    if body.strip():
        raw["body"] = md.markdown(body, extensions=list(EXTENSIONS), output_format="html")
    return [RawArticle(raw)]


class _YamlHandler(YAMLHandler):
    """``---`` YAML front matter; like YAML documents it may also close with ``...``."""

    FM_BOUNDARY = re.compile(r"^(?:-{3,}|\.{3})[ \t]*$", re.MULTILINE)

    def load(self, fm: str, **kwargs: object) -> Any:
        # The pure-Python loader: its error positions are the ones reported to the user.
        return yaml.safe_load(fm)


class _TomlHandler(BaseHandler):
    """``+++`` TOML front matter (Hugo's), read with the standard library's tomllib."""

    FM_BOUNDARY = re.compile(r"^\+{3,}[ \t]*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str) -> dict[str, Any]:
        return tomllib.loads(fm)


_HANDLERS: dict[str, tuple[Any, str]] = {
    "---": (_YamlHandler(), "YAML"),
    "+++": (_TomlHandler(), "TOML"),
}


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split ``---`` YAML or ``+++`` TOML front matter from the Markdown after it."""
    fence = text.split("\n", 1)[0].strip()
    if fence not in _HANDLERS:
        return {}, text
    handler, kind = _HANDLERS[fence]
    try:
        source, body = handler.split(text)
    except ValueError:
        raise IngestError(
            {"front matter": f"starts with {fence!r} but has no closing {fence!r}"}
        ) from None
    try:
        meta = handler.load(source.removesuffix("\n"))
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise IngestError({"front matter": f"not valid {kind}: {_yaml_reason(exc)}"}) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise IngestError(
            {"front matter": f"must be a mapping of keys to values, got {type(meta).__name__}"}
        )
    return meta, body.removeprefix("\n")


def _yaml_reason(exc: Exception) -> str:
    """A one-line reason; YAML positions are made relative to the file (the block starts
    with the newline after the opening fence, so its line N is the file's line N + 1)."""
    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, yaml.MarkedYAMLError) and mark is not None:
        return f"{exc.problem} at line {mark.line + 1} column {mark.column + 1}"
    return " ".join(str(exc).split())
