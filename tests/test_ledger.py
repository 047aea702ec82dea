"""The pure ledger rules: transitions, outcomes, backoff, pacing and the token bucket."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from syndicate.adapters.base import Outcome, ShareResult
from syndicate.shares.ledger import (
    TRANSITIONS,
    Pacing,
    RetryPolicy,
    ShareActionError,
    State,
    action_target,
    after_lookup,
    check_transition,
    decide,
    share_key,
    take_token,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(base=30, cap=3600, max_attempts=6)


def _decide(result: ShareResult, attempts: int = 1, was_unknown: bool = False):  # type: ignore[no-untyped-def]
    return decide(
        result,
        attempts=attempts,
        was_unknown=was_unknown,
        now=NOW,
        policy=POLICY,
        rng=random.Random(1),
    )


def test_unknown_never_goes_back_to_pending_directly() -> None:
    """in_flight and unknown cannot become pending without reconciliation or an operator."""
    for src in (State.IN_FLIGHT, State.UNKNOWN):
        with pytest.raises(ShareActionError):
            check_transition(src, State.PENDING)
    assert State.PENDING in TRANSITIONS[State.RECONCILING]


def test_every_state_has_its_exits_listed() -> None:
    """Each of the eleven states appears in the transition table."""
    assert set(TRANSITIONS) == set(State)


def test_operator_actions_follow_the_allowed_states() -> None:
    """retry refuses unknown jobs, resolve takes unknown to sent, reshare needs a finished job."""
    with pytest.raises(ShareActionError, match="cannot retry a job that is unknown"):
        action_target("retry", "unknown")
    assert action_target("resolve", "unknown") == State.SENT
    assert action_target("resolve", "needs_review", posted=False) == State.PENDING
    assert action_target("reshare", "sent") == State.PENDING
    with pytest.raises(ShareActionError):
        action_target("reshare", "in_flight")
    with pytest.raises(ShareActionError, match="unknown action"):
        action_target("explode", "pending")


def test_share_key_differs_per_job_and_generation() -> None:
    """The marker is stable for a job, and a re-share gets a new one."""
    assert share_key("a", "x", "desk") == share_key("a", "x", "desk")
    assert share_key("a", "x", "desk") != share_key("a", "x", "desk", 1)
    assert share_key("a", "x", "desk") != share_key("a", "reddit", "desk")
    assert len(share_key("a", "x", "desk")) == 16


def test_outcomes_map_to_states() -> None:
    """Posted → sent, unknown → unknown, auth → held (account hold), permanent → dead."""
    assert _decide(ShareResult(Outcome.POSTED, remote_id="1")).state == State.SENT
    assert _decide(ShareResult(Outcome.UNKNOWN, reason="timeout")).state == State.UNKNOWN
    held = _decide(ShareResult(Outcome.AUTH, reason="token revoked"))
    assert (held.state, held.hold_account) == (State.HELD, True)
    dead = _decide(ShareResult(Outcome.PERMANENT, reason="too long", status=400))
    assert (dead.state, dead.error_kind, dead.error) == (State.DEAD, "permanent", "too long")


def test_duplicate_is_dead_first_time_and_sent_after_unknown() -> None:
    """A duplicate signal on a first attempt is dead; after an unknown it proves the post."""
    dup = ShareResult(Outcome.PERMANENT, duplicate=True, reason="duplicate")
    assert _decide(dup).error_kind == "duplicate_content"
    assert _decide(dup, was_unknown=True).state == State.SENT


def test_retry_waits_for_the_reset_and_gives_up_at_max_attempts() -> None:
    """A throttled attempt is retried no sooner than retry_at; the last attempt goes dead."""
    reset = NOW + timedelta(seconds=900)
    decision = _decide(ShareResult(Outcome.RETRY, retry_at=reset, status=429))
    assert decision.state == State.RETRY_WAIT
    assert decision.next_attempt_at is not None and decision.next_attempt_at >= reset
    assert decision.block_until == reset
    assert _decide(ShareResult(Outcome.RETRY), attempts=6).state == State.DEAD


def test_backoff_is_full_jitter_within_bounds() -> None:
    """Over 10k samples every delay lies in [0, cap], ≥ Retry-After when given, and varies."""
    rng = random.Random(7)
    delays = [(POLICY.next_attempt(a % 12, NOW, rng) - NOW).total_seconds() for a in range(10_000)]
    assert all(0 <= d <= POLICY.cap for d in delays)
    assert len(set(delays)) > 9_000
    floor = NOW + timedelta(seconds=120)
    assert all(POLICY.next_attempt(a % 12, NOW, rng, floor) >= floor for a in range(1000))


def test_huge_retry_after_is_clamped() -> None:
    """A Retry-After a year away is clamped to six hours, for the job and the account block."""
    decision = _decide(ShareResult(Outcome.RETRY, retry_at=NOW + timedelta(days=365)))
    six_hours = NOW + timedelta(seconds=POLICY.cap_retry_after)
    assert decision.next_attempt_at == decision.block_until == six_hours


def test_usage_cap_waits_for_the_billing_cycle() -> None:
    """X's usage cap is not clamped: neither the job nor the account retries before it ends."""
    cycle = NOW + timedelta(days=11)
    decision = _decide(ShareResult(Outcome.RETRY, retry_at=cycle, usage_capped=True))
    assert decision.next_attempt_at is not None and decision.next_attempt_at >= cycle
    assert decision.block_until == cycle


