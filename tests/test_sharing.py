"""Sharing: config, credentials, UTM, hashtags, templates, fitting, intents, markup, lint."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sharing_support import ARTICLE_URL, SECRETS, TOKENS, WHEN, make_article, share_table
from twitter_text import extract_urls

from syndicate.adapters.x_length import weighted_length
from syndicate.config import Settings
from syndicate.errors import ConfigError
from syndicate.models import Image, Term
from syndicate.shares.compose import add_query_params, make_hashtag, strip_tracking
from syndicate.shares.sharing import Sharing
from syndicate.wiring import Wiring

MakeSharing = Callable[..., Sharing]


@pytest.fixture
def make_sharing(settings: Settings) -> Iterator[MakeSharing]:
    """Build a Sharing over a real service with a given [share] table and environment."""
    opened: list[tuple[Wiring, Sharing]] = []

    def make(
        share: dict[str, Any] | None = None, env: dict[str, str] | None = None, **overrides: Any
    ) -> Sharing:
        service = Wiring.open(settings.replace(share=share or share_table(), **overrides))
        sharing = Sharing(service.settings, service.clock, env=SECRETS if env is None else env)
        opened.append((service, sharing))
        return sharing

    yield make
    for service, sharing in opened:
        sharing.close()
        service.close()


def query(url: str) -> dict[str, str]:
    """The decoded query of an intent URL, refusing anything that would not decode back."""
    raw = urlsplit(url).query
    assert " " not in url and "#" not in url, url
    pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    assert len({k for k, _ in pairs}) == len(pairs), f"repeated parameter in {url}"
    return dict(pairs)


# --- configuration and credentials -------------------------------------------------------


def test_accounts_are_the_enabled_ones_with_credentials(make_sharing: MakeSharing) -> None:
    """accounts() lists enabled accounts; credentials come from the env, options keep pacing."""
    sharing = make_sharing()
    accounts = {a.key: a for a in sharing.accounts()}
    assert list(accounts) == ["x:newsdesk", "facebook:demo-page", "reddit:desk", "linkedin:org"]
    assert accounts["x:newsdesk"].credentials == {
        "access_token": SECRETS["SYNDICATE_SECRET_X_NEWSDESK_ACCESS_TOKEN"]
    }
    assert accounts["x:newsdesk"].options["daily_cap"] == 20
    assert accounts["facebook:demo-page"].credentials["page_token"].startswith("tok-fb")
    assert sharing.account("x:off").name == "off"
    with pytest.raises(KeyError):
        sharing.account("x:nobody")


def test_secrets_file_fills_credentials_and_env_wins(
    make_sharing: MakeSharing, tmp_path: Path
) -> None:
    """The secrets file gives credentials; an environment variable overrides a filed one."""
    path = tmp_path / "secrets.toml"
    path.write_text('[x.newsdesk]\naccess_token = "filed"\nconsumer_key = "ck"\n')
    sharing = make_sharing(secrets_file=path)
    creds = sharing.account("x:newsdesk").credentials
    assert creds == {
        "access_token": SECRETS["SYNDICATE_SECRET_X_NEWSDESK_ACCESS_TOKEN"],
        "consumer_key": "ck",
    }


def test_env_credentials_go_to_the_longest_matching_account(make_sharing: MakeSharing) -> None:
    """Account "news" does not take the variables of account "news-desk"."""
    table = share_table(
        accounts=[{"network": "x", "name": "news"}, {"network": "x", "name": "news-desk"}]
    )
    env = {
        "SYNDICATE_SECRET_X_NEWS_ACCESS_TOKEN": "a",
        "SYNDICATE_SECRET_X_NEWS_DESK_ACCESS_TOKEN": "b",
    }
    sharing = make_sharing(table, env)
    assert sharing.account("x:news").credentials == {"access_token": "a"}
    assert sharing.account("x:news-desk").credentials == {"access_token": "b"}


def test_bad_secrets_file_is_a_config_error_without_content(
    make_sharing: MakeSharing, tmp_path: Path
) -> None:
    """A broken secrets file names the setting and never echoes its content."""
    path = tmp_path / "secrets.toml"
    path.write_text('[x.newsdesk]\naccess_token = "tok-leak-1234\n')
    sharing = make_sharing(secrets_file=path)
    with pytest.raises(ConfigError) as err:
        sharing.accounts()
    assert "secrets_file" in str(err.value) and "tok-leak" not in str(err.value)


@pytest.mark.parametrize(
    ("table", "named"),
    [
        (share_table(colour="red"), "share.colour"),
        (share_table(sandbox="http://10.0.0.8:8089"), "share.sandbox"),
        (share_table(sandbox="https://sandbox.example.com"), "share.sandbox"),
        (share_table(labels="x"), "share.labels"),
        (share_table(hashtags={"world": "!!!"}), "share.hashtags.world"),
        (share_table(networks={"x": {"template": "{title} {body}"}}), "share.networks.x.template"),
        (share_table(networks={"x": {"template": "{title!r}"}}), "share.networks.x.template"),
        (share_table(networks={"x": {"template": "{title"}}), "share.networks.x.template"),
        (share_table(networks={"x": {"limit": 0}}), "share.networks.x.limit"),
        (
            share_table(accounts=[{"network": "x", "name": "a", "template": "{site} {who}"}]),
            "share.accounts[0].template",
        ),
        (
            share_table(accounts=[{"network": "x", "name": "a", "access_token": "s3"}]),
            "share.accounts[0].access_token",
        ),
        (share_table(accounts=[{"network": "x"}]), "share.accounts[0].name"),
        (
            share_table(accounts=[{"network": "x", "name": "a", "enabled": "yes"}]),
            "share.accounts[0].enabled",
        ),
        (
            share_table(accounts=[{"network": "x", "name": "a"}, {"network": "x", "name": "a"}]),
            "share.accounts[1].name",
        ),
    ],
)
def test_bad_share_settings_name_the_key(
    make_sharing: MakeSharing, table: dict[str, Any], named: str
) -> None:
    """Each bad [share] value raises ConfigError naming exactly the bad key."""
    with pytest.raises(ConfigError) as err:
        make_sharing(table)
    assert err.value.setting == named


def test_unknown_adapter_stops_validation(make_sharing: MakeSharing) -> None:
    """An account on a network with no installed adapter fails validate() by name."""
    sharing = make_sharing(share_table(accounts=[{"network": "mastodon", "name": "toots"}]))
    with pytest.raises(ConfigError) as err:
        sharing.validate()
    assert err.value.setting == "share.accounts[0].network"
    assert 'No adapter named "mastodon"' in str(err.value)


@pytest.mark.parametrize(
    ("account", "option"),
    [
        ({"network": "facebook", "name": "front"}, "page_id"),
        ({"network": "reddit", "name": "desk"}, "subreddit"),
        ({"network": "linkedin", "name": "org"}, "author"),
        ({"network": "x", "name": "news", "slots": ["8am"]}, "8am"),
    ],
)
def test_account_options_are_checked_at_start_up(
    make_sharing: MakeSharing, account: dict[str, Any], option: str
) -> None:
    """A missing network option or bad pacing stops validate() naming the account."""
    sharing = make_sharing(share_table(accounts=[account]))
    with pytest.raises(ConfigError) as err:
        sharing.validate()
    assert err.value.setting.startswith("share.accounts[0]")
    assert option in str(err.value)


def test_sandbox_on_loopback_becomes_every_adapters_base_url(make_sharing: MakeSharing) -> None:
    """With share.sandbox set, each adapter posts to <sandbox>/<network>."""
    sharing = make_sharing(share_table(sandbox="http://127.0.0.1:8089/"))
    sharing.validate()
    assert sharing.adapter("x").base_url == "http://127.0.0.1:8089/x"  # type: ignore[attr-defined]
    request = sharing.build_request(make_article(), sharing.account("linkedin:org"), WHEN)
    assert request.url == "http://127.0.0.1:8089/linkedin/rest/posts"
    assert sharing.adapter("x") is sharing.adapter("x")


# --- URLs, UTM and hashtags ----------------------------------------------------------------


def test_utm_is_added_before_the_fragment_keeping_the_query() -> None:
    """Existing parameters stay byte for byte, a repeated key is replaced, # stays last."""
    url = "https://n.example/a?id=7&q=a%20b&utm_source=old#top"
    tracked = add_query_params(url, {"utm_source": "x", "utm_medium": "social media"})
    assert tracked == "https://n.example/a?id=7&q=a%20b&utm_source=x&utm_medium=social%20media#top"
    assert add_query_params("https://n.example/", {"a": "1"}) == "https://n.example/?a=1"


