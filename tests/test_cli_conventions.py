"""The CLI's conventions: one exit-code table, errors on stderr, --json on listings,
--help with an example everywhere, and read-only commands that create nothing."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from syndicate.cli import main
from syndicate.cli.context import EXIT_CODES

SEED = Path(__file__).parent.parent / "demo" / "inbox" / "001_ecb-holds-rates.txt"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


ALL = list(_commands(main))


@pytest.mark.parametrize("argv", ALL, ids=" ".join)
def test_every_command_has_help_with_an_example(argv: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*argv, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout, f"`syndicate {' '.join(argv)} --help` shows no example"


LISTINGS = ["articles", "adapters", "shares", "settings", "check", "upstreams"]


def test_every_listing_command_has_json() -> None:
    for name in LISTINGS:
        if name in main.commands:
            params = {p.name for p in main.commands[name].params}
            assert "as_json" in params, name


def test_main_help_shows_the_exit_code_table() -> None:
    text = CliRunner().invoke(main, ["--help"]).stdout
    for code, meaning in EXIT_CODES.items():
        assert f"    {code}  {meaning}\n" in text


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SYNDICATE_")}
    (tmp_path / "syndicate.toml").write_text('site_title = "Test Daily"\n')
    clean.update(
        SYNDICATE_CONFIG=str(tmp_path / "syndicate.toml"),
        SYNDICATE_DATA_DIR=str(tmp_path / "data"),
        SYNDICATE_FEEDS_DIR=str(tmp_path / "feeds"),
        SYNDICATE_BASE_URL="https://feeds.example.com",
    )
    return clean


def run(env: dict[str, str | None], *argv: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(argv), env=env)


READ_ONLY = [
    ["articles"],
    ["articles", "--json"],
    ["shares"],
    ["preview", "001-ecb-holds-rates"],
    ["share", "001-ecb-holds-rates", "--dry-run"],
]


@pytest.mark.parametrize("argv", READ_ONLY, ids=" ".join)
def test_read_only_commands_never_create_a_database(
    env: dict[str, str | None], tmp_path: Path, argv: list[str]
) -> None:
    result = run(env, *argv)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"no database at {tmp_path / 'data' / 'syndicate.db'}" in result.stderr
    assert "SYNDICATE_DATA_DIR" in result.stderr  # where the path came from
    assert not (tmp_path / "data").exists()


def test_exit_codes_of_each_command(env: dict[str, str | None], tmp_path: Path) -> None:
    """0 done, 1 failed, 2 usage or not found: every command, its failure modes."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"title": "No date", "published": "yesterday"}')
    cases: list[tuple[list[str], int, str]] = [
        (["ingest", str(tmp_path / "missing.md")], 2, "does not exist"),
        (["ingest", str(bad)], 1, "not a date: 'yesterday'"),
        (["ingest", str(SEED)], 0, ""),
        (["articles", "--limit", "0"], 2, "0 is not in the range"),
        (["articles", "--status", "gone"], 2, "'gone' is not one of"),
        (["articles"], 0, ""),
        (["preview", "no-such-article"], 2, "no article with id 'no-such-article'"),
        (["share", "no-such-article", "--dry-run"], 2, "no article with id"),
        (["share", "001-ecb-holds-rates", "--network", "x"], 2, "no enabled account on x"),
        (["shares", "retry", "999"], 2, "no share job with id 999"),
        (["shares", "retry", "abc"], 2, "'abc' is not a valid integer"),
        (["render"], 0, ""),
        (["adapters"], 0, ""),
        (["settings"], 0, ""),
        (["run", "--port", "0"], 2, "0 is not in the range"),
        (["serve", "--workers", "many"], 2, "'many' is not a valid integer"),
        (["sandbox", "--port", "70000"], 2, "70000 is not in the range"),
        (["no-such-command"], 2, "No such command"),
    ]
    for argv, code, says in cases:
        result = run(env, *argv)
        assert result.exit_code == code, (argv, result.stdout, result.stderr)
        assert says in result.stderr, (argv, result.stderr)
        if code:
            assert "Traceback" not in result.stderr + result.stdout
    env_bad = {**env, "SYNDICATE_PORT": "eighty"}
    for argv in (["run"], ["serve"], ["worker"], ["render"], ["articles"], ["settings"]):
        result = run(env_bad, *argv)
        assert result.exit_code == 1, argv
        assert "bad setting port (SYNDICATE_PORT): expected a whole number" in result.stderr


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_database_is_said_so(env: dict[str, str | None]) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/nothing"
    for argv in (["articles"], ["render"]):
        result = run({**env, "SYNDICATE_DATABASE_URL": url}, *argv)
        assert result.exit_code == 1
        assert "cannot reach the database postgresql+psycopg://postgres@127.0.0.1:" in result.stderr
        assert "from SYNDICATE_DATABASE_URL" in result.stderr and "bad setting" not in result.stderr


def test_ingest_quiet_json_and_summary(env: dict[str, str | None], tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    for n in range(30):
        (folder / f"a{n:02}.json").write_text(json.dumps({"title": f"Story {n}", "text": "Body."}))
    (folder / "bad.json").write_text('{"title": "x", "published": "soon"}')
    result = run(env, "ingest", "--quiet", str(folder))
    assert result.exit_code == 1
    assert result.stdout.strip().splitlines() == [
        "31 files: 30 taken, 1 with problems; articles: 30 created"
    ]
    assert "bad.json" in result.stderr and "not a date: 'soon'" in result.stderr
    result = run(env, "ingest", "--json", str(folder))
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert report["taken"] == 30 and report["rejected"] == 1
    assert {f["status"] for f in report["files"]} == {"taken", "rejected"}
    assert all(a["change"] == "unchanged" for f in report["files"] for a in f["articles"])


def test_articles_json_lists_what_the_table_shows(env: dict[str, str | None]) -> None:
    assert run(env, "ingest", str(SEED)).exit_code == 0
    listed = json.loads(run(env, "articles", "--json").stdout)
    assert [a["id"] for a in listed] == ["001-ecb-holds-rates"]
    assert set(listed[0]) >= {"id", "title", "status", "published", "categories", "url"}
    table = run(env, "articles").stdout
    assert "001-ecb-holds-rates" in table
    assert run(env, "articles", "--status", "unpublished").stdout.strip() == (
        "no unpublished articles (1 stored)"
    )
