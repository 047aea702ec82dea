"""The share ledger's rules, pure: states, transitions, backoff, pacing, outcomes.

No I/O and no clock: every function takes ``now`` (and a random source where jitter is
needed). :mod:`syndicate.shares` applies these rules to the database
(docs/reliability.md §2–§3).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from syndicate import net
from syndicate.adapters.base import Outcome, ShareResult
from syndicate.errors import SyndicateError


class State(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    IN_FLIGHT = "in_flight"
    SENT = "sent"
    RETRY_WAIT = "retry_wait"
    UNKNOWN = "unknown"
    RECONCILING = "reconciling"
    NEEDS_REVIEW = "needs_review"
    HELD = "held"
    DEAD = "dead"
    CANCELLED = "cancelled"


S = State
# Due for a claim once next_attempt_at has passed.
CLAIMABLE = (S.PENDING, S.RETRY_WAIT)
# At most one job per (network, account) in these states: the worker owns it.
WORKING = (S.CLAIMED, S.IN_FLIGHT)
TERMINAL = (S.SENT, S.CANCELLED)

TRANSITIONS: dict[State, frozenset[State]] = {
    S.PENDING: frozenset({S.CLAIMED, S.CANCELLED, S.HELD}),
    S.CLAIMED: frozenset({S.IN_FLIGHT, S.PENDING, S.SENT, S.HELD, S.CANCELLED, S.DEAD}),
    S.IN_FLIGHT: frozenset({S.SENT, S.RETRY_WAIT, S.UNKNOWN, S.DEAD, S.HELD}),
    S.RETRY_WAIT: frozenset({S.CLAIMED, S.DEAD, S.HELD, S.CANCELLED, S.PENDING}),
    S.UNKNOWN: frozenset({S.RECONCILING, S.NEEDS_REVIEW, S.SENT, S.CANCELLED}),
    S.RECONCILING: frozenset({S.SENT, S.PENDING, S.NEEDS_REVIEW, S.UNKNOWN}),
    S.NEEDS_REVIEW: frozenset({S.SENT, S.PENDING, S.CANCELLED}),
    S.HELD: frozenset({S.PENDING, S.CANCELLED}),
    S.SENT: frozenset({S.PENDING}),  # operator re-share only
    S.DEAD: frozenset({S.PENDING, S.CANCELLED}),
    S.CANCELLED: frozenset({S.PENDING}),  # operator re-share only
}

# Operator actions: the states each may start from, and where it leads.
ACTIONS: dict[str, tuple[frozenset[State], State]] = {
    "retry": (frozenset({S.RETRY_WAIT, S.HELD, S.DEAD, S.NEEDS_REVIEW}), S.PENDING),
    "cancel": (
        frozenset({S.PENDING, S.RETRY_WAIT, S.HELD, S.DEAD, S.NEEDS_REVIEW, S.UNKNOWN}),
        S.CANCELLED,
    ),
    "resolve": (frozenset({S.UNKNOWN, S.NEEDS_REVIEW}), S.SENT),
    "reshare": (frozenset({S.SENT, S.CANCELLED, S.DEAD}), S.PENDING),
}


class ShareActionError(SyndicateError):
    """An operator action that the job's current state does not allow."""


class ShareNotFound(SyndicateError, KeyError):
    """No share job with that id."""

    def __str__(self) -> str:
        return f"no share job with id {self.args[0]!r}"


def check_transition(src: str, dst: str) -> None:
    """Raise unless the ledger allows *src* → *dst* (the unknown-outcome rule lives here)."""
    if State(dst) not in TRANSITIONS[State(src)]:
        raise ShareActionError(f"a share job cannot go from {src} to {dst}")


def action_target(action: str, state: str, *, posted: bool = True) -> State:
    """Where an operator *action* takes a job in *state*; raises when not allowed."""
    if action not in ACTIONS:
        raise ShareActionError(f"unknown action {action!r}; use {', '.join(ACTIONS)}")
    allowed, target = ACTIONS[action]
    if State(state) not in allowed:
        starts = ", ".join(sorted(allowed))
        raise ShareActionError(f"cannot {action} a job that is {state} (only from {starts})")
    if action == "resolve" and not posted:
        return S.PENDING
    return target