def test_tracked_url_merges_network_account_and_marker(make_sharing: MakeSharing) -> None:
    """Account UTM overrides the network's; the ledger's marker rides along as share_ref."""
    table = share_table()
    table["accounts"][0]["utm"] = {"utm_campaign": "desk", "utm_medium": "paid"}
    sharing = make_sharing(table)
    account = sharing.account("x:newsdesk")
    composed = sharing.compose(make_article(), account, marker="k1")
    assert composed.url == (
        "https://news.example.com/world/nato-kursk?id=7&q=a%20b&utm_source=x"
        "&utm_medium=paid&utm_campaign=desk&share_ref=k1#top"
    )


def test_canonical_url_drops_tracking_only() -> None:
    """strip_tracking removes utm_* and click ids and keeps every other parameter."""
    url = "https://n.example/a?id=7&utm_source=x&fbclid=abc&utm_id=k#f"
    assert strip_tracking(url, ("utm_id",)) == "https://n.example/a?id=7#f"


@pytest.mark.parametrize(
    ("label", "tag"),
    [
        ("World news", "WorldNews"),
        ("COVID-19", "COVID19"),
        ("2024", ""),
        ("#Kursk", "Kursk"),
        ("日本 政治", "日本政治"),
        ("Élysée palace", "ÉlyséePalace"),
        ("हिन्दी", "हिन्दी"),
        ("snake_case", "SnakeCase"),
        ("_under_", "under"),
        ("C++", "CPlusPlus"),
        ("C#", "CSharp"),
        ("U.S.", "US"),
        ("U.S. election", "USElection"),
        ("AT&T", "ATandT"),
        ("Science & Tech", "ScienceTech"),
        ("$5 deals", ""),
        ("50% off", ""),
        ("می‌خواهم", "می‌خواهم"),
        ("!!!", ""),
        ("1st place", "1stPlace"),
    ],
)
def test_make_hashtag(label: str, tag: str) -> None:
    """Labels become hashtags of letters, marks, digits and joiners; symbols that carry
    meaning are spelled out (C++) or the label is skipped; digits alone are none."""
    assert make_hashtag(label) == tag
    if tag:
        assert all(c in "\u200c\u200d" or unicodedata.category(c)[0] in "LMN" for c in tag)
        assert not tag.isdecimal()


def test_hashtags_map_dedupe_and_drop(make_sharing: MakeSharing) -> None:
    """The map renames, "" drops a term, and a tag equal to a mapped one appears once."""
    sharing = make_sharing()
    assert sharing.hashtags(make_article()) == ("WorldNews", "NorthKorea")


# --- templates and fitting -------------------------------------------------------------------


def test_templates_per_network_and_account(make_sharing: MakeSharing) -> None:
    """An account template overrides the network's; every variable is filled."""
    table = share_table()
    table["networks"]["facebook"]["template"] = "{title} by {author}"
    table["accounts"][1]["template"] = "{site}: {title} ({author}) {hashtags}\n\n{summary}"
    table["accounts"].append({"network": "facebook", "name": "other", "page_id": "2"})
    sharing = make_sharing(table, site_title="Daily “News”")
    article = make_article()
    page = sharing.compose(article, sharing.account("facebook:demo-page"))
    assert page.text == (
        f"Daily “News”: {article.title} (Jane Doe) #WorldNews #NorthKorea\n\n{article.summary}"
    )
    other = sharing.compose(article, sharing.account("facebook:other"))
    assert other.text == f"{article.title} by Jane Doe"


def test_empty_values_leave_no_stray_spaces(make_sharing: MakeSharing) -> None:
    """Without hashtags or summary the text has no doubled spaces or blank-line runs."""
    sharing = make_sharing()
    article = make_article(categories=(), tags=(), summary="")
    text = sharing.compose(article, sharing.account("linkedin:org")).text
    assert text == article.title
    x = sharing.compose(article, sharing.account("x:newsdesk")).text
    assert "  " not in x and not x.endswith(" ")


