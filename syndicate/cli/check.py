"""``syndicate check``: every problem of the configuration, each named with its source.

Reads only: creates no database, directory or file (it writes and removes one probe file
to learn whether a directory is writable). A problem names where it comes from: the
settings file and line, the environment variable or the option.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa

from syndicate import config
from syndicate.cli.context import Context, pass_context
from syndicate.errors import ConfigError
from syndicate.store import SchemaState, safe_url, schema_state


@dataclass(frozen=True)
class Finding:
    """``ok`` or ``problem``, the part checked, and what was found."""

    status: str
    part: str
    message: str


def _ok(part: str, message: str) -> Finding:
    return Finding("ok", part, message)


def _problem(part: str, message: str) -> Finding:
    return Finding("problem", part, message)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@pass_context
def check(ctx: Context, as_json: bool) -> None:
    """Check the configuration without changing anything; exit 1 if there is a problem.

    Checks the settings (TOML syntax, unknown keys with a suggestion, bad values, unknown
    SYNDICATE_* variables), the database (reachable, schema), the data, inbox and feeds
    directories (writable), the adapters, and each account (options and credentials).

    \b
    Examples:
      syndicate check
      syndicate --config /etc/syndicate/syndicate.toml check --json
    """
    findings = list(run_checks(ctx.config_path, os.environ))
    problems = sum(f.status == "problem" for f in findings)
    if as_json:
        click.echo(json.dumps([asdict(f) for f in findings], indent=2, ensure_ascii=False))
    else:
        width = max(len(f.part) for f in findings)
        for f in findings:
            click.echo(f"{f.status:<8} {f.part:<{width}}  {f.message}")
        click.echo(f"{problems} problem(s)" if problems else "no problems")
    if problems:
        click.get_current_context().exit(1)


def run_checks(path: Path | None, env: Mapping[str, str]) -> Iterator[Finding]:
    """Every finding, settings first; the rest is checked only when the settings load."""
    from syndicate.cli.demo import use_running_demo

    settings, problems = config.diagnose(path, env)
    for name, hint in config.unknown_env(env):
        yield _problem("settings", f"{name} (environment): not a setting{hint}")
    for exc in problems:
        yield _problem("settings", str(exc))
    if settings is None:
        yield Finding("note", "settings", "the database, directories and accounts are checked "
                      "once the settings load")  # fmt: skip
        return
    file = config.config_path(path, env)
    yield _ok("settings", f"read from {file if file.exists() else 'defaults and environment'}")
    settings = use_running_demo(settings)
    yield from _check_database(settings)
    yield from _check_dirs(settings)
    yield from _check_sharing(settings, env)


def _check_database(settings: config.Settings) -> Iterator[Finding]:
    shown = safe_url(settings.database)
    try:
        state: SchemaState = schema_state(settings.database)
    except sa.exc.SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        origin = f"database_url from {settings.origin('database_url')}"
        yield _problem("database", f"cannot reach {shown} ({origin}): {reason}")
        return
    if not state.exists:
        yield _ok("database", f"none yet at {shown}: `syndicate run` or `worker` creates it")
    elif state.current == state.head:
        yield _ok("database", f"{shown}: reachable, schema {state.current}")
    else:
        yield _ok("database", f"{shown}: reachable; the next start upgrades it to {state.head}")


def _check_dirs(settings: config.Settings) -> Iterator[Finding]:
    for name, path in (
        ("data_dir", settings.data_dir),
        ("inbox", settings.inbox_dir),
        ("feeds_dir", settings.feeds_dir),
    ):
        reason = unwritable(path)
        if reason:
            label = settings.label(name if name != "inbox" or settings.inbox else "data_dir")
            yield _problem("directories", f"{label}: {path} {reason}")
        else:
            yield _ok("directories", f"{name} {path.resolve()} is writable")


def unwritable(path: Path) -> str:
    """Why this process cannot write files in *path* (creating it if missing), or ""."""
    if path.exists():
        if not path.is_dir():
            return "is not a directory"
        probe = path / f".syndicate-check-{os.getpid()}"
        try:
            probe.touch()
            probe.unlink()
        except OSError as exc:
            return f"is not writable ({exc.strerror})"
        return ""
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"cannot be created: {ancestor} is not a directory"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"cannot be created: {ancestor} is not writable"
    return ""


def _check_sharing(settings: config.Settings, env: Mapping[str, str]) -> Iterator[Finding]:
    """Adapters installed; each account's options valid and its credentials present."""
    from syndicate.shares.sharing import Sharing

    locate = _Locator(settings)
    try:
        sharing = Sharing(settings, lambda: datetime.now(UTC), env=env)
    except ConfigError as exc:
        yield _problem("accounts", locate(exc))
        return
    try:
        specs = sharing.config.accounts
        if not specs:
            yield _ok("accounts", "none configured: nothing will be posted")
            return
        problems = sharing.problems(credentials=True)
        for found in problems:
            yield _problem(_part_of(found), locate(found))
        troubled = {s.key for s in specs for found in problems if s.where in found.setting}
        for spec in specs:
            if spec.key not in troubled:
                state = "ready" if spec.enabled else "disabled (enabled = false)"
                yield _ok("accounts", f"{spec.key} is {state}")
    finally:
        sharing.close()


def _part_of(exc: ConfigError) -> str:
    if "adapter" in exc.reason.lower():
        return "adapters"
    if "credential" in exc.reason or "secrets_file" in exc.setting:
        return "secrets"
    return "accounts"


_ACCOUNT = re.compile(r"share\.accounts\[(\d+)\]")
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?")


class _Locator:
    """Turns ``share.accounts[1].network`` into ``… (config/syndicate.toml line 14)``."""

    def __init__(self, settings: config.Settings) -> None:
        self.file: Path | None = None
        self.lines: list[tuple[str, int]] = []
        found = re.fullmatch(r"(.+) line \d+", settings.source("share"))
        if found and Path(found.group(1)).is_file():
            self.file = Path(found.group(1))
            text = self.file.read_text(encoding="utf-8", errors="replace")
            for number, line in enumerate(text.splitlines(), 1):
                header = _HEADER.match(line)
                if header:
                    self.lines.append((header.group(1), number))

    def __call__(self, exc: ConfigError) -> str:
        line = self._line(exc.setting)
        if self.file is None or line is None:
            return str(exc)
        return f"{exc.setting} ({self.file} line {line}): {exc.reason}"

    def _line(self, setting: str) -> int | None:
        account = _ACCOUNT.search(setting)
        if account:
            numbers = [n for name, n in self.lines if name == "share.accounts"]
            index = int(account.group(1))
            return numbers[index] if index < len(numbers) else None
        best = None
        for name, number in self.lines:
            if setting.startswith(name) and (best is None or len(name) > len(best[0])):
                best = (name, number)
        return best[1] if best else None