def test_lookup_results() -> None:
    """Found → sent; missing after settling → review (or pending if authoritative)."""
    posted = ShareResult(Outcome.POSTED, remote_id="9")
    assert after_lookup(posted, authoritative=False, settled=False, tries=0) == State.SENT
    assert after_lookup(None, authoritative=False, settled=True, tries=0) == State.NEEDS_REVIEW
    assert after_lookup(None, authoritative=True, settled=True, tries=0) == State.PENDING
    assert after_lookup(None, authoritative=True, settled=False, tries=0) == State.UNKNOWN
    failed = ShareResult(Outcome.UNKNOWN)
    assert after_lookup(failed, authoritative=True, settled=True, tries=4) == State.NEEDS_REVIEW


# -- pacing ----------------------------------------------------------------------------

LONDON = "Europe/London"


def _at(hour: int, minute: int = 0, day: int = 20) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)  # London = UTC in November


def test_slots_take_one_post_each() -> None:
    """With slots, a job waits for the next slot, and a slot already used passes to the next."""
    pacing = Pacing.from_options({"slots": ["12:30", "08:00"], "timezone": LONDON})
    assert pacing.earliest(_at(7), []) == _at(8)
    assert pacing.earliest(_at(9), []) == _at(12, 30)
    assert pacing.earliest(_at(7), [_at(8, 0)]) == _at(12, 30)
    assert pacing.earliest(_at(13), [_at(12, 30)]) == _at(8, day=21)


def test_backlog_after_downtime_does_not_burst() -> None:
    """After days of downtime, one post catches up and the rest wait for later slots."""
    pacing = Pacing.from_options({"slots": ["08:00"], "timezone": LONDON})
    assert pacing.earliest(_at(7, day=16), []) == _at(8, day=16)
    assert pacing.earliest(_at(7, day=16), [_at(10, day=20)]) == _at(8, day=21)


def test_blackout_moves_to_its_end_across_midnight() -> None:
    """A job due inside 23:00-06:00 waits until 06:00, whether before or after midnight."""
    pacing = Pacing.from_options({"blackout": ["23:00-06:00"], "timezone": LONDON})
    assert pacing.earliest(_at(23, 30), []) == _at(6, day=21)
    assert pacing.earliest(_at(2), []) == _at(6)
    assert pacing.earliest(_at(12), []) == _at(12)


def test_blackout_respects_the_account_timezone() -> None:
    """Blackout hours are local: 23:00 in New York is 04:00 UTC the next day."""
    pacing = Pacing.from_options({"blackout": ["23:00-06:00"], "timezone": "America/New_York"})
    assert pacing.earliest(_at(5), []) == _at(11)  # 00:00 EST → 06:00 EST
    assert pacing.earliest(_at(15), []) == _at(15)


def test_daily_cap_moves_to_the_next_local_day() -> None:
    """Once the cap is reached, the next post waits for local midnight."""
    pacing = Pacing.from_options({"daily_cap": 2, "timezone": LONDON})
    sends = [_at(9), _at(10)]
    assert pacing.earliest(_at(11), sends) == _at(0, day=21)
    assert pacing.earliest(_at(11), sends[:1]) == _at(11)


def test_spacing_trickles_a_burst() -> None:
    """Thirty articles at once go out min_spacing apart."""
    pacing = Pacing.from_options({"min_spacing": 300})
    sends: list[datetime] = []
    for _ in range(30):
        sends.append(pacing.earliest(_at(12), sends))
    gaps = {(b - a).total_seconds() for a, b in pairwise(sends)}
    assert sends[0] == _at(12) and gaps == {300.0}


def test_delay_and_bad_options() -> None:
    """Delay is read as seconds; a malformed slot is a clear error."""
    assert Pacing.from_options({"delay": 90}).delay == 90
    with pytest.raises(ValueError, match=r"'8am' is not a time of day like 08:30"):
        Pacing.from_options({"slots": ["8am"]})
    with pytest.raises(ValueError, match=r"'24:00' is not a time of day"):
        Pacing.from_options({"slots": ["24:00"]})
    with pytest.raises(ValueError, match=r"'23:00' is not a window like 23:00-06:00"):
        Pacing.from_options({"blackout": ["23:00"]})


def test_token_bucket_allows_capacity_then_waits() -> None:
    """A 10/hour bucket lets 10 through a burst of 50, then names the wait for the next."""
    bucket, taken, wait = None, 0, 0.0
    for _ in range(50):
        new, wait = take_token(bucket, 10, 3600, NOW)
        bucket = new
        taken += wait == 0
    assert taken == 10 and wait == pytest.approx(360)
    refilled, wait = take_token(bucket, 10, 3600, NOW + timedelta(seconds=360))
    assert wait == 0 and refilled.tokens == pytest.approx(0)
