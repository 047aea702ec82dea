"""`syndicate check` finds each kind of problem and names where it comes from."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate.cli import main


def _check(tmp_path: Path, toml: str | None, **env: str | None) -> tuple[int, str, str]:
    """Run `syndicate check` in a clean environment: only *env* of SYNDICATE_* is set."""
    config = tmp_path / "syndicate.toml"
    if toml is not None:
        config.write_text(toml, encoding="utf-8")
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SYNDICATE_")}
    clean.update(
        SYNDICATE_CONFIG=str(config) if toml is not None else None,
        SYNDICATE_DATA_DIR=str(tmp_path / "data"),
        SYNDICATE_FEEDS_DIR=str(tmp_path / "feeds"),
    )
    clean.update(env)
    result = CliRunner().invoke(main, ["check"], env=clean)
    return result.exit_code, result.stdout, result.stderr


def test_a_healthy_setup_has_no_problems_and_check_creates_nothing(tmp_path: Path) -> None:
    code, out, _ = _check(tmp_path, 'site_title = "Test Daily"\n')
    assert code == 0, out
    assert out.rstrip().endswith("no problems")
    assert "none yet at sqlite:///" in out
    assert not (tmp_path / "data").exists() and not (tmp_path / "feeds").exists()


def test_bad_toml_names_the_file_and_line(tmp_path: Path) -> None:
    code, out, _ = _check(tmp_path, 'site_title = "x"\nport = = 80\n')
    assert code == 1
    assert f"{tmp_path / 'syndicate.toml'}: not valid TOML" in out and "line 2" in out


def test_an_unknown_key_gets_a_suggestion_and_its_line(tmp_path: Path) -> None:
    code, out, _ = _check(tmp_path, 'site_title = "x"\nprot = 80\n')
    assert code == 1
    assert (
        f"prot ({tmp_path / 'syndicate.toml'} line 2): unknown setting; did you mean 'port'?"
    ) in out


def test_a_misspelt_variable_gets_a_suggestion(tmp_path: Path) -> None:
    code, out, _ = _check(tmp_path, "", SYNDICATE_DATA_DIRR="/srv/data")
    assert code == 1
    assert "SYNDICATE_DATA_DIRR (environment): not a setting; did you mean " in out
    assert "'SYNDICATE_DATA_DIR'?" in out


def test_a_bad_port_is_blamed_on_the_file_or_the_environment(tmp_path: Path) -> None:
    code, out, _ = _check(tmp_path, 'site_title = "x"\nport = 99999\n')
    assert code == 1
    assert f"port ({tmp_path / 'syndicate.toml'} line 2): must be a port number" in out
    assert "SYNDICATE_PORT" not in out
    code, out, _ = _check(tmp_path, 'site_title = "x"\n', SYNDICATE_PORT="99999")
    assert code == 1
    assert "port (SYNDICATE_PORT): must be a port number 1-65535, got 99999" in out
    assert "syndicate.toml line" not in out


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_database_is_not_called_a_bad_setting(tmp_path: Path) -> None:
    url = f"postgres://postgres@127.0.0.1:{_closed_port()}/nothing"
    code, out, _ = _check(tmp_path, "", SYNDICATE_DATABASE_URL=url)
    assert code == 1
    line = next(line for line in out.splitlines() if line.startswith("problem  database"))
    assert "cannot reach postgresql+psycopg://postgres@127.0.0.1:" in line  # normalised
    assert "from SYNDICATE_DATABASE_URL" in line and "bad setting" not in line


def test_an_unwritable_feeds_dir_is_found(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, out, _ = _check(tmp_path, "", SYNDICATE_FEEDS_DIR=str(blocker / "feeds"))
    assert code == 1
    assert f"feeds_dir (SYNDICATE_FEEDS_DIR): {blocker / 'feeds'} cannot be created" in out


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any directory")
def test_a_read_only_feeds_dir_is_found(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    feeds.chmod(0o500)
    try:
        code, out, _ = _check(tmp_path, "")
    finally:
        feeds.chmod(0o700)
    assert code == 1 and "is not writable" in out


ACCOUNTS = """\
site_title = "x"

[[share.accounts]]
network = "x"
name = "newsdesk"
auth = "oauth2"

[[share.accounts]]
network = "mastodon"
name = "desk"
"""


def test_an_adapter_that_is_not_installed_is_named_with_its_line(tmp_path: Path) -> None:
    code, out, _ = _check(tmp_path, ACCOUNTS, SYNDICATE_SECRET_X_NEWSDESK_ACCESS_TOKEN="t")
    assert code == 1
    assert (
        f"share.accounts[1].network ({tmp_path / 'syndicate.toml'} line 8): "
        'No adapter named "mastodon" is installed (installed: '
    ) in out
    assert "x:newsdesk is ready" in out


def test_a_missing_secret_names_the_variable_to_set(tmp_path: Path) -> None:
    code, out, _ = _check(tmp_path, ACCOUNTS.split('\n[[share.accounts]]\nnetwork = "mastodon')[0])
    assert code == 1
    assert "credential access_token is missing" in out
    assert "SYNDICATE_SECRET_X_NEWSDESK_ACCESS_TOKEN" in out
    assert f"share.accounts[0] ({tmp_path / 'syndicate.toml'} line 3)" in out
