"""X: the ``/intent/tweet`` link and ``POST /2/tweets`` (docs/social.md §1, §2, §3.2)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import requests
from requests_oauthlib import OAuth1

from syndicate.adapters import x_length as xtext
from syndicate.adapters._http import (
    HttpAdapter,
    common_answer,
    contains_marker,
    encode_query,
    intent,
    json_of,
    latest,
    next_utc_month,
    reason_of,
    retry_after,
)
from syndicate.adapters.base import Account, Outcome, ShareRequest, ShareResult
from syndicate.errors import ConfigError
from syndicate.models import Article

INTENT = "https://x.com/intent/tweet"
HOSTS = ("api.x.com", "api.twitter.com")
OAUTH1_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
_RESETS = ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")

# oauthlib logs the signature base string (consumer key, token) and the signature at
# DEBUG; credentials must never reach a log, so those loggers stay at INFO or above.
for _name in ("oauthlib.oauth1.rfc5849", "requests_oauthlib.oauth1_auth"):
    logging.getLogger(_name).setLevel(logging.INFO)


class XAdapter(HttpAdapter):
    """Post a text (title, URL, hashtags) as the account, OAuth 1.0a or OAuth 2.0 user token.

    ``auth = "oauth1"`` (the default when a ``consumer_key`` is present) signs each call
    with requests-oauthlib at send time; ``"oauth2"`` sends ``Authorization: Bearer``.
    """

    name = "x"
    label = "X"
    default_base_url = "https://api.x.com"
    can_lookup = True
    lookup_authoritative = False
    duplicate_signal = True
    default_template = "{title} {url} {hashtags}"
    length_limit = xtext.LIMIT

    @staticmethod
    def text_length(text: str) -> int:
        """X's weighted length: most CJK characters and emoji count twice."""
        return xtext.weighted_length(text)

    def configure(self) -> None:
        """The configured weighted-length limit."""
        self.limit = int(self.options.get("limit", xtext.LIMIT))

    def official_base_url(self) -> str:
        host = str(self.options.get("host", HOSTS[0]))
        if host not in HOSTS:
            raise ConfigError("share.networks.x.host", f"must be one of {', '.join(HOSTS)}")
        return f"https://{host}"

    def intent_url(
        self,
        article: Article,
        account: Account | None = None,
        *,
        text: str | None = None,
        url: str | None = None,
        title: str | None = None,
        hashtags: Sequence[str] = (),
    ) -> str:
        """The composer link; text, URL, hashtags and "via @acct" together fit the limit."""
        link = url or article.url
        via = str((account.options.get("via") if account else None) or "").lstrip("@")
        tags = [h.lstrip("#") for h in hashtags if h.lstrip("#")]
        reserve = xtext.weighted_length(f" via @{via}") if via else 0
        fitted = xtext.fit(
            text if text is not None else article.title, link, tags, self.limit - reserve
        )
        head = fitted.split(link, 1)[0].strip() if link in fitted else fitted
        words = set(fitted.split())
        kept = [t for t in tags if f"#{t}" in words]
        return intent(INTENT, {"text": head, "url": link, "hashtags": ",".join(kept), "via": via})

    def build(
        self,
        article: Article,
        account: Account,
        now: datetime,
        *,
        text: str | None = None,
        url: str | None = None,
        title: str | None = None,
    ) -> ShareRequest:
        """``POST {base}/2/tweets`` with JSON ``{"text": …}`` fitted to the weighted limit."""
        link = url or article.url
        post = (
            xtext.fit(article.title, link, limit=self.limit)
            if text is None
            else xtext.fit_text(text, self.limit)
        )
        headers = {"Content-Type": "application/json"}
        secrets: tuple[str, ...] = tuple(account.credentials.get(k, "") for k in OAUTH1_KEYS)
        auth = self._auth_kind(account)
        if auth == "oauth2":
            headers["Authorization"] = f"Bearer {account.credentials.get('access_token', '')}"
        return ShareRequest(
            "POST",
            f"{self.base_url}/2/tweets",
            headers,
            {"text": post},
            encoding="json",
            secrets=secrets,
            share_text=post,
            auth="oauth1" if auth == "oauth1" else "",
        )

    def missing_credentials(self, account: Account) -> list[str]:
        """Credentials the account lacks: the four OAuth 1.0a keys, or an OAuth 2.0 token."""
        needed = OAUTH1_KEYS if self._auth_kind(account) == "oauth1" else ("access_token",)
        return [key for key in needed if not account.credentials.get(key)]

    def send(self, request: ShareRequest, account: Account, now: datetime) -> ShareResult:
        """Post once and classify X's answer."""
        signer, missing = self._signer(account)
        if missing:
            return ShareResult(Outcome.AUTH, reason=f"credential {missing} is missing")
        resp = self.call(request, auth=signer)
        if isinstance(resp, ShareResult):
            return resp
        return self.classify(resp, now, request.secrets)

    def classify(
        self, resp: requests.Response, now: datetime, secrets: tuple[str, ...]
    ) -> ShareResult:
        """Map one answer of ``POST /2/tweets`` to an outcome (docs/social.md §3.1, X column)."""
        body = json_of(resp)
        status = resp.status_code
        data = body.get("data") if isinstance(body, dict) else None
        if status in (200, 201) and isinstance(data, dict) and data.get("id") is not None:
            tweet_id = str(data["id"])
            return ShareResult(
                Outcome.POSTED,
                remote_id=tweet_id,
                status=status,
                permalink=f"https://x.com/i/web/status/{tweet_id}",
            )
        detail = _problem_text(body)
        why = reason_of(resp, secrets, detail)
        if status == 429 and "usage-capped" in detail:
            # The pay-per-use cap lasts until the billing cycle turns: pause, don't spin.
            return ShareResult(
                Outcome.RETRY,
                retry_at=next_utc_month(now),
                reason=why,
                status=status,
                usage_capped=True,
            )
        if status == 429:
            reset = latest(_reset_at(resp.headers), retry_after(resp.headers, now))
            return ShareResult(Outcome.RETRY, retry_at=reset, reason=why, status=status)
        if status == 403 and "duplicate" in detail.lower():
            return ShareResult(Outcome.PERMANENT, duplicate=True, reason=why, status=status)
        answer = common_answer(resp, now, secrets)
        if answer is not None:
            return answer
        if 200 <= status < 300:
            return ShareResult(
                Outcome.UNKNOWN,
                status=status,
                reason=reason_of(resp, secrets, "malformed success body"),
            )
        return ShareResult(Outcome.PERMANENT, reason=why, status=status)

    def lookup(self, account: Account, marker: str, since: datetime) -> ShareResult | None:
        """Find the account's post whose text or expanded URL carries *marker*."""
        signer, missing = self._signer(account)
        if missing:
            return None
        secrets = tuple(account.credentials.get(k, "") for k in OAUTH1_KEYS)
        headers = (
            {}
            if signer
            else {"Authorization": f"Bearer {account.credentials.get('access_token', '')}"}
        )
        user_id = str(account.options.get("user_id") or "") or self._me(signer, headers, secrets)
        if not user_id:
            return None
        query = encode_query(
            {
                "max_results": "100",
                "tweet.fields": "created_at,entities",
                "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
        resp = self.request(
            "GET",
            f"{self.base_url}/2/users/{user_id}/tweets?{query}",
            secrets,
            headers=headers,
            auth=signer,
        )
        if isinstance(resp, ShareResult) or resp.status_code != 200:
            return None
        for tweet in (json_of(resp) or {}).get("data", []) or []:
            urls = [u.get("expanded_url") for u in tweet.get("entities", {}).get("urls", [])]
            if contains_marker(marker, tweet.get("text"), *urls):
                tweet_id = str(tweet["id"])
                return ShareResult(
                    Outcome.POSTED,
                    remote_id=tweet_id,
                    permalink=f"https://x.com/i/web/status/{tweet_id}",
                )
        return None

    def _me(self, signer: OAuth1 | None, headers: dict[str, str], secrets: tuple[str, ...]) -> str:
        resp = self.request(
            "GET", f"{self.base_url}/2/users/me", secrets, headers=headers, auth=signer
        )
        if isinstance(resp, ShareResult) or resp.status_code != 200:
            return ""
        return str(((json_of(resp) or {}).get("data") or {}).get("id") or "")

    def _auth_kind(self, account: Account) -> str:
        kind = str(account.options.get("auth") or "")
        if kind not in ("", "oauth1", "oauth2"):
            raise ConfigError(f"share.accounts[{account.key}].auth", "must be oauth1 or oauth2")
        return kind or ("oauth1" if account.credentials.get("consumer_key") else "oauth2")

    def _signer(self, account: Account) -> tuple[OAuth1 | None, str]:
        """The OAuth 1.0a signer (None for OAuth 2.0) and the name of a missing credential."""
        creds = account.credentials
        if self._auth_kind(account) == "oauth2":
            return None, "" if creds.get("access_token") else "access_token"
        missing = next((k for k in OAUTH1_KEYS if not creds.get(k)), "")
        if missing:
            return None, missing
        # The JSON body is not signed: OAuth1 only signs form bodies (docs/social.md §4).
        return OAuth1(
            creds["consumer_key"],
            creds["consumer_secret"],
            creds["access_token"],
            creds["access_token_secret"],
        ), ""


def _problem_text(body: Any) -> str:
    """The RFC 7807 problem fields (type, title, detail) or error messages of a body."""
    if not isinstance(body, dict):
        return ""
    parts = [str(body.get(k)) for k in ("type", "title", "detail") if body.get(k)]
    for err in body.get("errors") or []:
        if isinstance(err, dict):
            parts += [str(err.get(k)) for k in ("type", "message", "detail") if err.get(k)]
    return " | ".join(parts)


def _reset_at(headers: Mapping[str, str]) -> datetime | None:
    """The reset (epoch seconds) of the exhausted window, the per-15-min one by default."""
    resets: dict[str, datetime] = {}
    for prefix in _RESETS:
        raw = headers.get(f"{prefix}-reset", "")
        if raw.strip().isdigit():
            resets[prefix] = datetime.fromtimestamp(int(raw), UTC)
    exhausted = [t for p, t in resets.items() if headers.get(f"{p}-remaining") == "0"]
    return latest(*exhausted) or resets.get("x-rate-limit")
