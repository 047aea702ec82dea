"""Sharing: everything between an article and the adapters.

:class:`Sharing` reads ``[share]`` (accounts, credentials, templates, UTM, hashtags),
builds one adapter per network, composes each post's text and tracked URL, and renders
the share bar and link-preview tags. The ledger asks it for accounts and requests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import requests

from syndicate import adapters as registry
from syndicate import net
from syndicate.adapters.base import (
    Account,
    NetworkFacts,
    ShareAdapter,
    ShareRequest,
    network_facts,
)
from syndicate.content.text import grapheme_count
from syndicate.errors import AdapterNotFound, ConfigError
from syndicate.models import Article, Term
from syndicate.shares import accounts as share_config
from syndicate.shares import markup, preview
from syndicate.shares.compose import (
    Hashtag,
    add_query_params,
    hashtag_choices,
    hashtag_for,
    hashtag_text,
    hashtags_for,
    linkable_text,
    linkable_url,
    render,
    shorten_to_fit,
    strip_tracking,
    tags_in,
)
from syndicate.shares.ledger import Pacing, share_key
from syndicate.shares.preview import Problem

if TYPE_CHECKING:
    from syndicate.config import Settings


DEFAULT_MAX_HASHTAGS = {"x": 2}
MAX_HASHTAGS = 3
# A cut headline keeps at least this many characters (graphemes) while hashtags remain to
# give way: hashtags are dropped before the headline is crushed to a few words.
MIN_TITLE = 50


@dataclass(frozen=True)
class Composed:
    """One post's pieces: its text, tracked URL, headline and hashtags (no ``#``).

    ``cut`` is true when the text had to be shortened; ``fits`` false when even the
    shortest text is over the network's limit.
    """

    text: str
    url: str
    title: str
    hashtags: tuple[str, ...]
    cut: bool = False
    fits: bool = True


class Sharing:
    """The share side: config, accounts, adapters, composition, markup."""

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], datetime],
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.config = share_config.parse(settings.share)
        self._env = os.environ if env is None else env
        self._adapters: dict[str, ShareAdapter] = {}
        self._session: requests.Session | None = None
        self._accounts: list[Account] | None = None

    # --- configuration ------------------------------------------------------------------

    def validate(self) -> None:
        """Fail start-up early: every named adapter installed and built, secrets readable."""
        problems = self.problems()
        if problems:
            raise problems[0]

    def problems(self, *, credentials: bool = False) -> list[ConfigError]:
        """Every problem of the share configuration, each naming where it sits.

        With *credentials*, also each credential an account lacks (``syndicate check``;
        at start-up a missing one only holds that account when it first posts).
        """
        found = []
        for network in self.config.network_names():
            try:
                self.adapter(network)
            except AdapterNotFound as exc:
                installed = ", ".join(registry.available()) or "none"
                found.append(ConfigError(self._where(network), f"{exc} (installed: {installed})"))
        try:
            accounts = {a.key: a for a in self._all_accounts()}
        except ConfigError as exc:
            return [*found, exc]
        probe = _probe_article(self.clock())
        for spec in self.config.accounts:
            found += self._account_problems(spec, accounts[spec.key], probe, credentials)
        return found

    def _account_problems(
        self, spec: share_config.AccountSpec, account: Account, probe: Article, credentials: bool
    ) -> list[ConfigError]:
        found = []
        try:
            Pacing.from_options(spec.options, self.settings.timezone)
        except ValueError as exc:
            found.append(ConfigError(spec.where, str(exc)))
        adapter = self._adapters.get(spec.network)
        if adapter is None:
            return found  # not installed: reported once per network
        if credentials:
            try:
                missing = list(getattr(adapter, "missing_credentials", lambda _: [])(account))
            except ConfigError as exc:
                missing = []
                found.append(ConfigError(f"{spec.where}: {exc.setting}", exc.reason))
            found += [_missing_credential(spec, name) for name in missing]
        if spec.enabled:
            # Building a request checks the account's network options (page_id,
            # subreddit, author…) now rather than at its first post.
            try:
                self.build_request(probe, account, probe.published)
            except ConfigError as exc:
                found.append(ConfigError(f"{spec.where}: {exc.setting}", exc.reason))
        return found

    def _where(self, network: str) -> str:
        for spec in self.config.accounts:
            if spec.network == network:
                return f"{spec.where}.network"
        return f"share.networks.{network}" if network in self.config.networks else "share.labels"

    def _all_accounts(self) -> list[Account]:
        if self._accounts is None:
            secrets = share_config.read_secrets_file(self.settings.secrets_file)
            self._accounts = share_config.build_accounts(self.config.accounts, self._env, secrets)
        return self._accounts

    def accounts(self) -> list[Account]:
        """The enabled accounts, with their credentials."""
        enabled = {spec.key for spec in self.config.accounts if spec.enabled}
        return [a for a in self._all_accounts() if a.key in enabled]

    def account(self, key: str) -> Account:
        """The configured account ``network:name`` (enabled or not); KeyError if none."""
        for account in self._all_accounts():
            if account.key == key:
                return account
        raise KeyError(f"no account {key!r} in [share.accounts]")

    def adapter(self, network: str) -> ShareAdapter:
        """The one adapter instance for *network*, built on first use."""
        if network not in self._adapters:
            cls = registry.load(network)
            base_url = f"{self.config.sandbox}/{network}" if self.config.sandbox else None
            self._adapters[network] = cls(
                dict(self.config.options(network)), session=self.session, base_url=base_url
            )
        return self._adapters[network]

    @property
    def session(self) -> requests.Session:
        """The HTTP session every adapter shares."""
        if self._session is None:
            agent = net.user_agent_for(self.settings.public_url)
            self._session = net.make_session(agent, env_proxies=True)
        return self._session

    def close(self) -> None:
        """Close the adapters and the shared session."""
        for adapter in self._adapters.values():
            close = getattr(adapter, "close", None)
            if close is not None:
                close()
        self._adapters.clear()
        if self._session is not None:
            self._session.close()
            self._session = None

    # --- composition ----------------------------------------------------------------------

    def _option(self, network: str, account: Account | None, key: str, default: Any) -> Any:
        if account is not None and key in account.options:
            return account.options[key]
        return self.config.options(network).get(key, default)

    def tracked_url(
        self,
        article: Article,
        network: str,
        account: Account | None = None,
        marker: str | None = None,
    ) -> str:
        """The article URL as the network will parse it, tracked.

        Existing ``utm_*`` parameters are replaced by the network's (then the account's)
        unless ``replace_utm = false``; the ledger's *marker* rides along under
        ``share.marker_param``; the result is an ASCII URI a link finder takes whole.
        """
        params = {**self.config.options(network).get("utm", {})}
        if account is not None:
            params.update(account.options.get("utm", {}))
        if marker:
            params[self.config.marker_param] = marker
        base = article.url
        if self._option(network, account, "replace_utm", self.config.replace_utm):
            base = strip_tracking(base)
        return linkable_url(add_query_params(base, params))

    def hashtags(self, article: Article) -> tuple[str, ...]:
        """Valid hashtags for the article's categories and tags, through ``[share.hashtags]``."""
        return hashtags_for((*article.categories, *article.tags), self.config.hashtags)

    def hashtag_report(self, article: Article, network: str) -> list[Hashtag]:
        """Each term's hashtag on *network*, or why it gets none (shown by ``preview``)."""
        choices = hashtag_choices((*article.categories, *article.tags), self.config.hashtags)
        written = tags_in(f"{article.title}\n{article.summary}")
        cap = self._max_hashtags(network, None)
        report, kept = [], 0
        for choice in choices:
            if choice.tag and choice.tag.casefold() in written:
                choice = Hashtag(choice.label, "", f"#{choice.tag} is already in the text")
            elif choice.tag and kept >= cap:
                choice = Hashtag(choice.label, "", f"{network} takes at most {cap} hashtags")
            elif choice.tag:
                kept += 1
            report.append(choice)
        return report

    def unusable_terms(self, article: Article) -> list[tuple[Term, str]]:
        """Terms that cannot be hashtags and are not mapped, each with the reason."""
        found = []
        for term in (*article.categories, *article.tags):
            if term.slug not in self.config.hashtags:
                made = hashtag_for(term.label)
                if not made.tag:
                    found.append((term, made.reason))
        return found

    def post_hashtags(
        self, article: Article, network: str, account: Account | None = None
    ) -> tuple[str, ...]:
        """The hashtags a post on *network* carries: none already in the text, capped."""
        written = tags_in(f"{article.title}\n{article.summary}")
        tags = [t for t in self.hashtags(article) if t.casefold() not in written]
        return tuple(tags[: self._max_hashtags(network, account)])

    def _max_hashtags(self, network: str, account: Account | None) -> int:
        default = DEFAULT_MAX_HASHTAGS.get(network, MAX_HASHTAGS)
        return int(self._option(network, account, "max_hashtags", default))

    def _values(self, article: Article, url: str, tags: tuple[str, ...]) -> dict[str, str]:
        return {
            "title": linkable_text(article.title),
            "summary": linkable_text(article.summary),
            "url": url,
            "hashtags": hashtag_text(tags),
            "author": article.author,
            "site": self.settings.site_title,
        }

    def facts(self, network: str) -> NetworkFacts:
        """The network's facts, as its adapter states them."""
        return network_facts(self.adapter(network))

    def compose(self, article: Article, account: Account, marker: str | None = None) -> Composed:
        """The post for *account*: its template filled and fitted to the network's limit.

        *marker* is the ledger job's share key; by default the key of the article's first
        job on the account, so a preview shows exactly what the worker will send.
        """
        network = account.network
        if marker is None:
            marker = share_key(article.id, network, account.name)
        url = self.tracked_url(article, network, account, marker)
        tags = self.post_hashtags(article, network, account)
        facts = self.facts(network)
        template = self._option(network, account, "template", facts.default_template)
        limit = self._option(network, account, "limit", facts.length_limit)
        measure = facts.text_length
        text, cut, fits = _fit(
            template,
            self._values(article, url, tags),
            tags,
            lambda t: limit is None or 0 < measure(t) <= limit,
            int(self._option(network, account, "min_title", MIN_TITLE)),
        )
        title = text if facts.title_is_text else article.title
        return Composed(text, url, title, tags, cut, fits)

    def build_request(
        self, article: Article, account: Account, now: datetime, marker: str | None = None
    ) -> ShareRequest:
        """The exact API request that would post *article* to *account* (no I/O).

        The same *marker* (by default the first job's share key, see :meth:`compose`) gives
        the same request, byte for byte, apart from credentials added at send time.
        """
        c = self.compose(article, account, marker)
        return self.adapter(account.network).build(
            article, account, now, text=c.text, url=c.url, title=c.title
        )

    def intent_url(self, article: Article, network: str, account: Account | None = None) -> str:
        """The "Share on …" link for *network* (the account adds its UTM and ``via``)."""
        url = self.tracked_url(article, network, account)
        tags = self.post_hashtags(article, network, account)
        facts = self.facts(network)
        template = self._option(network, account, "template", facts.default_template)
        # The intent carries URL and hashtags as parameters of their own, so the text
        # leaves them out; on X text, URL, hashtags and via together must fit the limit.
        values = {**self._values(article, url, tags), "url": "", "hashtags": ""}
        via = str(account.options.get("via", "")).lstrip("@") if account else ""
        extras = " ".join(p for p in (url, hashtag_text(tags), f"via @{via}" if via else "") if p)
        limit = self._option(network, account, "limit", facts.length_limit)
        measure = facts.text_length
        text, _, _ = _fit(
            template,
            values,
            (),
            lambda t: limit is None or measure(f"{t} {extras}".strip()) <= limit,
            int(self._option(network, account, "min_title", MIN_TITLE)),
        )
        title = text if facts.title_is_text else article.title
        return self.adapter(network).intent_url(
            article, account, text=text, url=url, title=title, hashtags=tags
        )

    def intent_urls(self, article: Article) -> dict[str, str]:
        """Share-intent links for the networks of the share bar, in bar order."""
        return {network: self.intent_url(article, network) for network in self.config.labels}

    # --- markup and lint ------------------------------------------------------------------

    def share_bar_html(self, article: Article) -> str:
        """The "Share on Facebook «||» Share on X …" bar: plain links, escaped, no script."""
        links = [(self._label(network), url) for network, url in self.intent_urls(article).items()]
        return markup.share_bar(links, self.config.separator)

    def _label(self, network: str) -> str:
        label = self.config.options(network).get("label")
        return str(label) if label else f"Share on {self.adapter(network).label}"

    def canonical_url(self, article: Article) -> str:
        """The article URL without tracking parameters or fragment, as an ASCII URI."""
        url = strip_tracking(article.url, (self.config.marker_param,))
        return linkable_url(url.partition("#")[0])

    def meta_tags_html(self, article: Article) -> str:
        """Open Graph and X card ``<meta>`` tags for the article page."""
        return markup.meta_tags(
            article,
            canonical_url=self.canonical_url(article),
            site_name=self.settings.site_title,
            twitter_site=self.config.twitter_site,
            facebook_app_id=self.config.facebook_app_id,
        )

    def networks(self) -> list[str]:
        """Networks readers or accounts share to: the bar's, then the enabled accounts'."""
        return list(dict.fromkeys([*self.config.labels, *(a.network for a in self.accounts())]))

    def preview_problems(self, article: Article) -> list[Problem]:
        """What will look wrong or be refused when *article* is shared (docs/social.md §5)."""
        problems = preview.lint(article, self.networks())
        problems += [
            Problem(
                "all",
                "warning",
                f"{term.label!r} gives no hashtag ({why}); map it under [share.hashtags]",
            )
            for term, why in self.unusable_terms(article)
        ]
        for account in self.accounts():
            composed = self.compose(article, account)
            if not composed.fits:
                problems.append(
                    Problem(
                        account.network,
                        "error",
                        f"{account.key}: the text "
                        "does not fit even after cutting; shorten the template",
                    )
                )
            elif composed.cut:
                problems.append(
                    Problem(
                        account.network,
                        "warning",
                        f"{account.key}: the text was cut to fit the network's limit",
                    )
                )
        return problems


