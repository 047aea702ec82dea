"""``syndicate shares`` (the ledger as a table, operator actions) and ``syndicate sandbox``."""

from __future__ import annotations

import json
from typing import Any

import click

from syndicate import shares
from syndicate.cli.context import Context, NotFound, open_wiring, pass_context
from syndicate.shares import view as shares_view
from syndicate.shares.ledger import ShareActionError, ShareNotFound, State
from syndicate.shares.view import LIST_FIELDS

# The API's fields, with the id operators type and without the long permalink.
COLUMNS = ("id", *(name for name in LIST_FIELDS if name != "permalink"))


@click.group("shares", invoke_without_command=True)
@click.option("--article", help="Only this article id.")
@click.option("--state", type=click.Choice([s.value for s in State]), help="Only this state.")
@click.option("--network", help="Only this network (x, facebook, reddit, linkedin, …).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_context
@click.pass_context
def shares_cmd(
    click_ctx: click.Context,
    ctx: Context,
    article: str | None,
    state: str | None,
    network: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List share jobs; sub-commands retry, cancel, resolve or re-share one.

    \b
    Examples:
      syndicate shares --state unknown
      syndicate shares --article 001-ecb-holds-rates --json
      syndicate shares retry 12
    """
    if click_ctx.invoked_subcommand is not None:
        return
    service = open_wiring(ctx, must_exist=True)
    try:
        jobs = shares_view.list_jobs(
            service.store, article=article, state=state, network=network, limit=limit
        )
    finally:
        service.close()
    if as_json:
        click.echo(json.dumps(jobs, indent=2))
    else:
        click.echo(format_table(jobs))


def format_table(jobs: list[dict[str, Any]]) -> str:
    """A plain-text table of jobs, one per line, columns padded to fit."""
    if not jobs:
        return "no share jobs"
    rows = [[_cell(job.get(c)) for c in COLUMNS] for job in jobs]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    lines = [[c.upper() for c in COLUMNS], *rows]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= 60 else text[:59] + "…"


def _action(action: str, help_text: str) -> click.Command:
    @click.argument("job_id", type=int)
    @pass_context
    def command(ctx: Context, /, job_id: int, **options: Any) -> None:
        service = open_wiring(ctx, must_exist=True)
        try:
            job = shares.act(service.outbox, job_id, action, actor="operator:cli", **options)
        except ShareNotFound as exc:
            raise NotFound(str(exc)) from exc
        except ShareActionError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            service.close()
        click.echo(f"share {job['id']} ({job['network']} @{job['account']}): {job['state']}")

    command.__doc__ = f"{help_text}\n\n    \b\n    Example:\n      syndicate shares {action} 12\n"
    return click.command(action)(command)


shares_cmd.add_command(_action("retry", "Send a held, failed or reviewed job again."))
shares_cmd.add_command(_action("cancel", "Cancel a job that has not been sent."))
shares_cmd.add_command(_action("reshare", "Post an already sent (or cancelled, dead) job again."))
resolve = _action("resolve", "Settle an unknown or review job: it was posted (default) or not.")
resolve = click.option(
    "--not-posted",
    "posted",
    flag_value=False,
    default=True,
    help="The post is not on the network: queue it to be sent.",
)(resolve)
resolve = click.option("--permalink", help="URL of the post on the network.")(resolve)
shares_cmd.add_command(resolve)


@click.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port on 127.0.0.1 (default: the sandbox_port setting, 8089).",
)
@pass_context
def sandbox(ctx: Context, port: int | None) -> None:
    """Serve local stand-ins for the Facebook, X, Reddit and LinkedIn APIs.

    \b
    Examples:
      syndicate sandbox                 # on 127.0.0.1:8089
      syndicate sandbox --port 9089
      curl -s http://127.0.0.1:8089/__requests
    """
    from syndicate.cli.core import cannot_listen
    from syndicate.sandbox.server import Sandbox, run_sandbox

    settings = ctx.settings
    if port is not None:
        settings = settings.replace(sandbox_port=port, source="--port")
    try:
        box = Sandbox(settings.sandbox_port)
    except OSError as exc:
        raise click.ClickException(cannot_listen(settings, "sandbox_port", exc, "--port")) from exc
    click.echo(
        f"sandbox on {box.url} (/facebook, /x, /reddit, /linkedin; "
        "GET /__requests, POST /__faults, POST /__reset)"
    )
    run_sandbox(box)
