"""``syndicate settings``: every setting's value and where it came from."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

from syndicate import config
from syndicate.cli.context import Context, pass_context

# Shown as "(set)" rather than printed: anyone who can read the terminal could use them.
SECRET_SETTINGS = frozenset({"api_token"})


@click.command("settings")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--env-example",
    is_flag=True,
    help="Print the .env.example text (every SYNDICATE_* variable with its default).",
)
@pass_context
def settings_command(ctx: Context, as_json: bool, env_example: bool) -> None:
    """List every setting: its value and where it came from (default, file line, variable).

    \b
    Examples:
      syndicate settings
      syndicate settings --json | jq '.[] | select(.source != "default")'
      syndicate settings --env-example > .env.example
    """
    if env_example:
        click.echo(config.env_example(), nl=False)
        return
    settings = ctx.settings
    rows = [_row(settings, f) for f in config.SETTINGS]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        click.echo(f"{r['name']:<{width}}  {r['value']!s:<30}  {r['source']}")


def _row(settings: config.Settings, f: dataclasses.Field[Any]) -> dict[str, Any]:
    value: Any = getattr(settings, f.name)
    if f.name in SECRET_SETTINGS:
        value = "(set)" if value else ""
    elif isinstance(value, tuple):
        value = f"{len(value)} table(s)"
    elif isinstance(value, dict):
        value = f"{len(value)} key(s)" if value else ""
    elif value is None:
        value = ""
    else:
        value = str(value) if not isinstance(value, bool | int) else value
    return {"name": f.name, "value": value, "source": settings.source(f.name)}
