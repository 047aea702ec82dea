"""The rules that turn one raw article mapping into a clean :class:`Article`.

- **Title**: without a title, the title is the first sentence of the first paragraph of
  the body text, with a closing full stop dropped, cut to at most 110 characters at a
  word boundary with an ellipsis ("…").
- **Id**: the given id, else the caller's default (a file's slugified stem), else the slug
  of the title (plus a short hash of the URL when one is given).
- **URL**: the given absolute http(s) URL, else ``<public_url>/articles/<id>``; relative
  links and images in the body resolve against it.
- **Dates**: ISO 8601 / RFC 3339, RFC 822 or date-only; naive dates take the configured
  timezone; a date in the future becomes now; a missing ``published`` is now;
  ``updated`` defaults to ``published`` and is never before it.
- **Summary**: given (HTML reduced to text) or the body text cut to about 280 characters.
- **Limits** (settings, so every source refuses the same inputs with the same reason):
  ``max_title_chars``, ``max_body_bytes`` (body and summary), ``max_terms`` categories
  and ``max_terms`` tags, ``max_label_chars`` per label, authors of at most 200
  characters, ``max_image_pixels`` and ``max_image_bytes``, dates from ``earliest_year``.
  Slugs made from labels and authors fit their 200-character columns, image types 100.
- Any error while reading one field names that field; it never escapes as a crash.
"""

from __future__ import annotations

import hashlib
import html
import logging
import mimetypes
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, tzinfo
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

import dateutil.parser

from syndicate.config import Settings
from syndicate.content.sanitize import html_paragraphs, html_to_text, looks_like_html, sanitize_html
from syndicate.content.text import (
    clean_xml_text,
    drop_bad_references,
    feed_slug,
    shorten,
    slugify,
    to_uri,
)
from syndicate.errors import IngestError
from syndicate.models import Article, Image, Term

T = TypeVar("T")
log = logging.getLogger(__name__)

# The article fields. Every ingest path (push API, .json/.jsonl, Markdown front matter)
# refuses any other key, naming it, rather than ignoring it (docs/feeds.md §7).
FIELDS = frozenset(
    "id title url body text summary author author_email published updated categories tags "
    "image".split()
)

ID_PATTERN = re.compile(r"[A-Za-z0-9._~-]{1,100}")
TITLE_LIMIT = 110
SUMMARY_LIMIT = 280
AUTHOR_LIMIT = 200
URL_LIMIT = 2000
EMAIL_LIMIT = 320
EMAIL_PATTERN = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+")
SLUG_LIMIT = 200  # article_term.slug and article.author_slug
IMAGE_TYPE_LIMIT = 100  # article.image_type
# A sentence ends at . ! ? (maybe followed by a closing quote) before a capital or digit,
# unless the word before the stop is a common abbreviation or an initial.
_SENTENCE_END = re.compile(r"(?<=[.!?])[”’\"')\]]?\s+(?=[“‘\"'(\[]?[A-Z0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Sr|Jr|Gen|Gov|Sen|Rep|No|vs|etc)|\b[A-Z])\.$"
)


def normalise(
    raw: Mapping[str, Any],
    settings: Settings,
    *,
    source: str,
    now: datetime,
    default_id: str | None = None,
) -> Article:
    """Validate and clean one raw article; raise IngestError naming every bad field."""
    field = _Fields()
    problems = field.problems
    problems.update(_unknown_fields(raw))
    given_url = field("url", lambda: _parse_url(raw.get("url")), None)
    base = given_url or settings.public_url + "/"
    limits = settings
    summary = field("summary", lambda: _parse_summary(raw.get("summary"), limits), "")
    body = field("body", lambda: _parse_body(raw, base, limits), "")
    if not body and summary:
        body = f"<p>{html.escape(summary, quote=False)}</p>"
    paragraphs = html_paragraphs(body) if body else []
    title = field("title", lambda: _parse_title(raw.get("title"), paragraphs, limits), "")
    _require_text(title, paragraphs, problems)
    article_id = field("id", lambda: _parse_id(raw.get("id"), default_id, title, given_url), "")
    if given_url is None and article_id:
        # Relative links resolve against the article's own URL, here the one made up below.
        base = _own_url(settings, article_id)
        if _has_body(raw) and "body" not in problems:
            body = field("body", lambda: _parse_body(raw, base, limits), body)
    tz = settings.tz
    earliest = settings.earliest_year
    published = field("published", lambda: _parse_date(raw.get("published"), tz, earliest), None)
    updated = field("updated", lambda: _parse_date(raw.get("updated"), tz, earliest), None)
    author, email = _author_fields(raw, settings, field)
    no_terms: tuple[Term, ...] = ()
    categories = field("categories", lambda: _parse_terms(raw.get("categories"), limits), no_terms)
    tags = field("tags", lambda: _parse_terms(raw.get("tags"), limits), no_terms)
    image = _image_field(raw.get("image"), base, limits, problems)
    if problems:
        raise IngestError(problems)
    published = min(published or now, now).astimezone(UTC)
    updated = max(min(updated or published, now), published).astimezone(UTC)
    url = given_url or _own_url(settings, article_id)
    host = urlsplit(settings.public_url).hostname or "localhost"
    return Article(
        id=article_id,
        title=title,
        url=url,
        content_html=body,
        summary=summary or shorten(" ".join(paragraphs), SUMMARY_LIMIT),
        author=author,
        published=published,
        updated=updated,
        categories=categories,
        tags=tags,
        image=image,
        source=source,
        guid=f"tag:{host},{published.year}:article/{article_id}",
        author_email=email,
    )


