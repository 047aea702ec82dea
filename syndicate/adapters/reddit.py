"""Reddit: the ``/submit`` intent, the token call and ``POST /api/submit`` (docs/social.md §3.3)."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from syndicate.adapters._http import (
    HttpAdapter,
    common_answer,
    contains_marker,
    intent,
    json_of,
    latest,
    option,
    reason_of,
    retry_after,
    unexpected_answer,
)
from syndicate.adapters.base import Account, Outcome, ShareRequest, ShareResult
from syndicate.content.text import shorten
from syndicate.errors import ConfigError
from syndicate.models import Article

INTENT = "https://www.reddit.com/submit"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
TITLE_LIMIT = 300
DEFAULT_UA = "python:org.syndicate:v0.1 (syndicate share adapter)"
DUPLICATE = frozenset({"ALREADY_SUB"})
_WAIT = re.compile(r"(\d+)\s*(millisecond|second|minute|hour)", re.IGNORECASE)
_UNITS = {"millisecond": 0.001, "second": 1, "minute": 60, "hour": 3600}


class RedditAdapter(HttpAdapter):
    """Submit a link post to a subreddit as a script or web app (password or refresh grant).

    Access tokens are cached in memory per account until a minute before they expire.
    """

    name = "reddit"
    label = "Reddit"
    default_template = "{title}"
    length_limit = 300
    title_is_text = True
    default_base_url = "https://oauth.reddit.com"
    can_lookup = True
    lookup_authoritative = False
    duplicate_signal = True

    def configure(self) -> None:
        """User-Agent, token endpoint and the in-memory token cache."""
        self.user_agent = str(self.options.get("user_agent") or DEFAULT_UA)
        self.token_url = f"{self.base_url}/api/v1/access_token" if self.sandboxed else TOKEN_URL
        self._tokens: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()

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
        """The submit page with the link tab selected (``type=LINK``)."""
        headline = shorten(title or article.title, TITLE_LIMIT)
        return intent(INTENT, {"url": url or article.url, "title": headline, "type": "LINK"})

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
        """``POST {base}/api/submit`` as a form; the bearer token is fetched by ``send``."""
        headline = shorten(title or text or article.title, TITLE_LIMIT)
        body = {
            "api_type": "json",
            "kind": "link",
            "sr": option(account, "subreddit"),
            "title": headline,
            "url": url or article.url,
            "resubmit": _flag(account.options.get("resubmit", False)),
            "sendreplies": _flag(account.options.get("sendreplies", True)),
        }
        secrets = tuple(
            account.credentials.get(k, "") for k in ("client_secret", "password", "refresh_token")
        )
        return ShareRequest(
            "POST",
            f"{self.base_url}/api/submit",
            {"User-Agent": self.user_agent},
            body,
            encoding="form",
            secrets=secrets,
            share_text=headline,
            auth="reddit-token",
        )

    def missing_credentials(self, account: Account) -> list[str]:
        """Credentials the account lacks: the app's client id and a refresh token or the
        script user's name and password."""
        missing = [] if account.credentials.get("client_id") else ["client_id"]
        if _grant(account.credentials) is None:
            missing.append("refresh_token (or username and password)")
        return missing

    def send(self, request: ShareRequest, account: Account, now: datetime) -> ShareResult:
        """Get (or reuse) a token, submit once, and classify; a 401 refreshes it once."""
        refused = ""
        for attempt in range(2):
            token = self._token(account, now, fresh=attempt > 0)
            if isinstance(token, ShareResult):
                return token
            resp = self.call(request, headers={"Authorization": f"bearer {token}"})
            if isinstance(resp, ShareResult):
                return resp
            if resp.status_code != 401:
                return self.classify(resp, now, (*request.secrets, token))
            refused = reason_of(resp, (*request.secrets, token))
        return ShareResult(Outcome.AUTH, status=401, reason=refused)

    def classify(
        self, resp: requests.Response, now: datetime, secrets: tuple[str, ...]
    ) -> ShareResult:
        """Success is HTTP 200 with an empty ``json.errors``; errors come inside 200s."""
        body = json_of(resp)
        inner = body.get("json") if isinstance(body, dict) else None
        if resp.status_code == 200 and isinstance(inner, dict):
            errors = inner.get("errors") or []
            if errors:
                return self._in_body_error(resp, errors, now, secrets)
            data = inner.get("data") or {}
            if data.get("name"):
                return ShareResult(
                    Outcome.POSTED,
                    remote_id=str(data["name"]),
                    permalink=data.get("url"),
                    status=200,
                )
        answer = common_answer(resp, now, secrets)
        if answer is not None:
            if answer.outcome is Outcome.RETRY:
                answer = _with_reset(answer, resp.headers, now)
            return answer
        return unexpected_answer(resp, secrets)

    def _in_body_error(
        self, resp: requests.Response, errors: list[Any], now: datetime, secrets: tuple[str, ...]
    ) -> ShareResult:
        first = errors[0] if isinstance(errors[0], list) else [str(errors[0])]
        code, message = str(first[0]), str(first[1]) if len(first) > 1 else ""
        why = reason_of(resp, secrets, f"{code}: {message}")
        if code == "RATELIMIT":
            match = _WAIT.search(message)
            wait = int(match[1]) * _UNITS[match[2].lower()] if match else 600
            return ShareResult(
                Outcome.RETRY, retry_at=now + timedelta(seconds=wait), reason=why, status=200
            )
        return ShareResult(Outcome.PERMANENT, duplicate=code in DUPLICATE, reason=why, status=200)

    def lookup(self, account: Account, marker: str, since: datetime) -> ShareResult | None:
        """Find the account's submission whose URL carries *marker* (newest 100)."""
        user = str(account.credentials.get("username") or account.options.get("username") or "")
        token = self._token(account, datetime.now(UTC), fresh=False)
        if not user or isinstance(token, ShareResult):
            return None
        resp = self.request(
            "GET",
            f"{self.base_url}/user/{user}/submitted?limit=100",
            (token,),
            headers={"User-Agent": self.user_agent, "Authorization": f"bearer {token}"},
        )
        if isinstance(resp, ShareResult) or resp.status_code != 200:
            return None
        children = ((json_of(resp) or {}).get("data") or {}).get("children") or []
        for child in children:
            post = child.get("data") or {}
            if contains_marker(marker, post.get("url"), post.get("selftext")):
                permalink = post.get("permalink") or ""
                return ShareResult(
                    Outcome.POSTED,
                    remote_id=str(post.get("name")),
                    permalink=f"https://www.reddit.com{permalink}",
                )
        return None

    def _token(self, account: Account, now: datetime, *, fresh: bool) -> str | ShareResult:
        """A cached bearer token, or a new one from the token endpoint."""
        with self._lock:
            cached = self._tokens.get(account.key)
            if cached and not fresh and cached[1] > now:
                return cached[0]
            self._tokens.pop(account.key, None)
        got = self._fetch_token(account, now)
        if isinstance(got, ShareResult):
            return got
        with self._lock:
            self._tokens[account.key] = got
        return got[0]

    def _fetch_token(self, account: Account, now: datetime) -> tuple[str, datetime] | ShareResult:
        creds = account.credentials
        grant = _grant(creds)
        if grant is None or not creds.get("client_id"):
            return ShareResult(Outcome.AUTH, reason="Reddit credentials are missing")
        secrets = tuple(creds.get(k, "") for k in ("client_secret", "password", "refresh_token"))
        resp = self.request(
            "POST",
            self.token_url,
            secrets,
            data=grant,
            headers={"User-Agent": self.user_agent},
            auth=(creds["client_id"], creds.get("client_secret", "")),
        )
        if isinstance(resp, ShareResult):
            # Nothing was posted yet: a failed token call is always safe to retry.
            return ShareResult(Outcome.RETRY, reason=f"token call: {resp.reason}")
        body = json_of(resp)
        if resp.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
            life = int(body.get("expires_in") or 3600)
            return str(body["access_token"]), now + timedelta(seconds=max(life - 60, 0))
        why = reason_of(resp, secrets, f"token call refused: {body}")
        if resp.status_code in (400, 401, 403) or (isinstance(body, dict) and body.get("error")):
            return ShareResult(Outcome.AUTH, reason=why, status=resp.status_code)
        return ShareResult(
            Outcome.RETRY,
            reason=why,
            status=resp.status_code,
            retry_at=retry_after(resp.headers, now),
        )


def _grant(creds: Mapping[str, str]) -> dict[str, str] | None:
    if creds.get("refresh_token"):
        return {"grant_type": "refresh_token", "refresh_token": creds["refresh_token"]}
    if creds.get("username") and creds.get("password"):
        return {
            "grant_type": "password",
            "username": creds["username"],
            "password": creds["password"],
        }
    return None


def _flag(value: Any) -> str:
    if not isinstance(value, bool):
        raise ConfigError("share.accounts.resubmit/sendreplies", "must be true or false")
    return "True" if value else "False"


def _with_reset(answer: ShareResult, headers: Mapping[str, str], now: datetime) -> ShareResult:
    """Honour ``X-Ratelimit-Reset`` (seconds from now); Retry-After stays a minimum."""
    raw = (headers.get("X-Ratelimit-Reset") or "").strip()
    if not raw.replace(".", "", 1).isdigit():
        return answer
    return replace(answer, retry_at=latest(answer.retry_at, now + timedelta(seconds=float(raw))))
