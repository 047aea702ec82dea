"""JSON articles: ``.json`` holds one article object, ``.jsonl`` one object per line.

Keys are those of :func:`syndicate.ingest.normalise` (id, title, url, body or text,
summary, author, published, updated, categories, tags, image). In a ``.jsonl`` file each
bad line is reported by its number and the good lines are still taken in.
"""

from __future__ import annotations

import json
from typing import Any

from syndicate.errors import IngestError
from syndicate.ingest.raw import PartialIngestError, RawArticle, decode_utf8


def parse_json(data: bytes, name: str) -> list[dict[str, Any]]:
    """Parse a ``.json`` file holding one article object."""
    try:
        value = json.loads(decode_utf8(data))
    except json.JSONDecodeError as exc:
        raise IngestError({"file": _json_problem(exc)}) from None
    if not isinstance(value, dict):
        hint = " (put several articles in a .jsonl file)" if isinstance(value, list) else ""
        raise IngestError({"file": f"expected one JSON object, got {_kind(value)}{hint}"})
    return [RawArticle(value)]


def parse_jsonl(data: bytes, name: str) -> list[dict[str, Any]]:
    """Parse a ``.jsonl`` file; raise PartialIngestError (with the good items) for bad lines."""
    items: list[dict[str, Any]] = []
    problems: dict[str, str] = {}
    for number, line in enumerate(decode_utf8(data).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            problems[f"line {number}"] = _json_problem(exc, with_line=False)
            continue
        if isinstance(value, dict):
            items.append(RawArticle(value, line=number))
        else:
            problems[f"line {number}"] = f"expected a JSON object, got {_kind(value)}"
    if problems and items:
        raise PartialIngestError(problems, items)
    if problems:
        raise IngestError(problems)
    if not items:
        raise IngestError({"file": "empty: no JSON lines"})
    return items


def _json_problem(exc: json.JSONDecodeError, *, with_line: bool = True) -> str:
    where = f"line {exc.lineno} column {exc.colno}" if with_line else f"column {exc.colno}"
    return f"not valid JSON at {where}: {exc.msg}"


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )
