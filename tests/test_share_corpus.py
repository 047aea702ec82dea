"""Every composed post of a 40+ article multilingual corpus is right for its network.

X: valid by twitter-text's own parser and every link recognised whole by its extractor;
every cut at a grapheme boundary; LinkedIn escaped outside URLs only, no bare "#".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
import regex
from share_corpus import corpus
from sharing_support import SECRETS, share_table
from twitter_text import extract_urls, parse_tweet
from twitter_text.config import config as twitter_config

from syndicate.adapters.base import Account
from syndicate.config import Settings
from syndicate.shares.sharing import Sharing
from syndicate.wiring import Wiring

MARKER = "0123456789abcdef"
V3 = twitter_config["version3"]
RESERVED = set("\\|{}@[]()<>*_~#")
ARTICLES = corpus()
IDS = [a.id for a in ARTICLES]


@pytest.fixture
def sharing(settings: Settings) -> Iterator[Sharing]:
    table: dict[str, Any] = share_table(hashtags={})
    table["networks"]["linkedin"]["template"] = "{title}\n\n{summary}\n\n{url}\n\n{hashtags}"
    service = Wiring.open(settings.replace(share=table))
    made = Sharing(service.settings, service.clock, env=SECRETS)
    yield made
    made.close()
    service.close()


def test_corpus_is_big_and_varied() -> None:
    """At least 40 articles, in many scripts, with emoji, flags, marks and odd URLs."""
    assert len(ARTICLES) >= 40
    text = " ".join(a.title + a.summary for a in ARTICLES)
    for script in ("HAN", "HANGUL", "ARABIC", "HEBREW", "DEVANAGARI", "THAI", "CYRILLIC"):
        assert any(script in unicodedata.name(c, "") for c in text), script
    assert "\u200d" in text and "🇯🇵" in text and "\u0301" in text
    assert any(not a.url.isascii() for a in ARTICLES)
    assert any("utm_source=" in a.url for a in ARTICLES)


def graphemes(text: str) -> list[str]:
    return list(regex.findall(r"\X", text))


def assert_cut_whole(shown: str, source: str) -> None:
    """*shown* is *source*, or a cut of it that ends between two graphemes."""
    source = unicodedata.normalize("NFC", " ".join(source.split()))
    shown = unicodedata.normalize("NFC", " ".join(shown.split()))
    if shown == source:
        return
    core = shown.removesuffix("…").rstrip()
    assert source.startswith(core), (shown, source)
    stops = {0}
    for g in graphemes(source):
        stops.add(max(stops) + len(g))
    assert len(core) in stops, f"cut inside a grapheme: {core[-3:]!r} of {source[:80]!r}"


def links_in(text: str) -> list[str]:
    """What a reader would take for the links in *text*: http(s) tokens, less punctuation."""
    found = []
    for token in re.findall(r"https?://\S+", text):
        token = token.rstrip(".,;:!?…")
        if token.endswith(")") and token.count("(") < token.count(")"):
            token = token[:-1]
        found.append(token)
    return found


@pytest.mark.parametrize("article", ARTICLES, ids=IDS)
def test_x_post_is_valid_and_each_link_is_extracted_whole(sharing: Sharing, article: Any) -> None:
    """twitter-text says the post is valid and extracts the shared link (and any link in
    the headline) whole; the text before the link is a grapheme-safe cut of the title."""
    account = sharing.account("x:newsdesk")
    composed = sharing.compose(article, account, marker=MARKER)
    text = sharing.build_request(article, account, article.published, marker=MARKER).body["text"]
    assert text == composed.text
    parsed = parse_tweet(text, V3).asdict()
    assert parsed["valid"], (parsed["weightedLength"], text)
    assert composed.url.isascii() and f"share_ref={MARKER}" in composed.url
    extracted = extract_urls(text)
    assert composed.url in extracted
    for link in links_in(text):
        assert link in extracted, f"{link} is not recognised whole in {text!r}"
    head = text.split(composed.url)[0]
    expected = sharing._values(article, composed.url, ())["title"]
    assert_cut_whole(head, expected)


@pytest.mark.parametrize("article", ARTICLES, ids=IDS)
def test_x_intent_fits_and_keeps_the_link_whole(sharing: Sharing, article: Any) -> None:
    """The intent's text, URL, hashtags and via together are a valid post."""
    from urllib.parse import parse_qsl, urlsplit

    intent = dict(parse_qsl(urlsplit(sharing.intent_url(article, "x")).query))
    tags = " ".join(f"#{t}" for t in intent.get("hashtags", "").split(",") if t)
    full = " ".join(p for p in (intent.get("text", ""), intent["url"], tags) if p)
    assert parse_tweet(full, V3).asdict()["valid"]
    assert intent["url"] in extract_urls(full)


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.S)


