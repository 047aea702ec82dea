"""Pure text pieces of a share: tracked URLs, hashtags, templates, and fitting to a limit."""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

import idna
import regex
from twitter_text import extract_urls

from syndicate.content.text import grapheme_stops, url_spans
from syndicate.models import Term

VARIABLES = ("title", "summary", "url", "hashtags", "author", "site")
ELLIPSIS = "…"
# Parameters that only track a visit; never part of a canonical URL.
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid"})


# Characters a URL component may carry as they are (RFC 3986); everything else,
# non-ASCII included, is percent-encoded as UTF-8. "%" stays when it starts an escape.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_TAG_IN_TEXT = regex.compile(r"[#＃]([\p{L}\p{M}\p{Nd}][\p{L}\p{M}\p{Nd}_\u200c\u200d]*)")


# --- URLs -------------------------------------------------------------------------------


def ascii_uri(url: str) -> str:
    """*url* as an ASCII URI: IDNA host, UTF-8 percent-encoded path, query and fragment.

    Escapes already present are kept byte for byte, so the function is idempotent.
    """
    parts = urlsplit(url.strip())
    netloc = parts.netloc
    host = parts.hostname or ""
    if host and not host.isascii():
        try:
            ascii_host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            ascii_host = quote(host, safe="")
        netloc = netloc.replace(host, ascii_host) if host in netloc else ascii_host
    return urlunsplit(
        parts._replace(
            netloc=netloc,
            path=_encode(parts.path, _PATH_SAFE),
            query=_encode(parts.query, _QUERY_SAFE),
            fragment=_encode(parts.fragment, _QUERY_SAFE),
        )
    )


def _encode(component: str, safe: str) -> str:
    return quote(_LONE_PERCENT.sub("%25", component), safe=safe + "%")


def linkable_url(url: str) -> str:
    """*url* as an ASCII URI that a post's link finder takes whole, ending included.

    X's parser (twitter-text; Mastodon and Bluesky clients behave alike) ends a link
    before trailing punctuation (``.``, ``!``, ``'``, ``:``…) and before an unbalanced
    bracket; each such character is percent-encoded, which names the same resource.
    A URL the parser does not see as a link at all (no public suffix) is left as is.
    """
    link = ascii_uri(url)
    for _ in range(len(link)):
        found = extract_urls(f" {link} ")
        if not found or found == [link] or not link.startswith(found[0]):
            return link
        stop = len(found[0])
        char = link[stop]
        if char == "%":
            return link
        query = urlsplit(link).query
        if char == "+" and query and stop == len(link) - 1:
            link = link[:stop] + "%20"  # a form-encoded space
        else:
            link = link[:stop] + f"%{ord(char):02X}" + link[stop + 1 :]
    return link


def linkable_text(text: str) -> str:
    """*text* with every ``http(s)://`` URL in it made :func:`linkable_url`."""

    pieces, done = [], 0
    for start, end in url_spans(text):
        pieces += [text[done:start], linkable_url(text[start:end])]
        done = end
    return "".join([*pieces, text[done:]])


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


# Labels whose symbols carry the meaning: spelled out rather than cut to "#C" or "#NET".
KNOWN_HASHTAGS = {
    "c++": "CPlusPlus",
    "c#": "CSharp",
    "f#": "FSharp",
    ".net": "DotNet",
    "asp.net": "AspNet",
    "at&t": "ATandT",
    "s&p 500": "SP500",
    "r&d": "RandD",
    "q&a": "QandA",
    "m&a": "MergersAndAcquisitions",
}
# Symbols that change a word's meaning when written against it ("C++", "AT&T", "$5"):
# dropping them silently makes another word, so such a label gets no hashtag.
_MEANINGFUL = frozenset("+#&@$%*=<>^|~§°")
# Written inside a word, these join without a break: "U.S." -> "US", "Rock'n'roll".
_JOINERS = frozenset(".'’·")


@dataclass(frozen=True)
class Hashtag:
    """What a term becomes: its hashtag (no ``#``), or ``""`` and the reason why not."""

    label: str
    tag: str
    reason: str = ""


