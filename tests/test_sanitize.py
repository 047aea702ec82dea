"""HTML sanitising: the nh3 allowlist, absolute URLs and the HTML-to-text reduction."""

from __future__ import annotations

import pytest

from syndicate.content.sanitize import html_paragraphs, html_to_text, looks_like_html, sanitize_html

BASE = "https://news.example.com/world/2026/11/story"


@pytest.mark.parametrize(
    ("dirty", "forbidden"),
    [
        ("<p>a<script>alert(1)</script>b</p>", "alert"),
        ("<p>a<style>p{color:red}</style>b</p>", "color"),
        ('<p>a<iframe src="https://evil.example">frame text</iframe>b</p>', "frame"),
        ('<img src="x.png" onerror="alert(1)">', "onerror"),
        ('<p onclick="steal()">text</p>', "onclick"),
        ('<a href="javascript:alert(1)">x</a>', "javascript"),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', "alert"),
        ('<img src="data:image/png;base64,AAAA">', "data:"),
        ('<object data="x.swf"><embed src="y.swf">obj</object>', "swf"),
        ("<svg><script>alert(1)</script></svg>", "alert"),
        ('<a href="vbscript:msgbox(1)">x</a>', "vbscript"),
        ("<p>a<!-- <script>alert(1)</script> -->b</p>", "alert"),
        ('<form action="https://evil.example"><input name="q"></form>', "form"),
    ],
)
def test_dangerous_markup_is_removed(dirty: str, forbidden: str) -> None:
    """Scripts, styles, frames, event handlers and non-http(s) URLs never survive."""
    assert forbidden not in sanitize_html(dirty, BASE).lower()


def test_safe_markup_is_kept_and_links_get_rel() -> None:
    """Allowed structure stays; links get rel="noopener noreferrer"."""
    html = sanitize_html(
        '<h2>Head</h2><p><strong>b</strong> <em>i</em> <a href="https://x.example/">l</a></p>'
        "<ul><li>one</li></ul><blockquote><p>q</p></blockquote>",
        BASE,
    )
    assert "<h2>Head</h2>" in html
    assert "<strong>b</strong> <em>i</em>" in html
    assert '<a href="https://x.example/" rel="noopener noreferrer">l</a>' in html
    assert "<ul><li>one</li></ul>" in html


def test_relative_urls_become_absolute() -> None:
    """Relative, root-relative and scheme-relative URLs resolve against the article URL."""
    html = sanitize_html(
        '<a href="../other">a</a><a href="/about">b</a><img src="pic.jpg" alt="p">'
        '<a href="//cdn.example.com/f">c</a>',
        BASE,
    )
    assert 'href="https://news.example.com/world/2026/other"' in html
    assert 'href="https://news.example.com/about"' in html
    assert 'src="https://news.example.com/world/2026/11/pic.jpg"' in html
    assert 'href="https://cdn.example.com/f"' in html


def test_mailto_links_are_kept() -> None:
    """mailto: is one of the three allowed schemes."""
    assert 'href="mailto:desk@news.example.com"' in sanitize_html(
        '<a href="mailto:desk@news.example.com">mail</a>', BASE
    )


def test_xml_illegal_characters_are_stripped_and_unicode_kept() -> None:
    """Control characters, non-characters and lone surrogates go; NFC text and emoji stay."""
    html = sanitize_html(
        "<p>a\x00b\x0bc\x1fd\ufffee\uffff \ud800“quoted” — 🪸 佐藤 e\u0301</p>", BASE
    )
    assert html == "<p>abcde “quoted” — 🪸 佐藤 \u00e9</p>"


def test_html_to_text_breaks_blocks_and_drops_scripts() -> None:
    """Blocks become paragraphs separated by a blank line; entities are decoded."""
    text = html_to_text("<h2>Head</h2><p>One &amp; <b>two</b></p><script>x()</script><p>Three</p>")
    assert text == "Head\n\nOne & two\n\nThree"
    assert html_paragraphs("<p> a </p><p></p><p>b\n c</p>") == ["a", "b c"]


def test_looks_like_html() -> None:
    """Tags and entity references count as HTML; a lone < or & does not."""
    assert looks_like_html("<p>x</p>")
    assert looks_like_html("AT&amp;T")
    assert not looks_like_html("profits < forecasts & costs")
