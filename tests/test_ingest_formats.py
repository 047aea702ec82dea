"""Markdown, JSON and JSON Lines parsing, the parser registry, and normalise's rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from syndicate.config import Settings
from syndicate.errors import IngestError
from syndicate.ingest import load_parsers
from syndicate.ingest.jsonfile import parse_json, parse_jsonl
from syndicate.ingest.markdown import parse_markdown
from syndicate.ingest.raw import PartialIngestError, RawArticle
from syndicate.ingest.rules import normalise
from syndicate.models import Term

YAML_MD = """---
title: "Reef Survey: Corals Recover"
id: reef-survey
published: 2026-11-17T10:00:00+09:00
author: Sato Haruka (佐藤遥)
categories: [Science, Environment]
image:
  url: /images/reef.jpg
  length: 256120
  width: 1200
  height: 630
---

The survey found **recovery** at most sites. 🪸

## What the Divers Saw

- branching corals
- boulder corals
"""

TOML_MD = """+++
title = "Fusion Record"
published = 2026-11-09T09:30:00Z
tags = ["fusion", "Fusion", "energy"]
+++
A plasma was held for 43 seconds.
"""


def norm(raw: dict[str, Any], settings: Settings, now: datetime, default_id: str = "x"):
    """Normalise with the defaults the folder uses."""
    return normalise(raw, settings, source="folder", now=now, default_id=default_id)


def test_parsers_are_registered_by_extension() -> None:
    """The four built-in formats load through the syndicate.parsers entry points."""
    parsers = load_parsers()
    assert set(parsers) >= {"txt", "md", "json", "jsonl"}
    assert parsers["json"](b'{"title": "T"}', "a.json") == [{"title": "T"}]


def test_markdown_with_yaml_front_matter(settings: Settings, frozen_now: datetime) -> None:
    """YAML front matter gives the fields; the body is rendered Markdown."""
    article = norm(parse_markdown(YAML_MD.encode(), "reef.md")[0], settings, frozen_now)
    assert article.id == "reef-survey"
    assert article.title == "Reef Survey: Corals Recover"
    assert article.published == datetime(2026, 11, 17, 1, tzinfo=UTC)
    assert article.author == "Sato Haruka (佐藤遥)"
    assert [c.slug for c in article.categories] == ["science", "environment"]
    assert "<strong>recovery</strong>" in article.content_html and "🪸" in article.content_html
    assert "<h2>What the Divers Saw</h2>" in article.content_html
    assert "<li>boulder corals</li>" in article.content_html
    assert article.image is not None
    assert article.image.url == "https://feeds.example.com/images/reef.jpg"
    assert article.image.type == "image/jpeg"


def test_markdown_with_toml_front_matter(settings: Settings, frozen_now: datetime) -> None:
    """TOML front matter works too; tags are de-duplicated by slug."""
    article = norm(parse_markdown(TOML_MD.encode(), "f.md")[0], settings, frozen_now)
    assert article.title == "Fusion Record"
    assert article.published == datetime(2026, 11, 9, 9, 30, tzinfo=UTC)
    assert article.tags == (Term("fusion", "fusion"), Term("energy", "energy"))
    assert article.content_html == "<p>A plasma was held for 43 seconds.</p>"


def test_markdown_leading_heading_is_the_title() -> None:
    """Without front matter a leading level-1 heading becomes the title."""
    raw = parse_markdown(b"# Big News\n\nSomething happened today.\n", "n.md")[0]
    assert raw["title"] == "Big News"
    assert raw["body"] == "<p>Something happened today.</p>"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("---\ntitle: [unclosed\n---\nbody\n", "not valid YAML"),
        ("---\ntitle: x\nbody without a closing fence\n", "no closing '---'"),
        ("+++\ntitle = \n+++\nbody\n", "not valid TOML"),
        ("---\n- a list\n---\nbody\n", "must be a mapping"),
    ],
)
def test_bad_front_matter_says_so(text: str, reason: str) -> None:
    """Malformed front matter is an error about the front matter."""
    with pytest.raises(IngestError) as caught:
        parse_markdown(text.encode(), "bad.md")
    assert list(caught.value.problems) == ["front matter"]
    assert reason in caught.value.problems["front matter"]


def test_yaml_error_gives_the_file_line() -> None:
    """YAML positions count from the top of the file."""
    with pytest.raises(IngestError) as caught:
        parse_markdown(b"---\ntitle: ok\nauthor: [x\n---\nbody\n", "bad.md")
    assert "line 3" in caught.value.problems["front matter"]


def test_json_object(settings: Settings, frozen_now: datetime) -> None:
    """A .json file is one article object."""
    data = json.dumps({"title": "T", "text": "Para one.\n\nPara two.", "tags": "a, b"}).encode()
    article = norm(parse_json(data, "t.json")[0], settings, frozen_now)
    assert article.content_html == "<p>Para one.</p><p>Para two.</p>"
    assert [t.slug for t in article.tags] == ["a", "b"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"title": "T",\n "body": }', "not valid JSON at line 2 column 10: Expecting value"),
        (b'[{"title": "T"}]', "expected one JSON object, got a list"),
        (b'{"title": "caf\xe9"}', "not valid UTF-8: bad byte 0xe9 at byte offset 14"),
    ],
)
def test_malformed_json(data: bytes, reason: str) -> None:
    """Malformed JSON names the line and column; other shapes say what they are."""
    with pytest.raises(IngestError) as caught:
        parse_json(data, "bad.json")
    assert caught.value.problems["file"].startswith(reason)


def test_jsonl_keeps_good_lines_and_numbers_bad_ones() -> None:
    """Bad lines are reported by number; the good ones are still returned."""
    data = b'{"title": "One"}\n\n{oops\n"text"\n{"title": "Five"}\n'
    with pytest.raises(PartialIngestError) as caught:
        parse_jsonl(data, "b.jsonl")
    assert set(caught.value.problems) == {"line 3", "line 4"}
    assert "not valid JSON at column 2" in caught.value.problems["line 3"]
    assert caught.value.problems["line 4"] == "expected a JSON object, got a string"
    items = caught.value.items
    assert [(i["title"], i.line) for i in items if isinstance(i, RawArticle)] == [
        ("One", 1), ("Five", 5),
    ]  # fmt: skip


def test_jsonl_all_good_and_all_bad() -> None:
    """All-good files parse; all-bad or empty files are plain errors."""
    assert len(parse_jsonl(b'{"title": "a"}\n{"title": "b"}', "g.jsonl")) == 2
    with pytest.raises(IngestError) as caught:
        parse_jsonl(b"nope\n", "b.jsonl")
    assert not isinstance(caught.value, PartialIngestError)
    with pytest.raises(IngestError, match="empty"):
        parse_jsonl(b"\n\n", "e.jsonl")


# -- normalise --------------------------------------------------------------------------


def test_every_bad_field_is_named_at_once(settings: Settings, frozen_now: datetime) -> None:
    """One error lists each bad field with its reason."""
    raw = {
        "id": "has spaces", "published": "yesterday", "url": "ftp://x/y", "tags": 5,
        "image": {"url": "javascript:alert(1)", "width": "wide", "length": -1},
    }  # fmt: skip
    with pytest.raises(IngestError) as caught:
        norm(raw, settings, frozen_now)
    problems = caught.value.problems
    assert problems["published"].startswith("not a date: 'yesterday'; accepted: ISO 8601")
    assert problems["title"].startswith("missing")
    assert problems["body"].startswith("missing")
    assert problems["id"].startswith("must be 1-100 of")
    assert problems["url"].startswith("not an absolute http(s) URL")
    assert problems["tags"].startswith("expected a list of labels")
    assert {"image.url", "image.width", "image.length"} <= set(problems)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-03T10:00:00+01:00", datetime(2026, 11, 3, 9, tzinfo=UTC)),
        ("2026-11-03T10:00:00Z", datetime(2026, 11, 3, 10, tzinfo=UTC)),
        ("Tue, 03 Nov 2026 10:00:00 +0100", datetime(2026, 11, 3, 9, tzinfo=UTC)),
        ("Tue, 03 Nov 2026 10:00:00 GMT", datetime(2026, 11, 3, 10, tzinfo=UTC)),
        ("2026-11-03", datetime(2026, 11, 2, 23, tzinfo=UTC)),
        ("2026-11-03 10:00", datetime(2026, 11, 3, 9, tzinfo=UTC)),
        (datetime(2026, 11, 3, 10, tzinfo=timezone(timedelta(hours=-5))),
         datetime(2026, 11, 3, 15, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_date_formats_and_naive_dates(
    settings: Settings, frozen_now: datetime, value: Any, expected: datetime
) -> None:
    """ISO 8601, RFC 822 and date-only are accepted; naive ones take settings.tz."""
    berlin = settings.replace(timezone="Europe/Berlin")
    article = norm({"title": "T", "published": value}, berlin, frozen_now)
    assert article.published == expected
    assert article.published.tzinfo == UTC


def test_future_dates_are_clamped(settings: Settings, frozen_now: datetime) -> None:
    """A published date in the future becomes now; updated is never before published."""
    article = norm({"title": "T", "published": "2030-01-01T00:00:00Z"}, settings, frozen_now)
    assert article.published == article.updated == frozen_now
    raw = {"title": "T", "published": "2026-11-10T00:00Z", "updated": "2026-11-01T00:00Z"}
    article = norm(raw, settings, frozen_now)
    assert article.updated == article.published == datetime(2026, 11, 10, tzinfo=UTC)


def test_defaults(settings: Settings, frozen_now: datetime) -> None:
    """Missing id, url, author, dates and summary get their documented defaults."""
    article = norm({"title": "T", "body": "<p>Hello <b>world</b>.</p>"}, settings, frozen_now, "d")
    assert article.id == "d"
    assert article.url == "https://feeds.example.com/articles/d"
    assert article.guid == "tag:feeds.example.com,2026:article/d"
    assert article.author == settings.site_title
    assert article.published == article.updated == frozen_now
    assert article.summary == "Hello world."


def test_default_id_is_slugified_and_title_gives_one(
    settings: Settings, frozen_now: datetime
) -> None:
    """An invalid default id is slugified; without any, the title's slug (+ URL hash) is used."""
    assert norm({"title": "T"}, settings, frozen_now, "Über Files!").id == "uber-files"
    article = normalise({"title": "Big News Today"}, settings, source="api", now=frozen_now)
    assert article.id == "big-news-today"
    with_url = {"title": "Big News Today", "url": "https://news.example.com/x"}
    assert normalise(with_url, settings, source="api", now=frozen_now).id.startswith(
        "big-news-today-"
    )


