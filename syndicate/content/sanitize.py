"""HTML sanitising (nh3, explicit allowlist) and HTML-to-text, for article bodies.

The policy follows docs/reliability.md §6: only the tags and attributes below survive; the
content of script-like elements is dropped, not shown as text; URLs must be http, https
or mailto; relative URLs are resolved against the article's URL; links get
``rel="noopener noreferrer"``. Bump :data:`POLICY_VERSION` whenever the policy changes so
stored HTML can be re-sanitised.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import nh3

from syndicate.content.text import clean_xml_text, drop_bad_references, to_uri

POLICY_VERSION = 2  # 2: dir/lang kept, URLs made ASCII URIs, bad character references dropped

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul",
})  # fmt: skip

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title", "hreflang"},
    "abbr": {"title"},
    "blockquote": {"cite"},
    "del": {"cite", "datetime"},
    "img": {"src", "alt", "title", "width", "height"},
    "ins": {"cite", "datetime"},
    "ol": {"start", "reversed"},
    "q": {"cite"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
}

# Elements whose text is code or foreign content: removed together with what they hold.
DROPPED_WITH_CONTENT = frozenset({
    "applet", "embed", "frame", "frameset", "iframe", "math", "noembed", "noframes",
    "noscript", "object", "script", "style", "svg", "template", "title", "xmp",
})  # fmt: skip

URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer"

_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
    "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
})  # fmt: skip
_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
_LOOKS_LIKE_HTML = re.compile(r"<[A-Za-z/!][^>]*>|&(?:#\d+|#x[0-9A-Fa-f]+|[A-Za-z]\w*);")


def sanitize_html(html: str, base_url: str) -> str:
    """Return *html* cleaned by the allowlist, with relative URLs made absolute to *base_url*."""

    base_url = to_uri(base_url)

    def absolute(url: str) -> str:
        return urljoin(base_url, url)

    def uri(element: str, attribute: str, value: str) -> str:
        return to_uri(value) if attribute in _URL_ATTRIBUTES else value

    cleaned = nh3.clean(
        clean_xml_text(drop_bad_references(html)),
        attribute_filter=uri,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={"*": {"dir", "lang"}} | {t: set(a) for t, a in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        url_relative=absolute,
        strip_comments=True,
    )
    return clean_xml_text(cleaned).strip()


def looks_like_html(text: str) -> bool:
    """True if *text* contains a tag or an entity reference."""
    return _LOOKS_LIKE_HTML.search(text) is not None


def html_to_text(html: str) -> str:
    """Reduce HTML to plain text: one block per paragraph, separated by blank lines."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.text()


def html_paragraphs(html: str) -> list[str]:
    """The text of each block of *html*, whitespace collapsed, empty blocks left out."""
    return [p for p in html_to_text(html).split("\n\n") if p]


class _TextExtractor(HTMLParser):
    """Collects text, breaking at block elements and skipping script-like content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._blocks: list[list[str]] = [[]]
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self._blocks.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self._blocks.append([])

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self._blocks[-1].append(data)

    def text(self) -> str:
        blocks = (" ".join("".join(parts).split()) for parts in self._blocks)
        return "\n\n".join(block for block in blocks if block)
