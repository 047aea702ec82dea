"""Facebook Pages: the sharer intent and ``POST /{version}/{page-id}/feed``.

Network facts: docs/social.md §3.5.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import requests

from syndicate.adapters._http import (
    HttpAdapter,
    common_answer,
    contains_marker,
    encode_query,
    intent,
    json_of,
    option,
    reason_of,
    unexpected_answer,
)
from syndicate.adapters.base import Account, Outcome, ShareRequest, ShareResult
from syndicate.errors import ConfigError
from syndicate.models import Article

INTENT = "https://www.facebook.com/sharer/sharer.php"
THROTTLED = frozenset({4, 17, 32, 341, 613})
TRANSIENT = frozenset({1, 2})
PERMANENT = frozenset({10, 100, 1609005, *range(200, 300)})
POLICY_BLOCK_WAIT = timedelta(hours=24)
THROTTLE_WAIT = timedelta(minutes=15)
_VERSION = re.compile(r"v\d+\.\d+")


class FacebookAdapter(HttpAdapter):
    """Post a link with a message to a Facebook Page with a Page access token.

    The token goes in an ``Authorization: Bearer`` header (the Graph API accepts it as
    well as the ``access_token`` parameter) so it never lands in a URL or a form log.
    """

    name = "facebook"
    label = "Facebook"
    default_template = "{title}\n\n{summary}"
    default_base_url = "https://graph.facebook.com"
    can_lookup = True
    lookup_authoritative = False
    duplicate_signal = True

    def configure(self) -> None:
        """Check the Graph version."""
        self.version = str(self.options.get("graph_version", "v25.0"))
        if not _VERSION.fullmatch(self.version):
            raise ConfigError(
                "share.networks.facebook.graph_version", f"{self.version!r} is not like v25.0"
            )

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
        """The sharer link; Facebook reads everything but the URL from the page's og: tags."""
        return intent(INTENT, {"u": url or article.url})

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
        """``POST {base}/{version}/{page_id}/feed`` with form fields message and link."""
        link = url or article.url
        message = text if text is not None else article.title
        token = account.credentials.get("page_token", "")
        page = option(account, "page_id")
        return ShareRequest(
            method="POST",
            url=f"{self.base_url}/{self.version}/{page}/feed",
            headers={"Authorization": f"Bearer {token}"},
            body={"message": message, "link": link},
            encoding="form",
            secrets=(token,),
            share_text=message,
        )

    def missing_credentials(self, account: Account) -> list[str]:
        """Credentials the account lacks: Graph API posts need the Page access token."""
        return [] if account.credentials.get("page_token") else ["page_token"]

    def send(self, request: ShareRequest, account: Account, now: datetime) -> ShareResult:
        """Post once and classify the Graph API answer."""
        if not account.credentials.get("page_token"):
            return ShareResult(Outcome.AUTH, reason="credential page_token is missing")
        resp = self.call(request)
        if isinstance(resp, ShareResult):
            return resp
        return self.classify(resp, now, request.secrets)

    def classify(
        self, resp: requests.Response, now: datetime, secrets: tuple[str, ...]
    ) -> ShareResult:
        """Map one Graph API answer to an outcome (docs/social.md §3.1, Facebook column)."""
        body = json_of(resp)
        error = body.get("error") if isinstance(body, dict) else None
        if resp.status_code == 200 and isinstance(body, dict) and isinstance(body.get("id"), str):
            post_id = body["id"]
            return ShareResult(
                Outcome.POSTED,
                remote_id=post_id,
                status=200,
                permalink=f"https://www.facebook.com/{post_id}",
            )
        if isinstance(error, dict) and isinstance(error.get("code"), int):
            return self._graph_error(resp, error, now, secrets)
        answer = common_answer(resp, now, secrets)
        if answer is not None:
            return answer
        return unexpected_answer(resp, secrets)

    def _graph_error(
        self,
        resp: requests.Response,
        error: dict[str, Any],
        now: datetime,
        secrets: tuple[str, ...],
    ) -> ShareResult:
        code = int(error["code"])
        status = resp.status_code
        why = reason_of(resp, secrets, f"code {code}: {error.get('message', '')}")
        if code == 190:
            return ShareResult(Outcome.AUTH, reason=why, status=status)
        if code in THROTTLED:
            wait = _regain_minutes(resp.headers)
            retry_at = now + (timedelta(minutes=wait) if wait else THROTTLE_WAIT)
            return ShareResult(Outcome.RETRY, retry_at=retry_at, reason=why, status=status)
        if code in TRANSIENT:
            # Codes 1/2 ("unknown"/"service" error) are transient, but the call reached
            # Graph and may have been processed: only reconciliation may resend
            # (docs/social.md §3.1, "Retryable ≠ safe to resend").
            return ShareResult(Outcome.UNKNOWN, reason=why, status=status)
        if code == 368:
            return ShareResult(
                Outcome.RETRY, retry_at=now + POLICY_BLOCK_WAIT, reason=why, status=status
            )
        if code == 506:
            return ShareResult(Outcome.PERMANENT, duplicate=True, reason=why, status=status)
        if status >= 500 and code not in PERMANENT:
            return ShareResult(Outcome.UNKNOWN, reason=why, status=status)
        return ShareResult(Outcome.PERMANENT, reason=why, status=status)

    def lookup(self, account: Account, marker: str, since: datetime) -> ShareResult | None:
        """Find the Page post whose message or link carries *marker*, among recent posts."""
        token = account.credentials.get("page_token", "")
        page = option(account, "page_id")
        query = encode_query(
            {
                "fields": "id,message,permalink_url,created_time,attachments{unshimmed_url}",
                "since": str(int(since.timestamp())),
                "limit": "100",
            }
        )
        resp = self.request(
            "GET",
            f"{self.base_url}/{self.version}/{page}/posts?{query}",
            (token,),
            headers={"Authorization": f"Bearer {token}"},
        )
        if isinstance(resp, ShareResult) or resp.status_code != 200:
            return None
        for post in (json_of(resp) or {}).get("data", []):
            links = [a.get("unshimmed_url") for a in post.get("attachments", {}).get("data", [])]
            if contains_marker(marker, post.get("message"), *links):
                return ShareResult(
                    Outcome.POSTED, remote_id=str(post["id"]), permalink=post.get("permalink_url")
                )
        return None


def _regain_minutes(headers: Mapping[str, str]) -> int:
    """The largest ``estimated_time_to_regain_access`` (minutes) in the usage headers."""
    minutes = 0
    for name in ("X-Business-Use-Case-Usage", "X-App-Usage"):
        try:
            usage = json.loads(headers.get(name) or "null")
        except ValueError:
            continue
        entries = [
            e
            for v in (usage.values() if isinstance(usage, dict) else ())
            if isinstance(v, list)
            for e in v
        ]
        for entry in entries:
            if isinstance(entry, dict):
                minutes = max(minutes, int(entry.get("estimated_time_to_regain_access") or 0))
    return minutes
