"""From fetched feed bytes to a UTF-8 document feedparser can read safely.

Encodings, in this order (the first that decodes cleanly wins; each failure is noted):

1. the ``charset`` of the HTTP ``Content-Type``;
2. a byte order mark (UTF-8, UTF-16, UTF-32);
3. the ``encoding`` of the XML declaration (UTF-8 when a document declares nothing);
4. detection (charset-normalizer), taken only when it is confident and the document has
   no byte order mark (a BOM is certain of its encoding; bytes that break it are corrupt).

A candidate "decodes cleanly" when the bytes decode strictly, encode back to the same
bytes, are not UTF-8 read through a single-byte charset (the classic ``Ã©`` mojibake),
and, for a legacy charset, do not read as mojibake by charset-normalizer's mess measure
(Cyrillic bytes labelled ISO-8859-1 give ``Ïðèâåò``); a detected encoding must also
give no character XML forbids. When nothing decodes cleanly the feed is refused
with the reasons; a document never reaches feedparser in a guessed encoding that could
store mojibake.

Entities: the internal DTD subset is read here and its general entities expanded by us,
within limits (at most :data:`MAX_ENTITIES` declarations, :data:`MAX_ENTITY_DEPTH`
levels of nesting, :data:`MAX_EXPANSION` characters added in all). External entities
(``SYSTEM``/``PUBLIC``) and parameter entities refuse the feed: nothing is ever fetched
or read from disk. HTML named references a feed uses without declaring them
(``&eacute;``, ``&nbsp;``, common in RSS 0.9x) become numeric references. Control
characters XML forbids are removed (with a note). feedparser then sees a document
without an internal subset.
"""

from __future__ import annotations

import codecs
import html.entities
import re
from dataclasses import dataclass, field

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

from syndicate.errors import IngestError

MAX_ENTITIES = 64
MAX_ENTITY_DEPTH = 3
MAX_ENTITY_VALUE = 10_000
MAX_EXPANSION = 1_000_000
DETECTION_MAX_CHAOS = 0.2  # charset-normalizer's own default threshold
MESS_SAMPLE = 100_000

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)  # fmt: skip
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?\?>", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_TEXT_DECLARATION = re.compile(r"^\s*<\?xml[^>]*?\?>", re.IGNORECASE)
_DOCTYPE = re.compile(r"<!DOCTYPE\s+(?P<head>[^\[>]*?)\s*\[(?P<subset>.*?)\]\s*>", re.DOTALL)
_ENTITY_DECLARATION = re.compile(
    r"<!ENTITY\s+(?P<pe>%\s+)?(?P<name>[^\s%\"'>]+)\s+(?P<rest>(?:\"[^\"]*\"|'[^']*'|[^>\"'])*)>",
    re.DOTALL,
)
_ENTITY_VALUE = re.compile(r"""\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')\s*""", re.DOTALL)
_ENTITY_REFERENCE = re.compile(r"&(?P<name>[A-Za-z_][\w.-]*);")
_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_HIGH_BYTE_WORD = re.compile(rb"[^\s<>]*[\x80-\xff][^\s<>]*")
_NON_ASCII_WORD = re.compile(r"[^\s<>]*[^\x00-\x7f][^\s<>]*")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{2,}")
_VERBATIM = re.compile(r"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)", re.DOTALL)
XML_PREDEFINED = frozenset({"amp", "lt", "gt", "quot", "apos"})
_SINGLE_BYTE_SUSPECTS = frozenset(
    {"latin_1", "iso8859_1", "cp1252", "iso8859_15", "cp1250", "iso8859_2", "ascii"}
)


@dataclass(frozen=True, slots=True)
class Document:
    """A feed as UTF-8 bytes ready for feedparser, the encoding it came in and any notes."""

    data: bytes
    encoding: str
    notes: list[str] = field(default_factory=list)


def prepare(body: bytes, content_type: str | None = None) -> Document:
    """Decode *body* (see the module's order) and expand its internal entities safely."""
    text, encoding, notes = decode(body, content_type)
    text = _TEXT_DECLARATION.sub("", text.lstrip("\ufeff"), count=1)
    text, removed = _XML_FORBIDDEN.subn("", text)
    if removed:
        notes.append(f"removed {removed} control character(s) XML forbids")
    text, entity_notes = expand_entities(text)
    data = ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode("utf-8")
    return Document(data, encoding, notes + entity_notes)


