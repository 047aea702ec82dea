"""What every sub-command gets: the settings, loaded on first use, the wiring, exit codes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from syndicate import config
from syndicate.errors import ConfigError, SyndicateError
from syndicate.wiring import Wiring

# One table for every command (README, "Commands", shows it too).
EXIT_CODES = {
    0: "done",
    1: "failed: a bad setting, no or an unreachable database, rejected input, a port in use,"
    " a worker already running, problems found by check or preview",
    2: "usage error (unknown command or option, bad option value) or not found (no article,"
    " share job or enabled account by that name)",
}


class NotFound(click.ClickException):
    """What the command names does not exist (exit 2, like a usage error)."""

    exit_code = 2


class Context:
    """What every sub-command gets: the config file path, loaded on first use."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._settings: config.Settings | None = None

    @property
    def settings(self) -> config.Settings:
        if self._settings is None:
            from syndicate.cli.demo import use_running_demo

            try:
                self._settings = use_running_demo(config.load(self.config_path))
            except ConfigError as exc:
                raise click.ClickException(f"bad setting {exc}") from exc
            logging.getLogger().setLevel(self._settings.log_level.upper())
        return self._settings


pass_context = click.make_pass_decorator(Context)


def open_wiring(ctx: Context, *, must_exist: bool = False, **overrides: Any) -> Wiring:
    """Open the store and check the share configuration; a bad setting exits 1 naming it.

    With *must_exist* (commands that read, or act on stored rows) the database must be
    there already: it is never created or upgraded, and its absence is said plainly.
    """
    try:
        settings = ctx.settings.replace(**overrides) if overrides else ctx.settings
        wiring = Wiring.open(settings, create=not must_exist)
        wiring.sharing.validate()
    except ConfigError as exc:
        raise click.ClickException(f"bad setting {exc}") from exc
    except SyndicateError as exc:
        raise click.ClickException(str(exc)) from exc
    return wiring
