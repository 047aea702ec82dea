"""Test helpers for syndicate and for third-party adapters (in the spirit of structlog.testing).

``check_adapter(cls, base_url=…, account=…)`` runs the adapter contract against a
server the caller provides (the :class:`syndicate.sandbox.Sandbox` for ours, any local
fake for a third party's) and raises AssertionError naming the first broken rule.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from syndicate.adapters import REQUIRED_ATTRS, REQUIRED_METHODS
from syndicate.adapters.base import Account, Outcome, ShareAdapter, network_facts
from syndicate.models import Article, Image, Term
from syndicate.shares.compose import check_template

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TRICKY_TITLE = "“Quotes” & = ? # + % — 東京 😷 مرحبا (test) [x] *y* _z_ ~w~ @me <b> \\ |"


def make_article(**overrides: Any) -> Article:
    """A valid published article with awkward characters; override any field."""
    fields: dict[str, Any] = {
        "id": "a-1",
        "title": "City council approves 2026 budget",
        "url": "https://news.example.com/2026/11/20/budget",
        "content_html": "<p>The council voted 7–2.</p>",
        "summary": "The council voted 7–2 to approve the budget.",
        "author": "Jane Doe",
        "published": NOW,
        "updated": NOW,
        "categories": (Term("local", "Local"),),
        "tags": (Term("budget", "Budget"),),
        "image": Image("https://news.example.com/img/budget.jpg", "image/jpeg", None, 1200, 630),
        "guid": "https://news.example.com/2026/11/20/budget",
    }
    fields.update(overrides)
    return Article(**fields)


class _NoNetwork(requests.Session):
    """A session that fails the test if anything tries to use it."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("build()/intent_url() must not do I/O")


def check_adapter(
    cls: type[Any],
    *,
    base_url: str,
    account: Account,
    session: requests.Session | None = None,
    options: dict[str, Any] | None = None,
    article: Article | None = None,
    expect_posted: bool = True,
) -> None:
    """Assert that *cls* keeps the ShareAdapter contract.

    Checks: the class attributes and methods exist and an instance satisfies the
    Protocol; ``intent_url`` and ``build`` are pure (equal output, no network use);
    the intent URL decodes back to the article URL exactly; ``preview()`` and ``repr()``
    show no credential; the network facts it states have the right types and a template
    syndicate can fill; ``send`` against *base_url* (a server answering like the network)
    posts, with a string remote id.
    """
    _check_shape(cls)
    _check_facts(cls)
    article = article or make_article(
        url="https://news.example.com/a/1?q=a&b=%2B#frag", title=TRICKY_TITLE
    )
    with _NoNetwork() as offline:
        adapter = cls(options, session=offline, base_url=base_url)
        assert isinstance(adapter, ShareAdapter), f"{cls.__name__} is not a ShareAdapter"
        _check_intent(adapter, article, account)
        first = adapter.build(article, account, NOW)
        assert first == adapter.build(article, account, NOW), "build() is not deterministic"
        _check_secrets(first, account)
    if expect_posted:
        _check_send(cls, options, session, base_url, account, article)


def _check_shape(cls: type[Any]) -> None:
    missing = [a for a in (*REQUIRED_ATTRS, *REQUIRED_METHODS) if not hasattr(cls, a)]
    assert not missing, f"{cls.__name__} lacks {', '.join(missing)}"
    assert isinstance(cls.name, str) and cls.name, "name must be a non-empty string"
    assert all(callable(getattr(cls, m)) for m in REQUIRED_METHODS), "methods must be callable"


def _check_facts(cls: type[Any]) -> None:
    facts = network_facts(cls)
    try:
        check_template(facts.default_template)
    except ValueError as exc:
        raise AssertionError(f"default_template {facts.default_template!r}: {exc}") from None
    limit = facts.length_limit
    assert limit is None or (isinstance(limit, int) and limit > 0), "length_limit must be > 0"
    length = facts.text_length(TRICKY_TITLE)
    assert isinstance(length, int) and length > 0, "text_length() must count characters"
    assert isinstance(facts.title_is_text, bool), "title_is_text must be a bool"


def _check_intent(adapter: Any, article: Article, account: Account) -> None:
    link = adapter.intent_url(article, account)
    assert link == adapter.intent_url(article, account), "intent_url() is not deterministic"
    parts = urlsplit(link)
    assert parts.scheme == "https" and not parts.fragment, f"bad intent URL {link}"
    assert " " not in link, "intent URL has a raw space"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"repeated parameter in {link}"
    assert any(article.url in v for _, v in pairs), f"article URL does not round-trip: {link}"
    assert all(v for _, v in pairs), f"empty parameter in {link}"


def _check_secrets(request: Any, account: Account) -> None:
    shown = f"{request.preview()!r} {request!r} {account!r}"
    for key, secret in account.credentials.items():
        assert secret not in shown, f"credential {key} leaks into preview/repr"


def _check_send(
    cls: type[Any],
    options: dict[str, Any] | None,
    session: requests.Session | None,
    base_url: str,
    account: Account,
    article: Article,
) -> None:
    own = session is None
    session = session or requests.Session()
    try:
        adapter = cls(options, session=session, base_url=base_url)
        unique = replace(article, url=f"{article.url.split('#')[0]}&check={id(adapter)}")
        result = adapter.send(adapter.build(unique, account, NOW), account, NOW)
        assert result.outcome is Outcome.POSTED, f"send() did not post: {result}"
        assert isinstance(result.remote_id, str) and result.remote_id, "remote_id must be str"
        for key, secret in account.credentials.items():
            assert secret not in repr(result), f"credential {key} leaks into the result"
        adapter.close()
    finally:
        if own:
            session.close()