def _x_text(make_sharing: MakeSharing, title: str) -> tuple[str, str]:
    sharing = make_sharing()
    composed = sharing.compose(make_article(title=title), sharing.account("x:newsdesk"))
    assert composed.fits and weighted_length(composed.text) <= 280
    request = sharing.build_request(make_article(title=title), sharing.account("x:newsdesk"), WHEN)
    assert request.body == {"text": composed.text}
    return composed.text, composed.url


def test_x_long_title_is_cut_at_a_word_keeping_url_and_hashtags(
    make_sharing: MakeSharing,
) -> None:
    """A long title is cut at a word boundary with an ellipsis; URL and hashtags stay whole."""
    title = " ".join(f"word{i}" for i in range(120))
    text, url = _x_text(make_sharing, title)
    head = text.split(f" {url}")[0]
    assert head.endswith("…") and title.startswith(head[:-1]) and title[len(head) - 1] == " "
    assert text.endswith(f"{url} #WorldNews #NorthKorea")


def test_x_emoji_and_cjk_titles_fit_by_weight(make_sharing: MakeSharing) -> None:
    """Emoji and CJK count 2 each; a CJK run without spaces is cut by characters."""
    text, url = _x_text(make_sharing, "😷 " * 150)
    assert text.startswith("😷 😷") and url in text
    cjk = "北朝鮮の軍隊がクルスクに" * 30
    text, url = _x_text(make_sharing, cjk)
    head = text.split(f" {url}")[0]
    assert head.endswith("…") and cjk.startswith(head[:-1]) and len(head) > 50