@pytest.mark.parametrize("article", ARTICLES, ids=IDS)
def test_linkedin_escapes_outside_urls_only(sharing: Sharing, article: Any) -> None:
    """Every reserved character outside a URL is escaped, none inside; no bare '#';
    card title and description are grapheme-safe cuts."""
    account = sharing.account("linkedin:org")
    composed = sharing.compose(article, account, marker=MARKER)
    body = sharing.build_request(article, account, article.published, marker=MARKER).body
    commentary = body["commentary"]
    assert composed.url in commentary  # the template puts the link in the text: intact
    links = list(re.finditer(r"https?://[^\s\\]+", commentary))
    inside = {i for m in links for i in range(m.start(), m.end())}
    i = 0
    while i < len(commentary):
        char = commentary[i]
        if i in inside:
            assert char != "\\", f"escape inside a URL at {i}: {commentary!r}"
        elif char == "\\":
            assert i + 1 < len(commentary) and commentary[i + 1] in RESERVED
            i += 2
            continue
        elif char == "#":
            after = commentary[i + 1 : i + 2]
            assert after and regex.match(r"[\p{L}\p{M}\p{Nd}]", after), "bare #"
        else:
            assert char not in RESERVED, f"unescaped {char!r} at {i}: {commentary!r}"
        i += 1
    assert unescape(commentary) == composed.text or len(commentary) >= 2900
    card = body["content"]["article"]
    assert_cut_whole(card["title"], article.title)
    if article.summary:
        assert_cut_whole(card["description"], article.summary)
    assert card["source"] == composed.url


@pytest.mark.parametrize("article", ARTICLES, ids=IDS)
def test_reddit_and_facebook_cuts_are_grapheme_safe(sharing: Sharing, article: Any) -> None:
    """Reddit titles fit 300 characters with whole graphemes; links are ASCII and whole."""
    reddit = sharing.account("reddit:desk")
    body = sharing.build_request(article, reddit, article.published, marker=MARKER).body
    assert len(body["title"]) <= 300
    assert_cut_whole(body["title"], sharing._values(article, "", ())["title"])
    assert body["url"].isascii() and extract_urls(f" {body['url']} ") == [body["url"]]
    facebook = sharing.account("facebook:demo-page")
    fb = sharing.build_request(article, facebook, article.published, marker=MARKER).body
    assert fb["link"].isascii() and extract_urls(f" {fb['link']} ") == [fb["link"]]


@pytest.mark.parametrize("article", ARTICLES, ids=IDS)
def test_tracking_replaced_and_hashtags_read_well(sharing: Sharing, article: Any) -> None:
    """Existing utm_* give way to the network's; no hashtag repeats one in the text; at
    most the network's cap; none is a mangled symbol word."""
    account = sharing.account("x:newsdesk")
    composed = sharing.compose(article, account, marker=MARKER)
    assert "newsletter" not in composed.url and "fbclid" not in composed.url
    assert composed.url.count("utm_source=") == 1 and "utm_source=x" in composed.url
    assert len(composed.hashtags) <= 2
    in_text = {t.casefold() for t in re.findall(r"#(\w+)", article.title + article.summary)}
    assert not {t.casefold() for t in composed.hashtags} & in_text
    assert "C" not in composed.hashtags and "NET" not in composed.hashtags


def test_tags_give_way_before_the_headline_is_crushed(sharing: Sharing) -> None:
    """With many tags and a small limit, hashtags go first; the headline keeps ≥ 50."""
    [article] = [a for a in ARTICLES if a.title.startswith("Six tags")]
    account = Account("x", "tight", {"limit": 110, "max_hashtags": 8})
    composed = sharing.compose(article, account)
    head = composed.text.split(" https://")[0]
    assert composed.fits and len(head.removesuffix("…")) >= 50
    assert len(composed.hashtags) == 8 and 0 < composed.text.count("#") < 8


def test_preview_names_terms_that_cannot_be_hashtags(sharing: Sharing) -> None:
    """'$5 deals' and '50% off' are skipped with the reason; C++/C#/U.S. are mapped."""
    [article] = [a for a in ARTICLES if a.title.startswith("$AAPL")]
    messages = [p.message for p in sharing.preview_problems(article)]
    assert any(
        "'$5 deals' gives no hashtag ('$' cannot be part of a hashtag)" in m for m in messages
    )
    assert any("'50% off'" in m for m in messages)
    [cpp] = [a for a in ARTICLES if a.title.startswith("C++")]
    assert sharing.post_hashtags(cpp, "linkedin") == ("CPlusPlus", "CSharp", "FSharp")
    [us] = [a for a in ARTICLES if a.title.startswith("U.S.")]
    assert sharing.post_hashtags(us, "linkedin")[:2] == ("US", "USElection")
