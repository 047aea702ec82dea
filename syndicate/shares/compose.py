"""Pure text pieces of a share: tracked URLs, hashtags, templates, and fitting to a limit."""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

from twitter_text import extract_urls

from syndicate.models import Term

VARIABLES = ("title", "summary", "url", "hashtags", "author", "site")
ELLIPSIS = "…"
# Parameters that only track a visit; never part of a canonical URL.
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid"})
# Characters that cling to the one before them, so a cut never separates them.
_CLINGING_CATEGORIES = ("Mn", "Mc", "Me", "Sk")
_CLINGING_CHARS = frozenset("\u200d\ufe0e\ufe0f") | {chr(c) for c in range(0x1F3FB, 0x1F400)}


# --- URLs -------------------------------------------------------------------------------


def add_query_params(url: str, params: Mapping[str, str]) -> str:
    """Set *params* on *url*'s query, keeping its other parameters byte for byte.

    A key already present is replaced (never duplicated); the fragment stays last.
    """
    params = {k: v for k, v in params.items() if v != ""}
    if not params:
        return url
    parts = urlsplit(url)
    kept = [seg for seg in parts.query.split("&") if seg and _key(seg) not in params]
    added = [f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items()]
    return urlunsplit(parts._replace(query="&".join([*kept, *added])))


def strip_tracking(url: str, extra: Iterable[str] = ()) -> str:
    """*url* without ``utm_*`` and click-id parameters (and any named in *extra*)."""
    parts = urlsplit(url)
    drop = TRACKING_PARAMS | set(extra)
    kept = [
        seg
        for seg in parts.query.split("&")
        if seg and not _key(seg).startswith("utm_") and _key(seg) not in drop
    ]
    return urlunsplit(parts._replace(query="&".join(kept)))


def _key(segment: str) -> str:
    return unquote_plus(segment.partition("=")[0])


# --- hashtags ---------------------------------------------------------------------------


def make_hashtag(text: str) -> str:
    """A valid hashtag (no ``#``) from *text*: ``"World news"`` -> ``"WorldNews"``.

    Letters (any script), combining marks, decimal digits and ``_`` are kept; words are
    joined with their first letter upper-cased. Digits alone are no hashtag: ``""``.
    """
    words = []
    word: list[str] = []
    for ch in unicodedata.normalize("NFC", text.strip().lstrip("#")):
        if ch == "_" or unicodedata.category(ch)[0] in "LM" or unicodedata.category(ch) == "Nd":
            word.append(ch)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    tag = "".join(w[:1].upper() + w[1:] if len(words) > 1 else w for w in words)
    return "" if tag.replace("_", "").isdecimal() or not tag.strip("_") else tag


def hashtags_for(terms: Iterable[Term], mapping: Mapping[str, str]) -> tuple[str, ...]:
    """Hashtags for *terms* through *mapping* (slug -> tag, ``""`` = none), deduplicated."""
    seen: set[str] = set()
    tags = []
    for term in terms:
        tag = mapping[term.slug] if term.slug in mapping else make_hashtag(term.label)
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tuple(tags)


def hashtag_text(tags: Iterable[str]) -> str:
    return " ".join(f"#{t}" for t in tags)


# --- templates --------------------------------------------------------------------------


def check_template(template: str) -> None:
    """Raise ValueError unless *template* uses only the known ``{variables}``, plainly."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"not a valid template: {exc}") from exc
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in VARIABLES:
            raise ValueError(f"unknown variable {{{name}}}; known: {', '.join(VARIABLES)}")
        if spec or conversion:
            raise ValueError(f"{{{name}}} takes no conversion or format spec")


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill *template*; tidy the spaces and blank lines empty values leave behind."""
    text = template.format_map({k: values.get(k, "") for k in VARIABLES})
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return unicodedata.normalize("NFC", "\n".join(tidy).strip())


# --- fitting ----------------------------------------------------------------------------


def shorten_to_fit(value: str, fits: Callable[[str], bool]) -> str | None:
    """The longest cut of *value* (whole words, then characters) with an ellipsis that fits.

    ``None`` when not even an empty value fits. Words stay whole, so a URL or hashtag
    inside *value* is kept entire or dropped, never cut through.
    """
    if fits(value):
        return value
    words = value.split()
    best = _largest(len(words) - 1, lambda k: fits(_cut_words(words, k)))
    if best > 0:
        return _cut_words(words, best)
    if words and not _is_protected(words[0]):
        # No space to cut at (CJK runs together): cut by characters, never mid-sequence.
        stops = _char_stops(words[0])
        best = _largest(len(stops), lambda k: fits(words[0][: stops[k - 1]] + ELLIPSIS))
        if best > 0:
            return words[0][: stops[best - 1]] + ELLIPSIS
    return "" if fits("") else None


def _cut_words(words: list[str], count: int) -> str:
    kept = " ".join(words[:count])
    return f"{kept} {ELLIPSIS}" if extract_urls(words[count - 1]) else kept + ELLIPSIS


def _is_protected(word: str) -> bool:
    return word.startswith("#") or bool(extract_urls(word))


def _char_stops(word: str) -> list[int]:
    """Offsets where *word* may be cut: not before a clinging mark, not after a ZWJ."""
    stops = []
    for i in range(1, len(word)):
        ch, before = word[i], word[i - 1]
        if unicodedata.category(ch) in _CLINGING_CATEGORIES or ch in _CLINGING_CHARS:
            continue
        if before == "\u200d" or _splits_flag(word, i):
            continue
        stops.append(i)
    return stops


def _splits_flag(word: str, i: int) -> bool:
    """True if offset *i* falls inside a regional-indicator pair (a flag)."""
    run = 0
    while i - run - 1 >= 0 and 0x1F1E6 <= ord(word[i - run - 1]) <= 0x1F1FF:
        run += 1
    return run % 2 == 1


def _largest(upper: int, ok: Callable[[int], bool]) -> int:
    """The largest k in 1..upper with ok(k) (ok is monotone: true then false), else 0."""
    lo, hi = 0, upper
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo
