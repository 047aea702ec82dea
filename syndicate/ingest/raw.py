"""What every file parser hands back: raw article mappings, and the errors they raise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from syndicate.errors import IngestError


class RawArticle(dict[str, Any]):
    """A raw article mapping that remembers which line of its file it came from."""

    def __init__(self, data: Mapping[str, Any], line: int | None = None) -> None:
        super().__init__(data)
        self.line = line


class PartialIngestError(IngestError):
    """Some items of a file were malformed; ``items`` holds the good ones."""

    def __init__(self, problems: Mapping[str, str], items: Sequence[dict[str, Any]]) -> None:
        super().__init__(problems)
        self.items = list(items)


def decode_utf8(data: bytes) -> str:
    """Decode *data* as UTF-8 (a BOM is dropped) or raise IngestError naming the byte offset."""
    skip = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + skip
        raise IngestError(
            {"file": f"not valid UTF-8: bad byte 0x{data[offset]:02x} at byte offset {offset}"}
        ) from None