def test_summary_html_is_reduced_and_long_body_shortened(
    settings: Settings, frozen_now: datetime
) -> None:
    """An HTML summary becomes text; a derived summary is ≤ 280 chars ending in an ellipsis."""
    article = norm(
        {"title": "T", "summary": "<p>Short &amp; <em>sweet</em></p>"}, settings, frozen_now
    )
    assert article.summary == "Short & sweet"
    assert article.content_html == "<p>Short &amp; sweet</p>"
    long_body = "<p>" + "word " * 200 + "</p>"
    summary = norm({"title": "T", "body": long_body}, settings, frozen_now).summary
    assert len(summary) <= 280 and summary.endswith("word…")


def test_body_is_sanitised_against_the_article_url(
    settings: Settings, frozen_now: datetime
) -> None:
    """Script and handlers go; relative links resolve against the article URL."""
    raw = {
        "title": "T", "url": "https://news.example.com/world/story",
        "body": '<p onmouseover="x()">Hi <a href="next">n</a><script>alert(1)</script></p>'
                '<img src="/i.jpg" onerror="alert(1)">',
    }  # fmt: skip
    html = norm(raw, settings, frozen_now).content_html
    assert html == (
        '<p>Hi <a href="https://news.example.com/world/next" rel="noopener noreferrer">n</a>'
        '</p><img src="https://news.example.com/i.jpg">'
    )


