"""The service commands: ingest, render, articles, run, worker; their exit codes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndicate.cli import main

SEED = Path(__file__).parent.parent / "demo" / "inbox" / "000_478f0a629dc41297.txt"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Environment pointing every path into the test's temp dir, no config file."""
    return {
        "SYNDICATE_CONFIG": str(tmp_path / "syndicate.toml"),
        "SYNDICATE_DATA_DIR": str(tmp_path / "data"),
        "SYNDICATE_FEEDS_DIR": str(tmp_path / "feeds"),
        "SYNDICATE_BASE_URL": "https://feeds.example.com",
    }


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "syndicate.toml"
    path.write_text('site_title = "Test Daily"\n')
    return path


def invoke(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_ingest_reports_each_file_and_exits_1_on_rejects(
    tmp_path: Path, env: dict[str, str], config_file: Path
) -> None:
    """One bad file makes the exit code 1 with its reason; the good files are stored."""
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"title": "Rail line opens", "text": "Trains run from today."}))
    bad = tmp_path / "bad.json"
    bad.write_text('{"title": "Broken", ')
    code, out = invoke(env, "ingest", str(SEED), str(good), str(bad))
    assert code == 1
    assert "rejected  " + str(bad) in out
    assert "line 1" in out  # the JSON error says where
    assert "2 taken, 1 with problems" in out
    assert good.exists() and bad.exists()  # one-shot ingest never moves files
    code, out = invoke(env, "articles")
    assert code == 0
    assert "Rail line opens" in out and "NATO officials" in out


def test_ingest_of_good_files_exits_0_and_renders(
    tmp_path: Path, env: dict[str, str], config_file: Path
) -> None:
    """A clean import exits 0 and the feeds on disk already hold the article."""
    code, out = invoke(env, "ingest", str(SEED))
    assert code == 0, out
    assert (tmp_path / "feeds" / "all.rss").read_text().count("<item>") == 1


def test_render_writes_every_feed(env: dict[str, str], tmp_path: Path, config_file: Path) -> None:
    """`render` writes each feed in three formats with a .gz beside it."""
    invoke(env, "ingest", str(SEED))
    code, out = invoke(env, "render", "--force")
    assert code == 0, out
    for ext in ("rss", "atom", "json"):
        assert (tmp_path / "feeds" / f"all.{ext}").exists()
        assert (tmp_path / "feeds" / f"all.{ext}.gz").exists()


def test_a_bad_setting_stops_start_up_naming_it(env: dict[str, str], config_file: Path) -> None:
    """A bad environment value exits non-zero with the setting's name."""
    code, out = invoke({**env, "SYNDICATE_PORT": "http"}, "articles")
    assert code != 0
    assert "SYNDICATE_PORT" in out


def test_every_command_has_help() -> None:
    """Each sub-command answers --help."""
    for name in main.commands:
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Usage:" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


def _wait_for(check: object, deadline: float) -> object:
    while time.monotonic() < deadline:
        try:
            value = check()  # type: ignore[operator]
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("condition not met before the deadline")


def test_run_demo_end_to_end(tmp_path: Path) -> None:
    """`syndicate run --demo` ingests the demo inbox, serves feeds, posts to the sandbox,
    refuses a second worker on the same data dir, and stops cleanly on SIGTERM."""
    port, sandbox_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "SYNDICATE_CONFIG": str(Path(__file__).parent.parent / "config" / "syndicate.toml"),
        "SYNDICATE_DATA_DIR": str(tmp_path / "data"),
        "SYNDICATE_FEEDS_DIR": str(tmp_path / "feeds"),
        "SYNDICATE_PORT": str(port),
        "SYNDICATE_SANDBOX_PORT": str(sandbox_port),
    }
    env.pop("SYNDICATE_DATABASE_URL", None)
    cli = [sys.executable, "-m", "syndicate"]
    proc = subprocess.Popen(
        [*cli, "run", "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        feed = _wait_for(
            lambda: len(_get_json(f"http://127.0.0.1:{port}/feeds/all.json")["items"]) >= 15,
            deadline,
        )
        assert feed
        posted = _wait_for(
            lambda: [
                r for r in _get_json(f"http://127.0.0.1:{sandbox_port}/__requests") if r["accepted"]
            ],
            deadline,
        )
        assert {r["network"] for r in posted} <= {"facebook", "x", "reddit", "linkedin"}
        second = subprocess.run(
            [*cli, "worker"], env=env, capture_output=True, text=True, timeout=60
        )
        assert second.returncode != 0
        assert "lock held" in second.stderr
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    assert f"http://127.0.0.1:{port}/feeds/" in out
    assert "stopped" in out


def _post_article(base: str, token: str, n: int) -> int:
    body = json.dumps({"id": f"push-{n}", "title": f"Pushed {n}", "text": f"Body {n}."})
    request = urllib.request.Request(
        f"{base}/api/articles",
        data=body.encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return int(resp.status)


def _read_token(proc: subprocess.Popen[str]) -> str:
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("API token for this run: "):
            return line.split(": ", 1)[1].strip()
    raise AssertionError("serve printed no API token")


def test_serve_and_worker_publish_pushed_articles(tmp_path: Path) -> None:
    """Under gunicorn (2 processes) beside a worker, every process takes the same generated
    token, and each pushed article reaches the served feed while both processes render."""
    port = _free_port()
    (tmp_path / "syndicate.toml").write_text("")
    env = {
        **os.environ,
        "SYNDICATE_CONFIG": str(tmp_path / "syndicate.toml"),
        "SYNDICATE_DATA_DIR": str(tmp_path / "data"),
        "SYNDICATE_INBOX": str(tmp_path / "inbox"),
        "SYNDICATE_FEEDS_DIR": str(tmp_path / "feeds"),
        "SYNDICATE_PORT": str(port),
    }
    for name in ("SYNDICATE_DATABASE_URL", "SYNDICATE_API_TOKEN"):
        env.pop(name, None)
    cli = [sys.executable, "-m", "syndicate"]
    web = subprocess.Popen(
        [*cli, "serve", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    worker = subprocess.Popen([*cli, "worker"], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        token = _read_token(web)
        deadline = time.monotonic() + 60
        _wait_for(lambda: _get_json(f"{base}/feeds/all.json"), deadline)
        assert [_post_article(base, token, n) for n in range(6)] == [201] * 6
        feed = _wait_for(
            lambda: len(_get_json(f"{base}/feeds/all.json")["items"]) == 6,  # type: ignore[index]
            deadline,
        )
        assert feed
    finally:
        for proc in (web, worker):
            proc.send_signal(signal.SIGTERM)
        for proc in (web, worker):
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
    assert web.returncode == 0 and worker.returncode == 0


def test_an_unreachable_database_names_the_setting(env: dict[str, str], config_file: Path) -> None:
    """A database that cannot be reached stops with a message naming the setting's source,
    not calling it a bad setting."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/nothing"
    code, out = invoke({**env, "SYNDICATE_DATABASE_URL": url}, "articles")
    assert code == 1
    assert "cannot reach the database postgresql+psycopg://postgres@127.0.0.1:" in out
    assert "(database_url from SYNDICATE_DATABASE_URL)" in out and "bad setting" not in out
    assert "Traceback" not in out