def decode(body: bytes, content_type: str | None = None) -> tuple[str, str, list[str]]:
    """The document's text, the encoding used and notes on rejected candidates."""
    notes: list[str] = []
    for source, encoding in _candidates(body, content_type):
        codec = _codec(encoding)
        if codec is None:
            notes.append(f"{source} names an unknown encoding {encoding!r}")
            continue
        payload = body if codec in ("utf-16", "utf-32") else _without_bom(body)
        problem = _decode_problem(payload, codec)
        if problem is None:
            return payload.decode(codec), codec, notes
        notes.append(f"{source} says {encoding} but {problem}")
    has_bom = any(body.startswith(mark) for mark, _name in BOMS)
    detected = None if has_bom else _detect(body)
    if detected is not None:
        notes.append(f"decoded as {detected} (detected)")
        return body.decode(detected), detected, notes
    raise IngestError(
        {"encoding": "; ".join([*notes, "detection found no reliable encoding"])[:1000]}
    )


def _candidates(body: bytes, content_type: str | None) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    charset = _CHARSET.search(content_type or "")
    if charset:
        found.append(("the HTTP charset", charset.group(1)))
    bom = next((name for mark, name in BOMS if body.startswith(mark)), None)
    if bom:
        found.append(("the byte order mark", bom))
    head = _XML_DECLARATION.match(body if bom is None or bom == "utf-8" else b"")
    declared = _DECLARED_ENCODING.search(head.group(0)) if head else None
    if declared:
        found.append(("the XML declaration", declared.group(1).decode("ascii")))
    if bom is None and declared is None:
        found.append(("the XML default", "utf-8"))
    seen: set[str] = set()
    unique = []
    for source, name in found:
        key = _codec(name) or name.lower()
        if key not in seen:
            seen.add(key)
            unique.append((source, name))
    return unique


def _codec(name: str) -> str | None:
    # As browsers do: Latin-1 labels mean windows-1252, GB2312 means its superset.
    aliases = {"gb2312": "gb18030", "x-sjis": "shift_jis", "iso-8859-1": "cp1252",
               "latin1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252"}  # fmt: skip
    try:
        return codecs.lookup(aliases.get(name.lower(), name)).name
    except LookupError:
        return None


def _without_bom(body: bytes) -> bytes:
    for mark, _name in BOMS:
        if body.startswith(mark):
            return body[len(mark) :]
    return body


def _decode_problem(payload: bytes, codec: str, *, guessed: bool = False) -> str | None:
    """Why *payload* is not cleanly *codec* text, or None when it is."""
    try:
        text = payload.decode(codec)
    except UnicodeDecodeError as exc:
        return f"byte 0x{payload[exc.start]:02x} at offset {exc.start} is not {codec}"
    if codec not in ("utf-16", "utf-32") and text.encode(codec) != payload:
        return f"the text does not encode back to the same bytes in {codec}"
    if codec in _SINGLE_BYTE_SUSPECTS and _is_multibyte_utf8(payload):
        return "the bytes are UTF-8 (reading them as a single-byte charset makes mojibake)"
    if not codec.startswith("utf") and not text.isascii():
        # Judge only the words that hold non-ASCII letters: markup would dilute the measure.
        mess = mess_ratio(" ".join(_NON_ASCII_WORD.findall(text))[:MESS_SAMPLE])
        if mess > DETECTION_MAX_CHAOS:
            return f"the text reads as mojibake in {codec} (mess ratio {mess:.2f})"
    control = _XML_FORBIDDEN.search(text) if guessed else None
    if control:
        return f"it decodes to U+{ord(control.group(0)):04X}, which XML forbids"
    return None


def _is_multibyte_utf8(payload: bytes) -> bool:
    if payload.isascii():
        return False
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _detect(body: bytes) -> str | None:
    """charset-normalizer's guess, preferring windows-1252 when that fits as well (short
    Latin text fits several single-byte charsets; browsers read undeclared legacy text as
    windows-1252)."""
    # Markup is ASCII and says nothing about the charset: judge the words with high bytes.
    sample = b" ".join(_HIGH_BYTE_WORD.findall(body))[:MESS_SAMPLE] or body
    plausible = [m for m in from_bytes(sample) if m.chaos <= DETECTION_MAX_CHAOS]
    names = [m.encoding for m in plausible]
    if any("cp1252" in m.could_be_from_charset for m in plausible):
        names.insert(0, "cp1252")
    for name in names:
        codec = _codec(name)
        if codec is not None and _decode_problem(body, codec, guessed=True) is None:
            return codec
    return None


