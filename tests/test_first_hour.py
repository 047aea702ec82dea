"""A new user's first hour: `syndicate run` starts quietly on a production server, holds
200 concurrent readers, and busy ports are refused with a clear error naming their source."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.readers import read_feeds

ROOT = Path(__file__).parent.parent
CLI = [sys.executable, "-m", "syndicate"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh shell: no SYNDICATE_* of the test runner's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env["SYNDICATE_CONFIG"] = str(ROOT / "config" / "syndicate.toml")
    return {**env, **extra}


def _wait(url: str, deadline: float) -> bytes:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return bytes(resp.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@dataclass
class Demo:
    base: str
    sandbox: str
    proc: subprocess.Popen[str]
    cwd: Path
    env: dict[str, str]


@pytest.fixture
def running_demo(tmp_path: Path) -> Iterator[Demo]:
    """`syndicate run --demo` from an empty directory, as after a fresh clone."""
    port, sandbox_port = _free_port(), _free_port()
    env = _clean_env(tmp_path, SYNDICATE_SANDBOX_PORT=str(sandbox_port))
    proc = subprocess.Popen(
        [*CLI, "run", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield Demo(
            f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sandbox_port}", proc, tmp_path, env
        )
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_run_starts_quietly_on_waitress_and_serves_200_readers(running_demo: Demo) -> None:
    """No WARNING or traceback while it ingests, renders and posts the demo; one banner
    with the web and sandbox URLs, the accounts and the token's source; `Server: waitress`;
    200 concurrent readers get no error; a second terminal dry-runs with the demo's accounts."""
    base, sandbox, proc = running_demo.base, running_demo.sandbox, running_demo.proc
    deadline = time.monotonic() + 90
    _wait(f"{base}/feeds/all.json", deadline)
    while not any(r["accepted"] for r in json.loads(_wait(f"{sandbox}/__requests", deadline))):
        assert time.monotonic() < deadline, "the demo posted nothing to the sandbox"
        time.sleep(0.5)
    with urllib.request.urlopen(f"{base}/feeds/all.rss", timeout=10) as resp:
        assert resp.headers["Server"] == "waitress"
    readers = read_feeds(base, readers=200, seconds=6)
    assert readers.polls > 200
    assert readers.error_count == 0, readers.errors
    _second_terminal_uses_the_demo_accounts(running_demo)
    time.sleep(3)  # a few more ticks (drain_shares every second) after the burst
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "WARNING" not in out and "Traceback" not in out, out
    assert out.count("syndicate is running on") == 1
    assert f"{sandbox}/__requests" in out
    for account in ("facebook:demo-page", "x:demonews", "reddit:demo_user", "linkedin:demo-org"):
        assert account in out
    assert "made up for this run; set SYNDICATE_API_TOKEN to keep one" in out
    assert out.rstrip().endswith("stopped")


def _second_terminal_uses_the_demo_accounts(demo: Demo) -> None:
    """`syndicate share ID --dry-run` beside the running demo shows the demo's accounts."""
    done = subprocess.run(
        [*CLI, "share", "001-ecb-holds-rates", "--dry-run"],
        cwd=demo.cwd,
        env=demo.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for path in ("/facebook/", "/x/2/tweets", "/reddit/", "/linkedin/rest/posts"):
        assert f"{demo.sandbox}{path}" in done.stdout, path
    assert "demo-x-user-token" not in done.stdout  # secrets stay redacted


def _busy_port() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, int(sock.getsockname()[1])


def test_busy_ports_are_refused_naming_where_the_port_came_from(tmp_path: Path) -> None:
    """`run` and `sandbox` on a taken port exit 1 with one line that says which option,
    variable or file line chose the port; no traceback."""
    holder, port = _busy_port()
    with holder:
        config = tmp_path / "syndicate.toml"
        config.write_text(f'site_title = "x"\nport = {port}\n')
        cases = [
            (["run", "--port", str(port)], {}, "port comes from --port"),
            (["run"], {"SYNDICATE_PORT": str(port)}, "port comes from SYNDICATE_PORT"),
            (["run"], {"SYNDICATE_CONFIG": str(config)}, f"port comes from {config} line 2"),
            (["sandbox", "--port", str(port)], {}, "sandbox_port comes from --port"),
            (["sandbox"], {"SYNDICATE_SANDBOX_PORT": str(port)}, "from SYNDICATE_SANDBOX_PORT"),
        ]
        for argv, extra, says in cases:
            env = _clean_env(tmp_path, SYNDICATE_DATA_DIR=str(tmp_path / "data"), **extra)
            done = subprocess.run(
                [*CLI, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 1, (argv, done.stdout, done.stderr)
            assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
            assert says in done.stderr, done.stderr
            assert "Traceback" not in done.stderr and "sandbox on" not in done.stdout


def test_banner_gives_each_accounts_status(tmp_path: Path) -> None:
    """Enabled, disabled and held accounts are each said so in the start-up banner."""
    from datetime import UTC, datetime

    from syndicate import config
    from syndicate.cli.core import _account_lines
    from syndicate.shares.db import hold_account
    from syndicate.wiring import Wiring

    accounts = [
        {"network": "x", "name": "desk", "auth": "oauth2"},
        {"network": "reddit", "name": "news", "subreddit": "news", "enabled": False},
        {"network": "linkedin", "name": "org", "author": "urn:li:organization:1"},
    ]
    settings = config.load(
        tmp_path / "none.toml",
        env={},
        overrides={"data_dir": tmp_path / "data", "feeds_dir": tmp_path / "feeds"},
    ).replace(share={"accounts": accounts})
    service = Wiring.open(settings)
    try:
        with service.store.begin() as conn:
            hold_account(conn, "linkedin", "org", "401: token expired", datetime.now(UTC))
        lines = _account_lines(service)
    finally:
        service.close()
    assert lines[0] == "  accounts:    3, posting to the networks"
    assert "    x:desk  enabled" in lines
    assert "    reddit:news  disabled (enabled = false)" in lines
    assert "    linkedin:org  held until its credentials are renewed: 401: token expired" in lines
