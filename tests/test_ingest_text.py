"""The .txt format, proven on the seed article exactly as shipped."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndicate.config import Settings
from syndicate.errors import IngestError
from syndicate.ingest.plaintext import is_heading, parse_text, strip_footer
from syndicate.ingest.rules import derive_title, normalise

SEED = Path(__file__).parents[1] / "demo" / "inbox" / "000_478f0a629dc41297.txt"
SEED_HEADINGS = [
    "North Korea’s Role Escalates the Conflict",
    "Ukraine Calls for Stronger Western Support",
    "Tension Rises Between Russian and North Korean Forces",
    "Putin and North Korea Deny the Allegations",
    "What’s Next?",
]


def seed_article(settings: Settings, now: datetime):
    """Normalise the shipped seed file the way the drop folder does."""
    raw = parse_text(SEED.read_bytes(), SEED.name)[0]
    return normalise(raw, settings, source="folder", now=now, default_id="000-478f0a629dc41297")


def test_seed_is_the_byte_exact_copy() -> None:
    """The demo inbox ships the seed unchanged."""
    original = Path("/work/shared/seeds/000_478f0a629dc41297.txt")
    if not original.exists():
        pytest.skip("the shared seed is not on this machine")
    assert SEED.read_bytes() == original.read_bytes()


def test_seed_has_exactly_its_five_subheadings(settings: Settings, frozen_now: datetime) -> None:
    """The five short standalone lines, and nothing else, become <h2> in order."""
    html = seed_article(settings, frozen_now).content_html
    assert re.findall(r"<h2>(.*?)</h2>", html) == SEED_HEADINGS
    assert len(re.findall(r"<p>", html)) == 16
    assert "<h1" not in html and "<h3" not in html


def test_seed_footer_is_removed(settings: Settings, frozen_now: datetime) -> None:
    """The glued publisher footer and share links are gone; the last sentence stays."""
    html = seed_article(settings, frozen_now).content_html
    for gone in ("This article was published", "Thanks for reading", "Share on", "«||»"):
        assert gone not in html
    assert html.endswith("critical in the coming weeks.</p>")


def test_seed_quotes_and_unicode_are_intact(settings: Settings, frozen_now: datetime) -> None:
    """Curly quotes and apostrophes pass through as characters, not entities."""
    html = seed_article(settings, frozen_now).content_html
    assert "<p>“The enemy understands strength,” Yermak stated," in html
    assert "as the “K battalion” and" in html
    assert "“Who knows what the f*** we’re supposed to do with them,”" in html
    assert "“groundless rumors.”</p>" in html
    assert "&#" not in html and "&rsquo;" not in html


def test_seed_title_follows_the_rule(settings: Settings, frozen_now: datetime) -> None:
    """Without a Title header: first sentence, cut to ≤ 110 chars at a word with an ellipsis."""
    article = seed_article(settings, frozen_now)
    assert article.title == (
        "NATO officials have expressed growing concern over reports that North Korea has "
        "deployed troops to Russia’s…"
    )
    assert len(article.title) <= 110
    assert article.summary.startswith("NATO officials have expressed growing concern")
    assert len(article.summary) <= 280 and article.summary.endswith("…")


def test_title_rule_short_first_sentence() -> None:
    """A short first sentence is the whole title, without its full stop; abbreviations hold."""
    assert derive_title(["Mr. Smith went to Washington. Then he left."]) == (
        "Mr. Smith went to Washington"
    )
    assert derive_title(["Is it over? Nobody knows."]) == "Is it over?"
    assert derive_title(["“We won.” The crowd cheered."]) == "“We won.”"
    assert derive_title([]) == ""


def test_header_block_sets_fields(settings: Settings, frozen_now: datetime) -> None:
    """Known Key: value lines up to the first blank line are fields, case-insensitively."""
    data = (
        b"title: Dock Strike Ends\nURL: https://news.example.com/b/dock\nPUBLISHED: 2026-11-12\n"
        b"Author: Maria Lindqvist\nCategories: Business, Europe\nTags: labour\n"
        b"Image: https://news.example.com/images/d.jpg\nImage-Width: 1200\nImage-Height: 630\n"
        b"\nWorkers returned on Thursday after a deal on automation was reached overnight.\n"
    )
    raw = parse_text(data, "dock.txt")[0]
    article = normalise(raw, settings, source="folder", now=frozen_now, default_id="dock")
    assert article.title == "Dock Strike Ends"
    assert article.url == "https://news.example.com/b/dock"
    assert article.published == datetime(2026, 11, 12, tzinfo=UTC)
    assert [c.label for c in article.categories] == ["Business", "Europe"]
    assert article.image is not None
    assert (article.image.type, article.image.width, article.image.height) == (
        "image/jpeg", 1200, 630,
    )  # fmt: skip
    assert article.content_html == (
        "<p>Workers returned on Thursday after a deal on automation was reached overnight.</p>"
    )


def test_block_with_unknown_key_is_body() -> None:
    """A first block is a header only if every line is a known key."""
    data = b"Title: Not a header\nNote: this line is prose\n\nMore text follows here.\n"
    raw = parse_text(data, "x.txt")[0]
    assert "title" not in raw
    assert "<p>Title: Not a header</p>" in raw["body"]


def test_text_is_escaped() -> None:
    """Angle brackets and ampersands in plain text are escaped, never parsed as HTML."""
    raw = parse_text(b"AT&T <script>alert(1)</script> results beat forecasts.\n", "x.txt")[0]
    assert (
        raw["body"]
        == "<p>AT&amp;T &lt;script&gt;alert(1)&lt;/script&gt; results beat forecasts.</p>"
    )


@pytest.mark.parametrize(
    "line",
    [
        "“We will not back down,” she said",
        "Officials met on Tuesday.",
        "This line is far too long to be a heading because it goes on and on and on past limits",
        "the quiet lowercase aside",
    ],
)
def test_non_headings(line: str) -> None:
    """Quoted speech, sentences, long lines and lowercase lines are paragraphs."""
    paragraphs = [
        "First paragraph.",
        line,
        "A much longer paragraph follows the candidate line here.",
    ]
    assert not is_heading(paragraphs, 1)


def test_heading_needs_a_longer_paragraph_after_it() -> None:
    """A short Title Case line at the end, or before a shorter line, is not a heading."""
    assert not is_heading(["Intro text here.", "Closing Words"], 1)
    assert not is_heading(["Intro text here.", "Closing Words Here", "Short."], 1)
    assert not is_heading(["Heading First", "Longer paragraph after it."], 0)


def test_footer_variants() -> None:
    """Footers on their own lines or glued to the text are cut; other text is not."""
    assert strip_footer(["Body.", "This article was published on X. Thanks for reading!"]) == [
        "Body."
    ]
    assert strip_footer(["Body.", "Share on Facebook «||» Share on Twitter"]) == ["Body."]
    assert strip_footer(["Body. Share on Reddit «||» Share on LinkedIn"]) == ["Body."]
    assert strip_footer(["We share on Fridays."]) == ["We share on Fridays."]


def test_invalid_utf8_names_the_byte_offset() -> None:
    """Bytes that are not UTF-8 are refused with their offset."""
    with pytest.raises(IngestError) as caught:
        parse_text("Caf\u00e9 news".encode() + b"\xff\xfe tail", "bad.txt")
    assert caught.value.problems == {"file": "not valid UTF-8: bad byte 0xff at byte offset 10"}


def test_control_characters_are_stripped(settings: Settings, frozen_now: datetime) -> None:
    """XML-illegal characters in a text file never reach the article."""
    raw = parse_text("Title: Bad\x00 \x0bchars\n\nBody\x1f text\ufffe here.\n".encode(), "c.txt")[0]
    article = normalise(raw, settings, source="folder", now=frozen_now, default_id="c")
    assert article.title == "Bad chars"
    assert article.content_html == "<p>Body text here.</p>"


def test_empty_file_is_refused(settings: Settings, frozen_now: datetime) -> None:
    """No title and no body: an error naming both."""
    raw = parse_text(b"\n\n", "empty.txt")[0]
    with pytest.raises(IngestError) as caught:
        normalise(raw, settings, source="folder", now=frozen_now, default_id="empty")
    assert set(caught.value.problems) == {"title", "body"}