def test_title_is_text_not_html(settings: Settings, frozen_now: datetime) -> None:
    """A title is kept as text (feeds escape it), minus illegal characters."""
    article = norm(
        {"title": "</title><script>x</script> & \x00more", "text": "b"}, settings, frozen_now
    )
    assert article.title == "</title><script>x</script> & more"


def test_image_given_as_string_and_ints_as_strings(
    settings: Settings, frozen_now: datetime
) -> None:
    """A bare image URL works; numeric strings are accepted for sizes."""
    raw = {"title": "T", "image": {"url": "https://news.example.com/a.png", "width": "800"}}
    image = norm(raw, settings, frozen_now).image
    assert image is not None and (image.type, image.width) == ("image/png", 800)
    image = norm(
        {"title": "T", "image": "https://news.example.com/b.webp"}, settings, frozen_now
    ).image
    assert image is not None and image.type == "image/webp"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("November 5, 2026", "2026-11-05T00:00:00+00:00"),
        ("November 5, 2026 2:30 pm", "2026-11-05T14:30:00+00:00"),
        ("5 Nov 2026 14:30 +01:00", "2026-11-05T14:30:00+01:00"),
        ("Thu, 05 Nov 2026 14:30:00 GMT", "2026-11-05T14:30:00+00:00"),
        ("Nov 5 2026 2:30 PM EST", "2026-11-05T14:30:00-05:00"),
        ("13/04/2026", "2026-04-13T00:00:00+00:00"),
    ],
)
def test_written_dates_are_understood(
    settings: Settings, frozen_now: datetime, text: str, expected: str
) -> None:
    """Dates as newsrooms write them are read, zone and all; no zone takes `timezone`."""
    article = norm({"title": "t", "text": "b", "published": text}, settings, frozen_now)
    assert article.published == datetime.fromisoformat(expected)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("yesterday", "accepted: ISO 8601"),
        ("03/04/2026", "ambiguous date '03/04/2026'"),
        ("November 2026", "incomplete date"),
        ("5 Nov 2026 14:30 CET", "unknown timezone name"),
        ("2026年11月5日", "accepted: ISO 8601"),
    ],
)
def test_unclear_dates_are_refused_with_the_accepted_forms(
    settings: Settings, frozen_now: datetime, text: str, reason: str
) -> None:
    with pytest.raises(IngestError) as caught:
        norm({"title": "t", "text": "b", "published": text}, settings, frozen_now)
    assert reason in caught.value.problems["published"]


def test_yaml_front_matter_may_close_with_dots_and_toml_with_pluses() -> None:
    """Front matter as python-frontmatter splits it: YAML ending in ``...``, TOML in +++."""
    (yaml_doc,) = parse_markdown(b"---\ntitle: Dots\n...\nBody *here*.\n", "a.md")
    (toml_doc,) = parse_markdown(b'+++\ntitle = "Pluses"\n+++\n---\nBody.\n', "b.md")
    assert yaml_doc["title"] == "Dots" and "<em>here</em>" in yaml_doc["body"]
    assert toml_doc["title"] == "Pluses" and "<hr" in toml_doc["body"]
