"""What the four built-in adapters share: construction, encoding, sending, classifying.

Classification follows docs/reliability.md §2.4: an error raised before the request left
(connection refused, DNS, connect timeout, TLS handshake) is safe to retry; anything
after it may have been accepted (read timeout, reset, 5xx, malformed 2xx) is UNKNOWN.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit

import requests
from urllib3.exceptions import NewConnectionError

from syndicate.adapters.base import (
    DEFAULT_TEMPLATE,
    Account,
    Outcome,
    ShareRequest,
    ShareResult,
    redact,
)
from syndicate.errors import ConfigError
from syndicate.models import Article

log = logging.getLogger("syndicate.adapters")

DEFAULT_TIMEOUT = (3.05, 10.0)
REASON_LIMIT = 300
Timeout = tuple[float, float]


def encode_query(params: Mapping[str, str | None]) -> str:
    """Percent-encode every value (RFC 3986, reserved characters too), omitting empty ones."""
    kept = {k: v for k, v in params.items() if v}
    return urlencode(kept, quote_via=quote, safe="")


def intent(base: str, params: Mapping[str, str | None]) -> str:
    """``base?k=v…`` with every value percent-encoded and empty values left out."""
    query = encode_query(params)
    return f"{base}?{query}" if query else base


def default_text(article: Article, url: str) -> str:
    """The post text used when no template gave one: the title, then the URL."""
    return f"{article.title} {url}".strip()


def parse_timeout(value: Any) -> Timeout:
    """``timeout`` option: one number for both, or ``[connect, read]`` seconds."""
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, int | float) and value > 0:
        return (float(value), float(value))
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and v > 0 for v in value)
    ):
        return (float(value[0]), float(value[1]))
    raise ConfigError("timeout", "must be a positive number or [connect, read] seconds")


def check_base_url(base_url: str) -> str:
    """An explicit base URL (sandbox or test server): http(s), no trailing slash."""
    parts = urlsplit(base_url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigError("base_url", f"{base_url!r} is not an http(s) URL")
    return base_url.rstrip("/")


class HttpAdapter:
    """Base of the built-in adapters: options, injected session, base URL, timeout."""

    name: ClassVar[str]
    label: ClassVar[str]
    default_base_url: ClassVar[str]
    can_lookup: ClassVar[bool] = False
    lookup_authoritative: ClassVar[bool] = False
    duplicate_signal: ClassVar[bool] = False
    default_template: ClassVar[str] = DEFAULT_TEMPLATE
    length_limit: ClassVar[int | None] = None
    title_is_text: ClassVar[bool] = False

    def __init__(
        self,
        options: Mapping[str, Any] | None = None,
        *,
        session: requests.Session | None = None,
        base_url: str | None = None,
    ) -> None:
        self.options: dict[str, Any] = dict(options or {})
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()
        self.sandboxed = base_url is not None
        self.base_url = check_base_url(base_url) if base_url else self.official_base_url()
        self.timeout = parse_timeout(self.options.get("timeout"))
        self.configure()

    @staticmethod
    def text_length(text: str) -> int:
        """How the network counts the length of a post's text."""
        return len(text)

    def configure(self) -> None:
        """Read the subclass's own options (called at the end of ``__init__``)."""

    def official_base_url(self) -> str:
        """The network's official API base (subclasses may choose among official hosts)."""
        return self.default_base_url

    def capabilities(self) -> dict[str, Any]:
        """What this adapter can do, for ``syndicate adapters`` and the ledger."""
        return {
            "name": self.name,
            "label": self.label,
            "base_url": self.base_url,
            "intent": True,
            "post": True,
            "can_lookup": self.can_lookup,
            "lookup_authoritative": self.lookup_authoritative,
            "duplicate_signal": self.duplicate_signal,
        }

    def close(self) -> None:
        """Close the session if this adapter made it."""
        if self._own_session:
            self.session.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url}>"

    def call(self, request: ShareRequest, **extra: Any) -> requests.Response | ShareResult:
        """Send *request* once; a transport failure comes back as a ShareResult."""
        body_arg = "json" if request.encoding == "json" else "data"
        kwargs: dict[str, Any] = {body_arg: dict(request.body) if request.body else None}
        kwargs.update(extra)
        kwargs["headers"] = {**request.headers, **extra.get("headers", {})}
        return self.request(request.method, request.url, request.secrets, **kwargs)

    def request(
        self, method: str, url: str, secrets: tuple[str, ...], **kwargs: Any
    ) -> requests.Response | ShareResult:
        """One HTTP call, never retried; a transport failure comes back as a ShareResult."""
        try:
            return self.session.request(
                method, url, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.RequestException as exc:
            result = transport_failure(exc, secrets)
            log.warning("%s %s: %s", self.name, result.outcome, result.reason)
            return result


def transport_failure(exc: requests.RequestException, secrets: tuple[str, ...]) -> ShareResult:
    """Classify an exception from requests: before sending → RETRY, after → UNKNOWN."""
    what = redact(f"{type(exc).__name__}: {exc}", secrets)[:REASON_LIMIT]
    if isinstance(
        exc,
        requests.exceptions.InvalidURL
        | requests.exceptions.InvalidSchema
        | requests.exceptions.MissingSchema,
    ):
        return ShareResult(Outcome.PERMANENT, reason=what, config_problem=True)
    if _before_sending(exc):
        return ShareResult(Outcome.RETRY, reason=f"not sent: {what}")
    return ShareResult(Outcome.UNKNOWN, reason=f"may have been accepted: {what}")


def _before_sending(exc: BaseException) -> bool:
    if isinstance(
        exc,
        requests.exceptions.ConnectTimeout
        | requests.exceptions.SSLError
        | requests.exceptions.ProxyError,
    ):
        return True
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return False
    return any(isinstance(e, NewConnectionError) for e in _causes(exc))


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its args and its cause/context chain (urllib3 nests them)."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        e = stack.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack.extend([*e.args, e.__cause__, e.__context__, getattr(e, "reason", None)])


def reason_of(resp: requests.Response, secrets: tuple[str, ...], detail: str = "") -> str:
    """``HTTP 403: <detail or body>`` with secrets redacted, at most 300 characters."""
    text = detail or resp.text.strip()
    return str(redact(f"HTTP {resp.status_code}: {text}", secrets))[:REASON_LIMIT]


def json_of(resp: requests.Response) -> Any:
    """The JSON body, or None when the body is not JSON."""
    try:
        return resp.json()
    except ValueError:
        return None


def retry_after(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """``Retry-After`` as a time: delta-seconds or an HTTP-date; None if absent or garbage."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return now + timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def latest(*times: datetime | None) -> datetime | None:
    """The latest of the given times (Retry-After is a minimum), ignoring None."""
    present = [t for t in times if t is not None]
    return max(present) if present else None


def next_utc_midnight(now: datetime) -> datetime:
    """The next 00:00 UTC after *now* (LinkedIn's daily counters reset then)."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


def next_utc_month(now: datetime) -> datetime:
    """The first instant of the next UTC month (X's usage cap is per billing cycle)."""
    n = now.astimezone(UTC)
    year, month = (n.year + 1, 1) if n.month == 12 else (n.year, n.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def common_answer(
    resp: requests.Response, now: datetime, secrets: tuple[str, ...]
) -> ShareResult | None:
    """The classes every network shares: 401, 429 and 5xx; None for the adapter to decide."""
    status = resp.status_code
    if status == 401:
        return ShareResult(Outcome.AUTH, reason=reason_of(resp, secrets), status=status)
    after = retry_after(resp.headers, now)
    if status == 429 or (status == 503 and after is not None):
        # 503 with Retry-After is an explicit "not now" (docs/reliability.md §2.4).
        return ShareResult(
            Outcome.RETRY, retry_at=after, reason=reason_of(resp, secrets), status=status
        )
    if status >= 500:
        return ShareResult(Outcome.UNKNOWN, reason=reason_of(resp, secrets), status=status)
    return None


def unexpected_answer(resp: requests.Response, secrets: tuple[str, ...]) -> ShareResult:
    """An answer no rule explained: a 2xx we cannot read may have posted; else rejected."""
    if 200 <= resp.status_code < 300:
        return ShareResult(
            Outcome.UNKNOWN,
            status=resp.status_code,
            reason=reason_of(resp, secrets, "malformed success body"),
        )
    return ShareResult(Outcome.PERMANENT, status=resp.status_code, reason=reason_of(resp, secrets))


def credential(account: Account, key: str) -> str:
    """A required credential, or a ConfigError naming it (never its value)."""
    value = account.credentials.get(key, "")
    if not value:
        raise ConfigError(f"{account.network}.{account.name}.{key}", "credential is missing")
    return value


def option(account: Account, key: str) -> str:
    """A required account option, or a ConfigError naming it."""
    value = str(account.options.get(key) or "")
    if not value:
        raise ConfigError(f"share.accounts[{account.key}].{key}", "is required")
    return value


def contains_marker(marker: str, *texts: object) -> bool:
    """Whether *marker* appears exactly in any of *texts* (URL or post text)."""
    return any(isinstance(t, str) and marker in t for t in texts)