# -- entities --------------------------------------------------------------------------


def expand_entities(text: str) -> tuple[str, list[str]]:
    """Expand internal general entities and undeclared HTML references; refuse the unsafe."""
    notes: list[str] = []
    declared: dict[str, str] = {}
    doctype = _DOCTYPE.search(text)
    if doctype is not None:
        declared = _declarations(doctype.group("subset"))
        head = doctype.group("head").strip()
        text = text[: doctype.start()] + f"<!DOCTYPE {head}>" + text[doctype.end() :]
        if declared:
            notes.append(
                f"expanded {len(declared)} internal entit{'y' if len(declared) == 1 else 'ies'}"
            )
    expanded = {name: _expand(name, declared, 0) for name in declared}
    budget = [MAX_EXPANSION]
    pieces = _VERBATIM.split(text)
    for index in range(0, len(pieces), 2):
        pieces[index] = _ENTITY_REFERENCE.sub(
            lambda m: _replacement(m.group("name"), expanded, budget), pieces[index]
        )
    return "".join(pieces), notes


def _declarations(subset: str) -> dict[str, str]:
    declared: dict[str, str] = {}
    for match in _ENTITY_DECLARATION.finditer(subset):
        name, rest = match.group("name"), match.group("rest")
        if match.group("pe"):
            raise _refused(f"parameter entity %{name} is declared (refused: no DTD processing)")
        value = _ENTITY_VALUE.fullmatch(rest)
        if value is None:
            raise _refused(
                f"external entity {name!r} ({' '.join(rest.split())[:200]}) is declared "
                "(refused: no external entities)"
            )
        declared[name] = value.group("dq") if value.group("dq") is not None else value.group("sq")
        if len(declared[name]) > MAX_ENTITY_VALUE:
            raise _refused(f"entity {name!r} is longer than {MAX_ENTITY_VALUE} characters")
        if len(declared) > MAX_ENTITIES:
            raise _refused(f"more than {MAX_ENTITIES} entities are declared")
    return declared


def _expand(name: str, declared: dict[str, str], depth: int) -> str:
    if depth > MAX_ENTITY_DEPTH:
        raise _refused(f"entity {name!r} nests more than {MAX_ENTITY_DEPTH} levels deep")

    def inner(match: re.Match[str]) -> str:
        ref = match.group("name")
        if ref in declared:
            value = _expand(ref, declared, depth + 1)
            if len(value) > MAX_EXPANSION:
                raise _refused(f"entity {name!r} expands past {MAX_EXPANSION} characters")
            return value
        return _html_reference(ref) or match.group(0)

    return _ENTITY_REFERENCE.sub(inner, declared[name])


def _replacement(name: str, expanded: dict[str, str], budget: list[int]) -> str:
    if name in expanded:
        budget[0] -= len(expanded[name])
        if budget[0] < 0:
            raise _refused(f"entity expansion adds more than {MAX_EXPANSION} characters")
        return expanded[name]
    return _html_reference(name) or f"&{name};"


def _html_reference(name: str) -> str | None:
    """A numeric reference for an HTML named entity XML does not predefine."""
    if name in XML_PREDEFINED:
        return None
    chars = html.entities.html5.get(f"{name};")
    return "".join(f"&#{ord(c)};" for c in chars) if chars else None


def mis_decoded(text: str) -> str | None:
    """Why *text* looks mis-decoded upstream (replacement characters, UTF-8 read as
    windows-1252), or None."""
    if "\ufffd" in text:
        return "contains U+FFFD replacement characters (text was mis-decoded upstream)"
    for run in _NON_ASCII_RUN.findall(text):
        try:
            repaired = run.encode("cp1252").decode("utf-8")
        except UnicodeError:
            continue
        return f"is UTF-8 read as windows-1252 (mojibake: {run!r} stands for {repaired!r})"
    return None


def _refused(reason: str) -> IngestError:
    return IngestError({"entities": reason})
