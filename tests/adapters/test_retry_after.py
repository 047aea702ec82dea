"""``Retry-After`` in every form a network may send (docs/reliability.md T15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from syndicate.adapters._http import retry_after

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_seconds_http_date_and_garbage() -> None:
    """Seconds and HTTP-dates become a time; garbage or nothing leaves it to backoff (None)."""
    assert retry_after({"Retry-After": "7"}, NOW) == NOW + timedelta(seconds=7)
    date = {"Retry-After": "Sun, 01 Mar 2026 12:05:00 GMT"}
    assert retry_after(date, NOW) == NOW + timedelta(minutes=5)
    for garbage in ("soon", "-5", "1.5", "", "Mon, 99 Foo 2026"):
        assert retry_after({"Retry-After": garbage}, NOW) is None, garbage
    assert retry_after({}, NOW) is None
