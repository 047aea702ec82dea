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

from syndicate.errors import IngestError
from syndicate.ingest import RawArticle, decode_utf8

EXTENSIONS = ("extra", "sane_lists")
ALIASES = {"date": "published", "lastmod": "updated", "description": "summary"}
_FENCES = {"---": "YAML", "+++": "TOML"}
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


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split ``---`` YAML or ``+++`` TOML front matter from the Markdown after it."""
    lines = text.split("\n")
    fence = lines[0].strip() if lines else ""
    if fence not in _FENCES:
        return {}, text
    kind = _FENCES[fence]
    closers = {fence, "..."} if kind == "YAML" else {fence}
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in closers), None)
    if end is None:
        raise IngestError({"front matter": f"starts with {fence!r} but has no closing {fence!r}"})
    source = "\n".join(lines[1:end])
    try:
        meta = yaml.safe_load(source) if kind == "YAML" else tomllib.loads(source)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise IngestError({"front matter": f"not valid {kind}: {_yaml_reason(exc)}"}) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise IngestError(
            {"front matter": f"must be a mapping of keys to values, got {type(meta).__name__}"}
        )
    return meta, "\n".join(lines[end + 1 :])


def _yaml_reason(exc: Exception) -> str:
    """A one-line reason; YAML positions are made relative to the file, not the block."""
    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, yaml.MarkedYAMLError) and mark is not None:
        return f"{exc.problem} at line {mark.line + 2} column {mark.column + 1}"
    return " ".join(str(exc).split())