def share_key(article_id: str, network: str, account: str, generation: int = 0) -> str:
    """The job's marker, put in each shared link (``share.marker_param``) to find it again."""
    raw = f"{article_id}|{network}|{account}|{generation}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


# -- retries -------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Full-jitter exponential backoff (docs/reliability.md §3.3)."""

    base: float = 30.0
    cap: float = 3600.0
    max_attempts: int = 6
    cap_retry_after: float = 21600.0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> RetryPolicy:
        return cls(
            base=float(options.get("backoff_base", cls.base)),
            cap=float(options.get("backoff_cap", cls.cap)),
            max_attempts=int(options.get("max_attempts", cls.max_attempts)),
        )

    def next_attempt(
        self, attempt: int, now: datetime, rng: random.Random, retry_at: datetime | None = None
    ) -> datetime:
        """``now + uniform(0, min(cap, base·2^attempt))``, never before *retry_at*."""
        delay = net.full_jitter(attempt, self.base, self.cap, rng)
        return max(now + timedelta(seconds=delay), retry_at or now)

    def clamp(self, retry_at: datetime | None, now: datetime) -> datetime | None:
        """A server-given wait, clamped to ``cap_retry_after`` so garbage can't park a job."""
        if retry_at is None:
            return None
        return min(retry_at, now + timedelta(seconds=self.cap_retry_after))


@dataclass(frozen=True)
class Decision:
    """What the ledger does with one attempt's result."""

    state: State
    next_attempt_at: datetime | None = None
    error_kind: str | None = None
    error: str | None = None
    hold_account: bool = False
    block_until: datetime | None = None


def decide(
    result: ShareResult,
    *,
    attempts: int,
    was_unknown: bool,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random,
) -> Decision:
    """Map an adapter's :class:`ShareResult` to the next state (docs/reliability.md §2.4)."""
    reason = result.reason or (f"HTTP {result.status}" if result.status else "")
    match result.outcome:
        case Outcome.POSTED:
            return Decision(S.SENT)
        case Outcome.UNKNOWN:
            return Decision(S.UNKNOWN, error_kind="unknown", error=reason)
        case Outcome.AUTH:
            return Decision(S.HELD, error_kind="auth", error=reason, hold_account=True)
        case Outcome.RETRY:
            if attempts >= policy.max_attempts:
                return Decision(
                    S.DEAD,
                    error_kind="max_attempts",
                    error=f"gave up after {attempts} attempts: {reason}",
                )
            # A usage cap lasts to the billing cycle by design; other waits are clamped.
            floor = result.retry_at if result.usage_capped else policy.clamp(result.retry_at, now)
            when = policy.next_attempt(attempts, now, rng, floor)
            return Decision(S.RETRY_WAIT, when, "retry", reason, block_until=floor)
    if result.duplicate and was_unknown:
        return Decision(S.SENT, error_kind="duplicate_after_unknown", error=reason)
    kind = (
        "duplicate_content"
        if result.duplicate
        else ("config" if result.config_problem else "permanent")
    )
    return Decision(S.DEAD, error_kind=kind, error=reason)


def after_lookup(
    found: ShareResult | None,
    *,
    authoritative: bool,
    settled: bool,
    tries: int,
    max_tries: int = 5,
) -> State:
    """Where a reconciled job goes (the unknown-outcome rule).

    Found → sent. Not found once the settle delay has passed → pending only when the
    adapter's lookup is authoritative, else review. Inconclusive or too early → stays
    unknown, until *max_tries* lookups send it to review.
    """
    if found is not None and found.outcome == Outcome.POSTED:
        return S.SENT
    if found is None and settled:
        return S.PENDING if authoritative else S.NEEDS_REVIEW
    return S.NEEDS_REVIEW if tries + 1 >= max_tries else S.UNKNOWN


# -- pacing --------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A daily local-time window such as ``23:00-06:00`` (may cross midnight)."""

    start: time
    end: time

    def contains(self, t: time) -> bool:
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


