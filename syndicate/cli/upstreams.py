"""``syndicate upstreams``: each upstream feed's last poll and why entries were refused."""

from __future__ import annotations

import json
from typing import Any

import click

from syndicate.cli.context import Context, open_wiring, pass_context
from syndicate.ingest.poll_record import ENTRY_RESULTS, poll_outcomes


@click.command("upstreams")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (as GET /api/upstreams).")
@click.option(
    "--problems",
    default=20,
    show_default=True,
    type=click.IntRange(0, 10_000),
    help="Show at most this many problems each.",
)
@pass_context
def upstreams(ctx: Context, as_json: bool, problems: int) -> None:
    """List upstream feeds with their last poll: outcome, counts, rejected entries.

    \b
    Examples:
      syndicate upstreams
      syndicate upstreams --json | jq '.upstreams[].last_poll'
    """
    service = open_wiring(ctx, must_exist=True)
    outcomes = poll_outcomes(service.store, service.settings.upstream)
    service.close()
    if as_json:
        click.echo(json.dumps({"upstreams": outcomes}, indent=2, ensure_ascii=False))
        return
    if not outcomes:
        click.echo("no upstream feeds configured ([[upstream]] tables in the settings file)")
    for outcome in outcomes:
        for line in describe(outcome, problems):
            click.echo(line)


def describe(outcome: dict[str, Any], max_problems: int) -> list[str]:
    """Text lines for one upstream: a heading, its last poll, its problems."""
    name = outcome["name"] + ("" if outcome["configured"] else " (no longer configured)")
    lines = [f"{name}  {outcome['url']}"]
    last = outcome["last_poll"]
    if last is None:
        return [*lines, "  never polled yet"]
    status = last["http_status"] if last["http_status"] is not None else "-"
    lines.append(
        f"  last poll {last['at']}: {last['outcome']}, HTTP {status}, "
        f"conditional GET {last['conditional']}, next {outcome['next_poll_at'] or '-'}"
    )
    if last["error"]:
        lines.append(f"  error: {last['error']}")
    counts = last["counts"]
    lines.append("  " + ", ".join(f"{counts[k]} {k}" for k in ("seen", *ENTRY_RESULTS)))
    lines += [f"  note: {note}" for note in last["notes"]]
    shown = last["problems"][:max_problems]
    for problem in shown:
        who = problem["label"] or problem["key"] or ""
        lines.append(
            f"  entry {problem['position']} {problem['kind']}: {problem['reason']}"
            + (f"  [{who}]" if who else "")
        )
    if len(last["problems"]) > len(shown):
        lines.append(f"  … {len(last['problems']) - len(shown)} more (--problems, --json)")
    return lines
