"""The ``syndicate`` command. Sub-commands live in the modules imported at the bottom."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from syndicate import __version__
from syndicate.cli import check, core, logsafe, settings, share, shares, upstreams
from syndicate.cli.context import EXIT_CODES, Context

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


for command in (
    core.run,
    core.serve,
    core.worker,
    core.ingest,
    core.render,
    core.articles,
    check.check,
    settings.settings_command,
    share.adapters_command,
    share.preview,
    share.share,
    shares.shares_cmd,
    shares.sandbox,
    upstreams.upstreams,
):
    main.add_command(command)
