"""What each upstream poll did, stored per upstream so an operator can see it.

One ``upstream_poll`` row per upstream holds the last poll (time, outcome, HTTP status,
conditional-GET result, entry counts, feed notes, and up to :data:`PROBLEMS_KEPT` rejected
entries and dropped parts with their reasons) and running totals by poll outcome and
entry result, which ``/metrics`` exposes from the database (so any web process shows what
every worker did). ``syndicate upstreams``, ``GET /api/upstreams`` and ``/admin`` read
:func:`poll_outcomes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from syndicate.models import UpstreamSpec
from syndicate.store import Store, upstreams

if TYPE_CHECKING:
    from syndicate.ingest import Intake

PROBLEMS_KEPT = 200
ENTRY_RESULTS = ("created", "updated", "unchanged", "rejected", "repeated")


@dataclass(frozen=True, slots=True)
class EntryProblem:
    """A rejected entry ("rejected") or a part dropped to keep one ("warning")."""

    position: int  # 1-based, in document order
    key: str | None
    label: str  # title or start of the text, for a human
    kind: str
    reason: str


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll of one upstream did."""

    name: str
    status: str  # "ok", "not-modified" or "error"
    http_status: int | None = None
    conditional: str = "unconditional"  # or "not-modified" / "modified"
    encoding: str | None = None
    entries: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    repeated: int = 0
    problems: tuple[EntryProblem, ...] = ()
    notes: tuple[str, ...] = ()
    error: str | None = None

    @property
    def rejected(self) -> list[EntryProblem]:
        return [p for p in self.problems if p.kind == "rejected"]

    @property
    def warnings(self) -> list[EntryProblem]:
        return [p for p in self.problems if p.kind == "warning"]


def record_poll(intake: Intake, url: str, result: PollResult) -> None:
    """Store *result* as the upstream's last poll and add it to the running totals."""
    now = intake.now()

    def values(old_totals: Mapping[str, Any] | None) -> dict[str, Any]:
        return {
            "url": url, "polled_at": now, "outcome": result.status,
            "http_status": result.http_status, "conditional": result.conditional,
            "encoding": result.encoding, "seen": result.entries, "created": result.created,
            "updated": result.updated, "unchanged": result.unchanged,
            "rejected": len(result.rejected), "repeated": result.repeated,
            "error": result.error, "notes": _notes(result),
            "problems": [asdict(p) for p in result.problems[:PROBLEMS_KEPT]],
            "totals": _add(old_totals, result),
        }  # fmt: skip

    upstreams.save_poll(intake.store, result.name, values)


def _notes(result: PollResult) -> list[str]:
    omitted = len(result.problems) - PROBLEMS_KEPT
    extra = (
        [f"{omitted} more problems not kept (the first {PROBLEMS_KEPT} are)"] if omitted > 0 else []
    )
    return [*result.notes, *extra]


def _add(old: Mapping[str, Any] | None, result: PollResult) -> dict[str, Any]:
    polls = dict((old or {}).get("polls") or {})
    entries = dict((old or {}).get("entries") or {})
    polls[result.status] = polls.get(result.status, 0) + 1
    counts = {
        "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
        "rejected": len(result.rejected), "repeated": result.repeated,
    }  # fmt: skip
    for name, count in counts.items():
        entries[name] = entries.get(name, 0) + count
    return {"polls": polls, "entries": entries}


def poll_outcomes(store: Store, specs: Sequence[UpstreamSpec]) -> list[dict[str, Any]]:
    """Every configured upstream (and any polled before but since removed), its last poll."""
    polls, states = upstreams.polls_and_states(store)
    configured = {spec.name: spec.url for spec in specs}
    names = [*configured, *sorted(n for n in polls if n not in configured)]
    return [_outcome(n, configured.get(n), polls.get(n), states.get(n)) for n in names]


def _outcome(
    name: str, url: str | None, poll: dict[str, Any] | None, state: dict[str, Any] | None
) -> dict[str, Any]:
    last: dict[str, Any] | None = None
    if poll is not None:
        last = {
            "at": _iso(poll["polled_at"]), "outcome": poll["outcome"],
            "http_status": poll["http_status"], "conditional": poll["conditional"],
            "encoding": poll["encoding"], "error": poll["error"],
            "counts": {k: poll[k] for k in ("seen", *ENTRY_RESULTS)},
            "notes": poll["notes"], "problems": poll["problems"],
        }  # fmt: skip
    return {
        "name": name,
        "url": url or (poll or {}).get("url"),
        "configured": url is not None,
        "next_poll_at": _iso(state["next_fetch_at"]) if state else None,
        "last_poll": last,
        "totals": (poll or {}).get("totals") or {"polls": {}, "entries": {}},
    }


def _iso(moment: Any) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None
