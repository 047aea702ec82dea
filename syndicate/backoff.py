"""Full-jitter exponential backoff: the one retry delay of syndicate.

Share posts (the ledger) and WebSub pings both wait ``uniform(0, min(cap, base·2^attempt))``
(docs/reliability.md §3.3): spreading retries evenly keeps many failed jobs from waking at
the same moment. Pure: the caller passes the random source.
"""

from __future__ import annotations

import random


def full_jitter(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """A delay in seconds before retry number *attempt* (0 for the first retry)."""
    return (rng or random).uniform(0, min(cap, base * 2 ** max(attempt, 0)))