class _Fields:
    """Reads fields one at a time, collecting every problem rather than stopping at one."""

    def __init__(self) -> None:
        self.problems: dict[str, str] = {}

    def __call__(self, name: str, parse: Callable[[], T], fallback: T) -> T:
        try:
            return parse()
        except ValueError as exc:
            self.problems[name] = str(exc)
        except Exception as exc:  # an input we did not foresee: reject the item, not the batch
            log.warning("field %s raised %s", name, type(exc).__name__, exc_info=True)
            self.problems[name] = f"could not be read ({type(exc).__name__})"
        return fallback


def _author_fields(
    raw: Mapping[str, Any], settings: Settings, field: _Fields
) -> tuple[str, str | None]:
    """The author's name and the e-mail to publish: ``author_email``, or the one in
    "Name <email>", which is published only when the publisher opts in."""
    author, named_email = field(
        "author", lambda: _parse_author(raw.get("author"), settings), ("", "")
    )
    email = field("author_email", lambda: _parse_email(raw.get("author_email")), None)
    if email is None and named_email and settings.feed_author_email:
        email = named_email
    return author, email


def _unknown_fields(raw: Mapping[str, Any]) -> dict[str, str]:
    """Every field no rule reads, named: refused rather than silently dropped."""
    known = ", ".join(sorted(FIELDS))
    return {
        str(name): f"unknown field; the fields are {known}" for name in raw if name not in FIELDS
    }


def _require_text(title: str, paragraphs: Sequence[str], problems: dict[str, str]) -> None:
    """An article needs a title, or body text to derive one from."""
    if not title and not paragraphs and "title" not in problems:
        problems["title"] = "missing, and there is no body text to derive one from"
        problems.setdefault("body", "missing: give body, text or summary")


def _image_field(value: Any, base: str, limits: Settings, problems: dict[str, str]) -> Image | None:
    """The parsed image, or None with its problems added to *problems*."""
    try:
        return _parse_image(value, base, limits)
    except IngestError as exc:
        problems.update(exc.problems)
    except Exception as exc:
        problems["image"] = str(exc) if isinstance(exc, ValueError | TypeError) else "unreadable"
    return None


def _has_body(raw: Mapping[str, Any]) -> bool:
    return present(raw.get("body")) or present(raw.get("text"))


def _own_url(settings: Settings, article_id: str) -> str:
    return f"{settings.public_url}/articles/{article_id}"


def derive_title(paragraphs: Sequence[str]) -> str:
    """The title rule: first sentence of the first paragraph, ≤ 110 chars, no final stop."""
    if not paragraphs:
        return ""
    first = paragraphs[0]
    for match in _SENTENCE_END.finditer(first):
        if not _ABBREVIATION.search(first[: match.start()]):
            first = first[: match.end()].strip()
            break
    first = first.rstrip()
    if first.endswith(".") and not first.endswith(".."):
        first = first[:-1]
    return shorten(first, TITLE_LIMIT)


def _text(value: Any, what: str = "text") -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected {what}, got {type(value).__name__}")
    return clean_xml_text(str(value)).strip()


def present(value: Any) -> bool:
    """True unless *value* is None or an empty string, list or mapping."""
    return value is not None and value != "" and value != [] and value != {}


def _parse_url(value: Any) -> str | None:
    if not present(value):
        return None
    url = to_uri(_text(value, "a URL"))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    if len(url) > URL_LIMIT:
        raise ValueError(f"longer than {URL_LIMIT} characters")
    return url


def _check_size(text: str, limits: Settings) -> str:
    if len(text) > limits.max_body_bytes or len(text.encode()) > limits.max_body_bytes:
        raise ValueError(f"larger than {limits.max_body_bytes} bytes (max_body_bytes)")
    return text