def test_x_never_splits_an_emoji_sequence(make_sharing: MakeSharing) -> None:
    """A cut through a run of ZWJ family emoji keeps whole sequences only."""
    family = "👨\u200d👩\u200d👧\u200d👦"
    text, url = _x_text(make_sharing, family * 200)
    head = text.split(f" {url}")[0][:-1]
    assert head and head == family * (len(head) // len(family))


def test_x_urls_inside_titles_stay_whole(make_sharing: MakeSharing) -> None:
    """A URL in the title is kept entire or dropped, never cut through."""
    inner = "https://example.org/reports/2026/north-korea-kursk-deployment"
    title = "Read " + " ".join(f"{inner}?p={i} and more words" for i in range(20))
    text, url = _x_text(make_sharing, title)
    allowed = {url, *(f"{inner}?p={i}" for i in range(20))}
    assert set(extract_urls(text)) <= allowed


def test_x_title_of_only_hashtags(make_sharing: MakeSharing) -> None:
    """A title made only of hashtags keeps whole hashtags; none is cut."""
    tags = [f"#Hashtag{i}" for i in range(60)]
    text, url = _x_text(make_sharing, " ".join(tags))
    assert url in text and text.startswith("#Hashtag0 #Hashtag1")
    for word in text.replace("…", " ").split():
        assert not word.startswith("#") or word in {*tags, "#WorldNews", "#NorthKorea"}


def test_reddit_title_and_linkedin_commentary_limits(make_sharing: MakeSharing) -> None:
    """Reddit titles stay within 300 characters and LinkedIn commentary within 3000."""
    sharing = make_sharing()
    article = make_article(title="headline " * 60, summary="detail " * 800)
    reddit = sharing.build_request(article, sharing.account("reddit:desk"), WHEN)
    assert reddit.body is not None and len(reddit.body["title"]) <= 300
    linkedin = sharing.compose(article, sharing.account("linkedin:org"))
    assert linkedin.cut and len(linkedin.text) <= 3000
    assert linkedin.text.startswith(article.title.strip()) and linkedin.text.endswith(
        "#WorldNews #NorthKorea"
    )


def test_template_too_long_for_x_is_reported(make_sharing: MakeSharing) -> None:
    """A template whose fixed text alone is over the limit is marked as not fitting."""
    table = share_table()
    table["networks"]["x"]["template"] = "x" * 300 + " {title} {url}"
    sharing = make_sharing(table)
    composed = sharing.compose(make_article(), sharing.account("x:newsdesk"))
    assert composed.cut and not composed.fits
    problems = sharing.preview_problems(make_article())
    assert any(p.network == "x" and p.severity == "error" for p in problems)


# --- intents --------------------------------------------------------------------------------

NASTY_TITLES = [
    "NATO: “North Korean troops” in Kursk — 北朝鮮 and שלום 😷",
    "A & B = C? 100% #1 / 50+50 'quotes' \"double\"",
    "👨\u200d👩\u200d👧\u200d👦 family 🇯🇵 flag; café (e\u0301)",
]


@pytest.mark.parametrize("title", NASTY_TITLES)
def test_every_intent_value_round_trips(make_sharing: MakeSharing, title: str) -> None:
    """Each network's intent decodes back exactly to the tracked URL, text and hashtags.

    Text is compared in NFC, the canonical form X counts in and ingest stores.
    """
    sharing = make_sharing()
    article = make_article(title=title)
    intents = sharing.intent_urls(article)
    assert list(intents) == ["facebook", "x", "reddit", "linkedin"]
    for network, intent in intents.items():
        expected = sharing.tracked_url(article, network)
        assert expected.startswith(ARTICLE_URL.split("#")[0])
        values = query(intent)
        assert values.get("u", values.get("url")) == expected, network
    title = unicodedata.normalize("NFC", title)
    x = query(intents["x"])
    assert x["text"] == title and x["hashtags"] == "WorldNews,NorthKorea"
    assert query(intents["x"])["url"] == (
        "https://news.example.com/world/nato-kursk?id=7&q=a%20b&utm_source=x&utm_medium=social#top"
    )
    assert query(intents["reddit"]) == {
        "url": sharing.tracked_url(article, "reddit"),
        "title": title,
        "type": "LINK",
    }


def test_x_intent_for_an_account_adds_via_and_fits(make_sharing: MakeSharing) -> None:
    """The account's intent has via; text, URL, hashtags and via together fit 280."""
    sharing = make_sharing()
    article = make_article(title="word " * 100)
    intent = sharing.intent_url(article, "x", sharing.account("x:newsdesk"))
    values = query(intent)
    assert values["via"] == "newsdesk"
    tags = " ".join("#" + t for t in values["hashtags"].split(",") if t)
    whole = f"{values['text']} {values['url']} {tags} via @newsdesk"
    assert values["text"].endswith("…") and weighted_length(whole) <= 280


# --- share bar and meta tags ------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def parse_tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.found


def test_share_bar_default(make_sharing: MakeSharing) -> None:
    """Four plain links in order with the «||» separator, rel, target and aria labels."""
    sharing = make_sharing()
    article = make_article()
    html = sharing.share_bar_html(article)
    text = re.sub(r"<[^>]+>", "", html)
    assert text == "Share on Facebook «||» Share on X «||» Share on Reddit «||» Share on LinkedIn"
    links = [attrs for tag, attrs in parse_tags(html) if tag == "a"]
    assert [a["href"] for a in links] == list(sharing.intent_urls(article).values())
    for a, label in zip(links, ["Facebook", "X", "Reddit", "LinkedIn"], strict=True):
        assert a["rel"] == "noopener noreferrer" and a["target"] == "_blank"
        assert a["aria-label"] == f"Share on {label} (opens in a new tab)"
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert {tag for tag, _ in parse_tags(html)} == {"p", "a"}


def test_share_bar_order_labels_and_separator_are_configurable(
    make_sharing: MakeSharing,
) -> None:
    """labels sets order, a network's label its text; the separator is escaped."""
    table = share_table(labels=["x", "linkedin"], separator=" <|> ")
    table["networks"]["x"]["label"] = "Share on Twitter"
    html = make_sharing(table).share_bar_html(make_article())
    assert re.sub(r"<a [^>]+>|</a>|</?p[^>]*>", "", html) == (
        "Share on Twitter &lt;|&gt; Share on LinkedIn"
    )


def test_meta_tags(make_sharing: MakeSharing) -> None:
    """All Open Graph and X card tags; og:url is canonical, without tracking parameters."""
    sharing = make_sharing()
    article = make_article(url="https://news.example.com/a?id=7&utm_source=rss&fbclid=z")
    tags = {
        attrs.get("property") or attrs.get("name"): attrs["content"]
        for tag, attrs in parse_tags(sharing.meta_tags_html(article))
        if tag == "meta"
    }
    assert tags["og:type"] == "article" and tags["og:title"] == article.title
    assert tags["og:description"] == article.summary
    assert tags["og:url"] == "https://news.example.com/a?id=7"
    assert tags["og:image"] == "https://news.example.com/img/lead.jpg"
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    assert tags["og:image:type"] == "image/jpeg"
    assert tags["og:site_name"] == "syndicate demo news"
    assert tags["twitter:card"] == "summary_large_image" and tags["twitter:site"] == "@newsroom"
    assert "fb:app_id" not in tags
    bare = sharing.meta_tags_html(make_article(image=None))
    assert "og:image" not in bare and "summary_large_image" not in bare
    assert '<meta name="twitter:card" content="summary">' in bare


def test_meta_tags_og_url_without_fragment_and_app_id(make_sharing: MakeSharing) -> None:
    """og:url drops the #fragment and the marker; fb:app_id appears when configured."""
    sharing = make_sharing(share_table(facebook_app_id="1234567890"))
    article = make_article(url="https://news.example.com/東京?id=7&share_ref=k#section-2")
    tags = {
        attrs.get("property") or attrs.get("name"): attrs["content"]
        for tag, attrs in parse_tags(sharing.meta_tags_html(article))
        if tag == "meta"
    }
    assert tags["og:url"] == "https://news.example.com/%E6%9D%B1%E4%BA%AC?id=7"
    assert tags["fb:app_id"] == "1234567890"


# --- preview linter -----------------------------------------------------------------------------


def _problems(make_sharing: MakeSharing, **changes: Any) -> set[tuple[str, str]]:
    sharing = make_sharing()
    return {(p.network, p.severity) for p in sharing.preview_problems(make_article(**changes))}


def test_lint_clean_article_has_no_problems(make_sharing: MakeSharing) -> None:
    """A 1200×630 JPEG with a short title and description passes every network."""
    assert _problems(make_sharing) == set()


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (None, {("all", "warning")}),
        (
            Image("https://n.example/i.jpg", "image/jpeg", 1, 250, 150),
            {("facebook", "error"), ("x", "error"), ("linkedin", "warning")},
        ),
        (Image("https://n.example/i.webp", None, 1, 1200, 630), {("linkedin", "error")}),
        (
            Image("https://n.example/i.svg", None, 1, 1200, 630),
            {("facebook", "error"), ("x", "error"), ("linkedin", "error")},
        ),
        (Image("https://n.example/i.jpg", "image/jpeg"), {("all", "warning")}),
        (
            Image("https://n.example/i.png", "image/png", 6_000_000, 1200, 630),
            {("x", "error"), ("linkedin", "error")},
        ),
    ],
)
def test_lint_images(
    make_sharing: MakeSharing, image: Image | None, expected: set[tuple[str, str]]
) -> None:
    """Missing, small, rejected-type, unsized and oversize images are each reported."""
    assert _problems(make_sharing, image=image) == expected


def test_lint_long_title_and_description(make_sharing: MakeSharing) -> None:
    """Titles over LinkedIn's ~200 and Reddit's 300, long descriptions and X cuts warn."""
    found = _problems(make_sharing, title="long title " * 40, summary="s " * 400)
    assert found == {
        ("linkedin", "warning"),
        ("reddit", "warning"),
        ("facebook", "warning"),
        ("x", "warning"),
    }


def test_no_token_in_any_preview(make_sharing: MakeSharing) -> None:
    """Request previews, reprs and composed texts never contain a credential."""
    sharing = make_sharing()
    article = make_article()
    for account in sharing.accounts():
        request = sharing.build_request(article, account, WHEN)
        shown = f"{request.preview()} {request!r} {account!r} {sharing.compose(article, account)}"
        assert not any(token in shown for token in TOKENS)


def test_categories_are_used_when_tags_are_absent(make_sharing: MakeSharing) -> None:
    """Hashtags come from categories alone when an article has no tags."""
    sharing = make_sharing()
    article = make_article(categories=(Term("business", "Business"),), tags=())
    assert sharing.hashtags(article) == ("Business",)
