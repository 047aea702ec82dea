"""The ``syndicate`` command. Sub-commands live in the modules imported at the bottom."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from syndicate import __version__, config
from syndicate.cli import logsafe
from syndicate.errors import ConfigError

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


EPILOG = "\b\nExit codes:\n" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Settings file (default: $SYNDICATE_CONFIG, else config/syndicate.toml if present).",
)
@click.version_option(__version__, prog_name="syndicate")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None) -> None:
    """syndicate: articles in; RSS, Atom and JSON feeds and social shares out.

    \b
    Examples:
      syndicate run --demo      # everything in one process, demo articles, local sandbox
      syndicate check           # is the configuration sound? (names each problem's source)
      syndicate articles --json
    Shell completion: eval "$(_SYNDICATE_COMPLETE=bash_source syndicate)" (README)
    """
    ctx.obj = Context(config_path)
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO,
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    logsafe.install()
    # The ticks run every few seconds; APScheduler's per-run INFO lines would drown the log.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Alembic says which backend it uses on every start; only real upgrades are news.
    logging.getLogger("alembic.runtime.migration").addFilter(_only_upgrades)


def _only_upgrades(record: logging.LogRecord) -> bool:
    return record.levelno > logging.INFO or record.getMessage().startswith("Running upgrade")


from syndicate.cli import check, core, settings, share, shares, upstreams  # noqa: E402,F401  (registers the commands)