def _parse_summary(value: Any, limits: Settings) -> str:
    if not present(value):
        return ""
    summary = _check_size(_text(value), limits)
    if looks_like_html(summary):
        summary = html_to_text(sanitize_html(summary, "http://localhost/"))
    return " ".join(summary.split())


def _parse_body(raw: Mapping[str, Any], base: str, limits: Settings) -> str:
    if present(raw.get("body")):
        return sanitize_html(_check_size(_text(raw["body"], "HTML text"), limits), base)
    if present(raw.get("text")):
        blocks = re.split(r"\n\s*\n", _check_size(_text(raw["text"]), limits))
        paras = (html.escape(b.strip(), quote=False).replace("\n", "<br>") for b in blocks)
        return sanitize_html("".join(f"<p>{p}</p>" for p in paras if p), base)
    return ""


def _parse_title(value: Any, paragraphs: Sequence[str], limits: Settings) -> str:
    if present(value):
        # A title is text: its tags stay as written, but entities are decoded as they
        # are in summaries and bodies ("&amp;" is "&"), references XML forbids dropped.
        title = clean_xml_text(html.unescape(drop_bad_references(_text(value))))
        title = " ".join(title.split())
        if len(title) > limits.max_title_chars:
            raise ValueError(f"longer than {limits.max_title_chars} characters (max_title_chars)")
        if title:
            return title
    return derive_title(paragraphs)


def _parse_id(value: Any, default: str | None, title: str, url: str | None) -> str:
    if present(value):
        given = _text(value, "an id")
        if not ID_PATTERN.fullmatch(given):
            raise ValueError(f"must be 1-100 of A-Z a-z 0-9 . _ ~ -, got {given!r}")
        return given
    if default and ID_PATTERN.fullmatch(default):
        return default
    candidates = [slugify(default)[:100].strip("-")] if default else []
    if title:
        suffix = "-" + hashlib.sha256(url.encode()).hexdigest()[:8] if url else ""
        candidates.append(slugify(title)[: 100 - len(suffix)].strip("-") + suffix)
        candidates.append("a-" + hashlib.sha256(title.encode()).hexdigest()[:12])
    for candidate in candidates:
        if ID_PATTERN.fullmatch(candidate):
            return candidate
    raise ValueError("missing, and none can be derived")


def _parse_date(value: Any, tz: tzinfo, earliest_year: int = 1) -> datetime | None:
    if not present(value):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, str):
        parsed = _parse_date_text(value.strip())
    else:
        raise ValueError(f"not a date: {value!r}")
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
    try:
        in_utc = parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"out of range: {str(value)[:100]!r}") from None
    if in_utc.year < earliest_year:
        raise ValueError(f"before the year {earliest_year} (earliest_year): {str(value)[:100]!r}")
    return parsed