def _fit(
    template: str,
    values: Mapping[str, str],
    tags: tuple[str, ...],
    fits: Callable[[str], bool],
    min_title: int,
) -> tuple[str, bool, bool]:
    """Fill *template* within *fits*: cut the summary, then the title, then drop hashtags.

    While a hashtag is left to drop, the title is cut no shorter than *min_title*
    graphemes. Returns (text, cut, fits). URLs and hashtags are never cut through.
    """
    full = render(template, {**values, "hashtags": hashtag_text(tags)})
    if fits(full):
        return full, False, True
    floor = min(min_title, grapheme_count(values["title"]))
    for keep in range(len(tags), -1, -1):
        trial = {**values, "hashtags": hashtag_text(tags[:keep])}
        for name in ("summary", "title"):
            if not trial[name] or f"{{{name}}}" not in template:
                continue
            short = _shorten_value(template, trial, name, fits)
            readable = name == "summary" or keep == 0 or _kept(short) >= floor
            if short is not None and readable:
                return render(template, {**trial, name: short}), True, True
            if name == "title" and keep:
                break  # keep the headline readable: drop a hashtag instead
            trial[name] = ""
    return full, True, False


def _kept(short: str | None) -> int:
    return grapheme_count((short or "").rstrip("…").strip())


def _shorten_value(
    template: str, values: Mapping[str, str], name: str, fits: Callable[[str], bool]
) -> str | None:
    """The longest cut of ``values[name]`` with which the filled template fits."""
    return shorten_to_fit(values[name], lambda v: fits(render(template, {**values, name: v})))


def _missing_credential(spec: share_config.AccountSpec, name: str) -> ConfigError:
    key = name.split()[0]
    variable = share_config.env_key(spec.network, spec.name) + key.upper()
    return ConfigError(
        spec.where,
        f"{spec.key}: credential {name} is missing: set {variable}, or {key} under "
        f"[{spec.network}.{spec.name}] in the secrets file",
    )


def _probe_article(now: datetime) -> Article:
    """A plain article to build test requests from when checking the configuration."""
    return Article(
        id="config-check",
        title="Configuration check",
        url="https://example.com/config-check",
        content_html="<p>Configuration check</p>",
        summary="Configuration check",
        author="syndicate",
        published=now,
        updated=now,
    )