def make_hashtag(text: str) -> str:
    """A valid hashtag (no ``#``) from *text*: ``"World news"`` -> ``"WorldNews"``, or ``""``.

    See :func:`hashtag_for` for the rules and the reason a label gives none.
    """
    return hashtag_for(text).tag


def hashtag_for(label: str) -> Hashtag:
    """The hashtag for *label*, or why it has none.

    Letters (any script), combining marks, decimal digits and the joiners ZWNJ/ZWJ are
    kept; words (split at spaces, ``-``, ``_``, ``/``) are joined with their first letter
    upper-cased. Dots and apostrophes inside a word vanish ("U.S." -> "US"). Labels
    whose symbols carry meaning are spelled out when known ("C++" -> "CPlusPlus", "C#"
    -> "CSharp") and otherwise skipped ("AT&T" is not "#ATT"). Digits alone are none.
    """
    text = unicodedata.normalize("NFC", label.strip().lstrip("#＃"))
    known = KNOWN_HASHTAGS.get(text.casefold())
    if known:
        return Hashtag(label, known)
    words: list[str] = []
    word: list[str] = []
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        if category[0] in "LM" or category == "Nd" or (ch in "\u200c\u200d" and word):
            word.append(ch)
            continue
        attached = bool(word) or (i + 1 < len(text) and not text[i + 1].isspace())
        if ch in _MEANINGFUL and attached:
            return Hashtag(label, "", f"{ch!r} cannot be part of a hashtag")
        if ch in _JOINERS and word and i + 1 < len(text) and not text[i + 1].isspace():
            continue
        if ch in _JOINERS and len(word) == 1:
            continue  # the last dot of an abbreviation: "U.S."
        if word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    tag = "".join(w[:1].upper() + w[1:] if len(words) > 1 else w for w in words)
    tag = tag.strip("\u200c\u200d")
    if not tag:
        return Hashtag(label, "", "no letters or digits to make a hashtag of")
    if tag.isdecimal():
        return Hashtag(label, "", "a hashtag cannot be digits only")
    return Hashtag(label, tag)


def hashtags_for(terms: Iterable[Term], mapping: Mapping[str, str]) -> tuple[str, ...]:
    """Hashtags for *terms* through *mapping* (slug -> tag, ``""`` = none), deduplicated."""
    return tuple(h.tag for h in hashtag_choices(terms, mapping) if h.tag)


def hashtag_choices(terms: Iterable[Term], mapping: Mapping[str, str]) -> list[Hashtag]:
    """For each term, its hashtag or the reason it has none (mapped away, invalid, repeat)."""
    seen: set[str] = set()
    choices = []
    for term in terms:
        if term.slug in mapping:
            tag = mapping[term.slug]
            choice = Hashtag(term.label, tag, "" if tag else "mapped to no hashtag")
        else:
            choice = hashtag_for(term.label)
        if choice.tag and choice.tag.casefold() in seen:
            choice = Hashtag(term.label, "", f"#{choice.tag} is already given by another term")
        elif choice.tag:
            seen.add(choice.tag.casefold())
        choices.append(choice)
    return choices


def tags_in(text: str) -> set[str]:
    """The hashtags already written in *text*, case-folded, without ``#``."""
    return {m.casefold() for m in _TAG_IN_TEXT.findall(text)}


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
        stops = grapheme_stops(words[0])[:-1]
        best = _largest(len(stops), lambda k: fits(words[0][: stops[k - 1]] + ELLIPSIS))
        if best > 0:
            return words[0][: stops[best - 1]] + ELLIPSIS
    return "" if fits("") else None


def _cut_words(words: list[str], count: int) -> str:
    kept = " ".join(words[:count])
    return f"{kept} {ELLIPSIS}" if extract_urls(words[count - 1]) else kept + ELLIPSIS


def _is_protected(word: str) -> bool:
    return word.startswith("#") or bool(extract_urls(word))


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