@dataclass(frozen=True)
class Pacing:
    """One account's posting rules, read from its options."""

    delay: float = 0.0
    slots: tuple[time, ...] = ()
    blackout: tuple[Window, ...] = ()
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    daily_cap: int = 0
    min_spacing: float = 0.0

    @classmethod
    def from_options(cls, options: Mapping[str, Any], default_tz: str = "UTC") -> Pacing:
        """Parse pacing keys; raises ValueError naming the bad key."""
        try:
            return cls(
                delay=float(options.get("delay", 0) or 0),
                slots=tuple(sorted(_hhmm(s) for s in options.get("slots", ()) or ())),
                blackout=tuple(_window(w) for w in options.get("blackout", ()) or ()),
                tz=ZoneInfo(str(options.get("timezone") or default_tz)),
                daily_cap=int(options.get("daily_cap", 0) or 0),
                min_spacing=float(options.get("min_spacing", 0) or 0),
            )
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"bad pacing option: {exc}") from exc

    @property
    def needs_history(self) -> bool:
        """Whether :meth:`earliest` looks at past sends (spacing, slots, daily cap)."""
        return bool(self.min_spacing or self.slots or self.daily_cap)

    def earliest(self, ready: datetime, sends: Sequence[datetime]) -> datetime:
        """The first instant ≥ *ready* at which the account may post, given its past *sends*."""
        last = max(sends) if sends else None
        t = ready
        if last is not None and self.min_spacing:
            t = max(t, last + timedelta(seconds=self.min_spacing))
        for _ in range(1000):
            if self.slots:
                t = self._next_slot(t, last)
            local = t.astimezone(self.tz)
            window = next((w for w in self.blackout if w.contains(local.time())), None)
            if window is not None:
                t = _next_local(local, window.end, self.tz)
                continue
            if self.daily_cap and _count_on(sends, local.date(), self.tz) >= self.daily_cap:
                t = _at(local.date() + timedelta(days=1), time(0), self.tz)
                continue
            return t
        raise ValueError("pacing rules leave no time to post")

    def _next_slot(self, t: datetime, last: datetime | None) -> datetime:
        """First slot occurrence ≥ t and after the last send (each slot takes one post)."""
        day = t.astimezone(self.tz).date()
        for offset in range(0, 9):
            for slot in self.slots:
                occ = _at(day + timedelta(days=offset), slot, self.tz)
                if occ >= t and (last is None or occ > last):
                    return occ
        raise ValueError("no posting slot found")


def ready_at(published: datetime, pacing: Pacing) -> datetime:
    """When a new article's job first becomes due: publication plus the account's delay."""
    return published + timedelta(seconds=pacing.delay)


def _hhmm(text: str) -> time:
    hour, sep, minute = str(text).strip().partition(":")
    if not (sep and hour.isdigit() and minute.isdigit()) or int(hour) > 23 or int(minute) > 59:
        raise ValueError(f"{text!r} is not a time of day like 08:30")
    return time(int(hour), int(minute))


def _window(text: str) -> Window:
    start, sep, end = str(text).partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not a window like 23:00-06:00")
    return Window(_hhmm(start), _hhmm(end))


def _at(day: date, t: time, tz: ZoneInfo) -> datetime:
    """The instant of local *day* at *t*, normalised through UTC (DST gaps move forward)."""
    local = datetime.combine(day, t, tzinfo=tz)
    return local.astimezone(ZoneInfo("UTC")).astimezone(tz)


def _next_local(local: datetime, t: time, tz: ZoneInfo) -> datetime:
    """The next instant (≥ *local*) at local time *t*."""
    candidate = _at(local.date(), t, tz)
    if candidate < local:
        candidate = _at(local.date() + timedelta(days=1), t, tz)
    return candidate


def _count_on(sends: Iterable[datetime], day: date, tz: ZoneInfo) -> int:
    return sum(1 for s in sends if s.astimezone(tz).date() == day)


# -- token bucket --------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    """A token bucket's stored state."""

    tokens: float
    updated_at: datetime


def take_token(
    bucket: Bucket | None, capacity: float, per_seconds: float, now: datetime
) -> tuple[Bucket, float]:
    """Take one token; returns the new state and 0, or the unchanged state and seconds to wait."""
    refill = capacity / per_seconds
    if bucket is None:
        bucket = Bucket(capacity, now)
    elapsed = max((now - bucket.updated_at).total_seconds(), 0.0)
    tokens = min(capacity, bucket.tokens + elapsed * refill)
    if tokens >= 1:
        return Bucket(tokens - 1, now), 0.0
    return Bucket(tokens, now), (1 - tokens) / refill