DATE_FORMS = (
    "accepted: ISO 8601 (2026-11-05, 2026-11-05T14:30:00+01:00), RFC 822 "
    "(Thu, 05 Nov 2026 14:30:00 +0000) or a written date with day, month and year "
    "(November 5, 2026 2:30 pm; 5 Nov 2026 14:30 +01:00)"
)
# 03/04/2026: the 3rd of April or the 4th of March?
_AMBIGUOUS = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}\b")
# The shape RFC 822 (and RSS) dates have; email.utils reads anything else too leniently
# ("November 5, 2026 2:30 pm" would become 02:30).
_RFC822 = re.compile(
    r"^\s*(?:[a-z]{3},\s*)?\d{1,2}\s+[a-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"\s*(?:[+-]\d{4}|UTC?|GMT|Z|[ECMP][SD]T)?\s*$",
    re.IGNORECASE,
)
# Zone names RFC 822 defines, with their fixed offsets; any other name is refused.
_ZONES = {
    name: offset * 3600
    for name, offset in {
        "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
        "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    }.items()
}  # fmt: skip


def _parse_date_text(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    if _RFC822.match(text):
        try:
            return parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return _parse_written_date(text)


def _parse_written_date(text: str) -> datetime:
    """A free-form date (python-dateutil) that names its day, month and year."""
    numeric = _AMBIGUOUS.match(text)
    if numeric and numeric.group(1) != numeric.group(2) and max(map(int, numeric.groups())) <= 12:
        raise ValueError(
            f"ambiguous date {text!r}: day and month could be either way round; "
            "write it as 2026-04-03"
        )
    parsed = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", dateutil.parser.UnknownTimezoneWarning)
        try:
            # Two different defaults: a part the text leaves out shows up as a difference.
            for default in (datetime(2001, 1, 1), datetime(2002, 2, 2)):
                parsed.append(dateutil.parser.parse(text, default=default, tzinfos=_ZONES))
        except dateutil.parser.UnknownTimezoneWarning:
            raise ValueError(
                f"unknown timezone name in {text!r}: use an offset such as +01:00"
            ) from None
        except (ValueError, OverflowError):
            raise ValueError(f"not a date: {text!r}; {DATE_FORMS}") from None
    if parsed[0].date() != parsed[1].date():
        raise ValueError(f"incomplete date {text!r}: it needs a day, month and year")
    return parsed[0]


def _parse_author(value: Any, settings: Settings) -> tuple[str, str]:
    """``(name, email)``: ``"Name <email>"`` (or a mapping) is split; the name alone is
    what feeds show as the author and what the author feed is named after."""
    email = ""
    if isinstance(value, Mapping):
        email = _text(value.get("email") or "", "an e-mail address")
        value = value.get("name")
    author = " ".join(_text(value, "a name").split()) if present(value) else ""
    if "@" in author:
        name, address = parseaddr(author)
        if "@" in address and "@" not in name:
            author, email = " ".join(name.split()) or address.split("@")[0], address
    if len(author) > AUTHOR_LIMIT:
        raise ValueError(f"longer than {AUTHOR_LIMIT} characters")
    if email and (len(email) > EMAIL_LIMIT or not EMAIL_PATTERN.fullmatch(email)):
        raise ValueError(f"not an e-mail address: {email[:80]!r}")
    return author or settings.site_title, email


def _parse_email(value: Any) -> str | None:
    if not present(value):
        return None
    email = _text(value, "an e-mail address")
    if not EMAIL_PATTERN.fullmatch(email) or len(email) > EMAIL_LIMIT:
        raise ValueError(f"not an e-mail address: {email!r}")
    return email


def _parse_terms(value: Any, limits: Settings) -> tuple[Term, ...]:
    if not present(value):
        return ()
    if isinstance(value, str):
        labels = value.split(",")
    elif isinstance(value, list | tuple):
        labels = [_text(item, "a list of labels") for item in value]
    else:
        raise ValueError(
            f"expected a list of labels or a comma-separated string, got {value!r:.100}"
        )
    if len(labels) > limits.max_terms:
        raise ValueError(f"more than {limits.max_terms} labels (max_terms): {len(labels)}")
    terms: dict[str, Term] = {}
    for label in labels:
        label = " ".join(clean_xml_text(label).split())
        if len(label) > limits.max_label_chars:
            raise ValueError(
                f"label longer than {limits.max_label_chars} characters (max_label_chars): "
                f"{label[:40]!r}…"
            )
        if label:
            slug = feed_slug(label)  # never empty, bounded; case and normalisation variants are one
            terms.setdefault(slug, Term(slug, label))
    return tuple(terms.values())


def _parse_image(value: Any, base: str, limits: Settings) -> Image | None:
    if not present(value):
        return None
    spec = value if isinstance(value, Mapping) else {"url": value}
    problems: dict[str, str] = {}
    given = _text(spec.get("url") or "") if present(spec.get("url")) else ""
    url = to_uri(urljoin(base, to_uri(given))) if given else ""
    if not url:
        problems["image.url"] = "missing"
    elif urlsplit(url).scheme not in ("http", "https") or len(url) > URL_LIMIT:
        problems["image.url"] = f"not an http(s) URL of at most {URL_LIMIT} characters: {url!r}"
    kind = spec.get("type") or mimetypes.guess_type(urlsplit(url).path)[0]
    if kind is not None and not (
        isinstance(kind, str)
        and len(kind) <= IMAGE_TYPE_LIMIT
        and re.fullmatch(r"image/[\w.+-]+", kind, re.ASCII)
    ):
        problems["image.type"] = (
            f"not an image media type (image/...) of at most {IMAGE_TYPE_LIMIT} characters: "
            f"{kind!r:.120}"
        )
    sizes: dict[str, int | None] = {}
    for name in ("length", "width", "height"):
        high = limits.max_image_bytes if name == "length" else limits.max_image_pixels
        setting = "max_image_bytes" if name == "length" else "max_image_pixels"
        number = spec.get(name)
        if isinstance(number, str) and number.strip().isascii() and number.strip().isdigit():
            text = number.strip()
            number = int(text) if len(text) <= 20 else high + 1
        if number is not None and (
            isinstance(number, bool) or not isinstance(number, int) or number < 0
        ):
            problems[f"image.{name}"] = f"not a whole number >= 0: {number!r:.60}"
            number = None
        elif number is not None and number > high:
            problems[f"image.{name}"] = f"larger than {high} ({setting})"
            number = None
        sizes[name] = number
    if problems:
        raise IngestError(problems)
    return Image(url, kind, sizes["length"], sizes["width"], sizes["height"])
