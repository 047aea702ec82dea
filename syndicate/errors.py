"""The one exception hierarchy of syndicate.

::

    SyndicateError
    ├── ConfigError            a setting is missing or has a bad value (names the setting)
    ├── UnsafeRuntimeError     (also a RuntimeError) expat or OpenSSL is too old to run safely
    ├── StoreError             the database refused or lost a write
    │   ├── StoreBusy          another writer held the lock too long: try again later
    │   └── ArticleNotFound
    ├── IngestError            an article could not be taken in (carries every problem found)
    │   ├── FetchError         an upstream fetch was refused or failed (SSRF guard, size, timeout)
    │   └── RefusedByStore     the database refused one item's values (retrying cannot help)
    ├── AdapterNotFound        (also a LookupError) no adapter by that name is installed
    └── ShareError             posting a share failed
        ├── RetryableShareError   provably not processed (throttled, connect error); has retry_after
        ├── UnknownOutcomeError   the network may have accepted it (timeout after send, 5xx)
        ├── AuthError             the account's credentials were refused; hold its queue
        └── PermanentShareError   rejected for good (validation, duplicate, permission)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime


class SyndicateError(Exception):
    """Base class of every error syndicate raises on purpose."""


class ConfigError(SyndicateError):
    """A setting is missing or has a bad value."""

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"{setting}: {reason}")
        self.setting = setting
        self.reason = reason


class UnsafeRuntimeError(SyndicateError, RuntimeError):
    """A library under Python (expat, OpenSSL) is too old to run syndicate safely."""


class StoreError(SyndicateError):
    """The database refused or lost a write."""


class DatabaseUnavailable(StoreError):
    """The database cannot be reached or opened (a fault of the server, not a setting)."""


class NoDatabase(StoreError):
    """A command that only reads found no syndicate database where the settings point."""


class StoreBusy(StoreError):
    """A write waited longer than ``db_busy_seconds`` for another writer; try again."""


class ArticleNotFound(StoreError, KeyError):
    """No article with that id."""

    def __str__(self) -> str:
        return f"no article with id {self.args[0]!r}"


class IngestError(SyndicateError):
    """An article could not be taken in.

    ``problems`` maps each bad field (or ``"file"`` for the whole input) to why it is bad,
    so a caller can report every problem at once.
    """

    def __init__(self, problems: Mapping[str, str] | str) -> None:
        if isinstance(problems, str):
            problems = {"file": problems}
        self.problems = dict(problems)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.problems.items()))


class FetchError(IngestError):
    """An outbound fetch was refused (SSRF guard, scheme, size) or failed."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__({"url": reason})
        self.url = url
        self.reason = reason
        self.status = status  # the HTTP status when the server answered with an error


class RefusedByStore(IngestError):
    """The database refused the values of one item (a value out of range, too long)."""

    def __init__(self, reason: str) -> None:
        super().__init__({"article": f"refused by the database: {reason}"})


class AdapterNotFound(SyndicateError, LookupError):
    """No adapter by that name is installed."""

    def __init__(self, name: str) -> None:
        super().__init__(f'No adapter named "{name}" is installed')
        self.name = name


class ShareError(SyndicateError):
    """Posting one share failed; subclasses say what the ledger must do next."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class RetryableShareError(ShareError):
    """The network provably did not process the request; try again no sooner than retry_at."""

    def __init__(
        self, reason: str, *, retry_at: datetime | None = None, status: int | None = None
    ) -> None:
        super().__init__(reason, status=status)
        self.retry_at = retry_at


class UnknownOutcomeError(ShareError):
    """The request may have been accepted; never resend blindly."""


class AuthError(ShareError):
    """The account's credentials were refused; its queue is held until reconnected."""


class PermanentShareError(ShareError):
    """Rejected for good: validation, duplicate content, missing permission."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        duplicate: bool = False,
        remote_id: str | None = None,
        config_problem: bool = False,
    ) -> None:
        super().__init__(reason, status=status)
        self.duplicate = duplicate
        self.remote_id = remote_id
        self.config_problem = config_problem
