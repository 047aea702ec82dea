"""The share outbox as a part: what queueing, posting and recovery work with.

Built once by the wiring from the store, the share side (accounts, adapters,
composition), the clock, the site's time zone, the ``[share.ledger]`` options and the
process's stop signal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from syndicate.adapters.base import Account
from syndicate.shares.sharing import Sharing
from syndicate.store import Store


@dataclass(frozen=True)
class Outbox:
    store: Store
    sharing: Sharing
    clock: Callable[[], datetime]
    timezone: str
    # ``[share.ledger]``: lease_seconds, settle_seconds, max_attempts, backoff_base/cap.
    ledger: Mapping[str, Any]
    stopping: threading.Event

    def now(self) -> datetime:
        return self.clock()

    def option(self, key: str, default: float) -> float:
        return float(self.ledger.get(key, default))

    def enabled_accounts(self) -> dict[str, Account]:
        return {a.key: a for a in self.sharing.accounts()}
