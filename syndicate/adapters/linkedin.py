"""LinkedIn: the share-offsite intent and ``POST /rest/posts`` (docs/social.md §3.4)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import regex
import requests

from syndicate.adapters._http import (
    HttpAdapter,
    common_answer,
    contains_marker,
    encode_query,
    intent,
    json_of,
    latest,
    next_utc_midnight,
    option,
    reason_of,
)
from syndicate.adapters.base import Account, Outcome, ShareRequest, ShareResult
from syndicate.content.text import shorten, url_spans
from syndicate.errors import ConfigError
from syndicate.models import Article

INTENT = "https://www.linkedin.com/sharing/share-offsite/"
COMMENTARY_LIMIT = 3000
TITLE_LIMIT = 200
DESCRIPTION_LIMIT = 300
# Little text format: reserved characters must be backslash-escaped, or LinkedIn silently
# cuts the post at the first one. A "#" that starts a hashtag (a letter, mark or digit
# follows, after a space or the start) stays, to keep the hashtag; any other "#" is
# escaped, so no bare "#" is left before an escaped character. URLs are left intact.
_RESERVED = regex.compile(r"[\\|{}@\[\]()<>*_~]|#(?![\p{L}\p{M}\p{Nd}])|(?<=\S)#")
_URN = re.compile(r"urn:li:(?:share|ugcPost|activity):\d+")
_VERSION = re.compile(r"\d{6}")


def escape_little_text(text: str) -> str:
    """Backslash-escape every little-text reserved character except hashtag ``#``.

    URLs are copied as they are: an escape inside one would change the link.
    """
    pieces, done = [], 0
    for start, end in url_spans(text):
        pieces += [_escape(text[done:start]), text[start:end]]
        done = end
    return "".join([*pieces, _escape(text[done:])])


def _escape(plain: str) -> str:
    return str(_RESERVED.sub(lambda m: "\\" + m.group(0), plain))


def fit_commentary(text: str, limit: int = COMMENTARY_LIMIT) -> str:
    """Escape *text*, first shortening it at a word boundary so the escaped form fits."""
    escaped = escape_little_text(text)
    room = limit
    while len(escaped) > limit and room > 1:
        room -= len(escaped) - limit
        escaped = escape_little_text(shorten(text, room))
    return escaped


class LinkedInAdapter(HttpAdapter):
    """Post an article (with its preview card) as a member or an organization."""

    name = "linkedin"
    label = "LinkedIn"
    default_template = "{title}\n\n{summary}\n\n{hashtags}"
    length_limit = 3000
    default_base_url = "https://api.linkedin.com"
    can_lookup = True
    lookup_authoritative = False
    duplicate_signal = True

    def configure(self) -> None:
        """Check the LinkedIn-Version."""
        self.version = str(self.options.get("version", "202601"))
        if not _VERSION.fullmatch(self.version):
            raise ConfigError("share.networks.linkedin.version", "must be YYYYMM, e.g. 202601")

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
        """The share-offsite link; LinkedIn reads only ``url`` (the rest from og: tags)."""
        return intent(INTENT, {"url": url or article.url})

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
        """``POST {base}/rest/posts`` with escaped commentary and an article preview."""
        link = url or article.url
        token = account.credentials.get("access_token", "")
        commentary = fit_commentary(text if text is not None else article.title)
        card: dict[str, Any] = {
            "source": link,
            "title": shorten(title or article.title, TITLE_LIMIT),
        }
        if article.summary:
            card["description"] = shorten(article.summary, DESCRIPTION_LIMIT)
        if account.options.get("thumbnail"):
            card["thumbnail"] = str(account.options["thumbnail"])  # an image URN
        body = {
            "author": option(account, "author"),
            "commentary": commentary,
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "content": {"article": card},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        return ShareRequest(
            "POST",
            f"{self.base_url}/rest/posts",
            self._headers(token),
            body,
            encoding="json",
            secrets=(token,),
            share_text=commentary,
        )

    def missing_credentials(self, account: Account) -> list[str]:
        """Credentials the account lacks: the member's or organisation's access token."""
        return [] if account.credentials.get("access_token") else ["access_token"]

    def send(self, request: ShareRequest, account: Account, now: datetime) -> ShareResult:
        """Post once; the new post's URN comes back in ``x-restli-id``."""
        if not account.credentials.get("access_token"):
            return ShareResult(Outcome.AUTH, reason="credential access_token is missing")
        resp = self.call(request)
        if isinstance(resp, ShareResult):
            return resp
        return self.classify(resp, now, request.secrets)

    def classify(
        self, resp: requests.Response, now: datetime, secrets: tuple[str, ...]
    ) -> ShareResult:
        """Map one answer of ``POST /rest/posts`` to an outcome (docs/social.md §3.1)."""
        status = resp.status_code
        urn = resp.headers.get("x-restli-id", "")
        if status == 201 and urn:
            return ShareResult(
                Outcome.POSTED,
                remote_id=urn,
                status=status,
                permalink=f"https://www.linkedin.com/feed/update/{urn}/",
            )
        body = json_of(resp)
        code = str(body.get("code") or "") if isinstance(body, dict) else ""
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
        why = reason_of(resp, secrets, f"{code}: {message}" if code else message)
        if status == 422 and code == "DUPLICATE_POST":
            existing = _URN.search(message)
            return ShareResult(
                Outcome.PERMANENT,
                duplicate=True,
                reason=why,
                status=status,
                remote_id=existing[0] if existing else None,
            )
        if status == 426 or code == "NONEXISTENT_VERSION":
            return ShareResult(Outcome.PERMANENT, config_problem=True, reason=why, status=status)
        answer = common_answer(resp, now, secrets)
        if answer is not None:
            if status == 429 and "day" in message.lower():
                # Daily app/member counters reset at midnight UTC (no headers are sent).
                answer = replace(answer, retry_at=latest(answer.retry_at, next_utc_midnight(now)))
            return answer
        if 200 <= status < 300:
            return ShareResult(
                Outcome.UNKNOWN,
                status=status,
                reason=reason_of(resp, secrets, "no x-restli-id in the answer"),
            )
        return ShareResult(Outcome.PERMANENT, reason=why, status=status)

    def lookup(self, account: Account, marker: str, since: datetime) -> ShareResult | None:
        """Find the author's post whose article link or commentary carries *marker*."""
        token = account.credentials.get("access_token", "")
        query = encode_query(
            {
                "q": "author",
                "author": option(account, "author"),
                "count": "50",
                "sortBy": "LAST_MODIFIED",
            }
        )
        resp = self.request(
            "GET", f"{self.base_url}/rest/posts?{query}", (token,), headers=self._headers(token)
        )
        if isinstance(resp, ShareResult) or resp.status_code != 200:
            return None
        for post in (json_of(resp) or {}).get("elements", []) or []:
            source = ((post.get("content") or {}).get("article") or {}).get("source")
            if contains_marker(marker, source, post.get("commentary")):
                urn = str(post.get("id"))
                return ShareResult(
                    Outcome.POSTED,
                    remote_id=urn,
                    permalink=f"https://www.linkedin.com/feed/update/{urn}/",
                )
        return None

    def _headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "LinkedIn-Version": self.version,
            "X-Restli-Protocol-Version": "2.0.0",
            "Content-Type": "application/json",
        }
