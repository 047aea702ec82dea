"""The adapter contract: how syndicate talks to one social network.

An adapter is a small class registered under the ``syndicate.adapters`` entry-point
group (ours are registered exactly as a third party's would be). It is built once per
network with that network's settings, a ``requests.Session`` and a base URL, and then:

* :meth:`intent_url` -- the "Share on …" link for a button (pure);
* :meth:`build` -- the exact API request that would post an article (pure: no I/O, no
  clock except the ``now`` passed in);
* :meth:`send` -- the only I/O: send a built request, classify the answer as a
  :class:`ShareResult`;
* :meth:`lookup` -- optional reconciliation of an unknown outcome.

It also states the network's facts that composing a post needs (:class:`NetworkFacts`):
the default template, the length limit and how the network counts length, and whether
the post's title is its text. An adapter that leaves one out gets the default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol, runtime_checkable

import requests

from syndicate.models import Article

REDACTED = "<redacted>"
DEFAULT_TEMPLATE = "{title} {url}"


@dataclass(frozen=True)
class NetworkFacts:
    """What composing a post must know about the network, read from its adapter class.

    * ``default_template``: the post template when neither network nor account sets one;
    * ``length_limit``: the most the network accepts (None: no limit we fit to);
    * ``text_length``: how the network counts a text's length (X weighs characters);
    * ``title_is_text``: the post's title is its whole text (Reddit's link posts).
    """

    default_template: str = DEFAULT_TEMPLATE
    length_limit: int | None = None
    text_length: Callable[[str], int] = len
    title_is_text: bool = False


def network_facts(adapter: Any) -> NetworkFacts:
    """The facts an adapter (class or instance) states, defaults for what it leaves out."""
    default = NetworkFacts()
    return NetworkFacts(
        default_template=getattr(adapter, "default_template", default.default_template),
        length_limit=getattr(adapter, "length_limit", default.length_limit),
        text_length=getattr(adapter, "text_length", default.text_length),
        title_is_text=getattr(adapter, "title_is_text", default.title_is_text),
    )


@dataclass(frozen=True)
class Account:
    """One account on one network: its public settings and its secrets, kept apart.

    ``options`` holds what may be shown (page id, subreddit, author URN, template…);
    ``credentials`` holds tokens and keys, which never appear in previews or logs.
    """

    network: str
    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        return f"{self.network}:{self.name}"


@dataclass(frozen=True, repr=False)
class ShareRequest:
    """One HTTP request, exactly as it will be sent.

    ``body`` is a dict sent as JSON when ``encoding == "json"``, as a form when
    ``"form"``; ``secrets`` lists header/body values to redact in any preview.
    Some networks need more than one call (Reddit fetches a token first); the adapter's
    :meth:`ShareAdapter.send` performs those, ``build`` describes the posting call.
    Credentials that depend on the moment of sending (an OAuth 1.0a signature, Reddit's
    short-lived bearer token) are added by ``send``; ``auth`` names that scheme.
    ``repr()`` shows the redacted preview, never a secret.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    body: Mapping[str, Any] | None
    encoding: str = "json"  # "json" or "form"
    secrets: tuple[str, ...] = ()
    share_text: str = ""  # the human-visible text of the post, for previews
    auth: str = ""  # credentials added at send time: "oauth1", "reddit-token" or ""

    def __repr__(self) -> str:
        return f"ShareRequest({self.preview()!r})"

    def preview(self) -> dict[str, Any]:
        """A JSON-able view with every secret replaced by ``<redacted>``."""
        view: dict[str, Any] = redact(
            {
                "method": self.method,
                "url": self.url,
                "headers": dict(self.headers),
                "body": dict(self.body) if self.body is not None else None,
                "encoding": self.encoding,
                "auth": self.auth,
            },
            self.secrets,
        )
        return view


class Outcome(StrEnum):
    POSTED = "posted"
    RETRY = "retry"
    AUTH = "auth"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ShareResult:
    """What one attempt came to.

    * ``POSTED``: ``remote_id`` (always a string) and ``permalink`` when known.
    * ``RETRY``: provably not processed; not before ``retry_at``.
    * ``AUTH``: credentials refused; hold the account and alert.
    * ``PERMANENT``: rejected for good; ``duplicate`` when the network said so
      (``remote_id`` then names the existing post, if it told us), ``config_problem``
      when the fix is in syndicate's configuration (e.g. a sunset API version).
    * ``UNKNOWN``: the network may have accepted it; never resend blindly.
    """

    outcome: Outcome
    remote_id: str | None = None
    permalink: str | None = None
    retry_at: datetime | None = None
    reason: str = ""
    status: int | None = None
    duplicate: bool = False
    config_problem: bool = False
    usage_capped: bool = False


@runtime_checkable
class ShareAdapter(Protocol):
    """**Protocol:** post article links to one network.

    Invariants: ``intent_url`` and ``build`` do no I/O and read no clock or environment;
    ``send`` never retries a POST itself and never raises for an HTTP answer: every
    answer, timeout or connection error becomes a :class:`ShareResult`.

    ``text``, ``url`` and ``title`` are the already-templated post text, the article URL
    with its tracking parameters, and (Reddit, LinkedIn) the headline; when left out the
    adapter uses the article's own title and URL. ``hashtags`` (no ``#``) feed intents
    that take them separately (X).

    Optional class attributes state the network's facts (see :class:`NetworkFacts`):
    ``default_template``, ``length_limit``, ``title_is_text`` and a static
    ``text_length(text) -> int``; :func:`network_facts` reads them with their defaults.
    """

    name: ClassVar[str]
    label: ClassVar[str]  # "Facebook", "X", …
    default_base_url: ClassVar[str]
    can_lookup: ClassVar[bool]
    lookup_authoritative: ClassVar[bool]  # a lookup miss proves the post does not exist
    duplicate_signal: ClassVar[bool]  # the network rejects a repeated post as a duplicate

    def __init__(
        self,
        options: Mapping[str, Any] | None = None,
        *,
        session: requests.Session | None = None,
        base_url: str | None = None,
    ) -> None: ...

    def intent_url(
        self,
        article: Article,
        account: Account | None = None,
        *,
        text: str | None = None,
        url: str | None = None,
        title: str | None = None,
        hashtags: Sequence[str] = (),
    ) -> str: ...

    def build(
        self,
        article: Article,
        account: Account,
        now: datetime,
        *,
        text: str | None = None,
        url: str | None = None,
        title: str | None = None,
    ) -> ShareRequest: ...

    def send(self, request: ShareRequest, account: Account, now: datetime) -> ShareResult: ...

    def lookup(self, account: Account, marker: str, since: datetime) -> ShareResult | None: ...

    def capabilities(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


def redact(value: Any, secrets: tuple[str, ...] | list[str]) -> Any:
    """Replace every occurrence of each secret inside *value* (nested) with ``<redacted>``."""
    secrets = [s for s in secrets if s]
    if isinstance(value, str):
        for secret in sorted(secrets, key=len, reverse=True):
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {k: redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, secrets) for v in value]
    return value
