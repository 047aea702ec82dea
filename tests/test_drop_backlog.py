"""A big drop into the inbox of a running service, with four paced accounts.

Dropping 5,000 files once stopped the scan at 3,762 with "database is locked" tracebacks
while /readyz, / and the API answered 500. Here `syndicate run` (web and worker in one
process, SQLite) takes a drop of good and poison files while a share backlog builds up
behind four accounts paced to one post an hour. Throughout, /readyz answers 200 and GET /
answers (one second is checked as a generous bound); at the end every file is in
processed/ or rejected/ and the log never says "database is locked".

The default drop is 500 files, to keep the suite's run time; set SYNDICATE_DROP_FILES
to 20000 for the full-size run (`make drop-test` does).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from live import fetch

from syndicate.cli.demo import DEMO_ACCOUNTS, DEMO_SECRETS
from syndicate.sandbox.server import Sandbox

FILES = int(os.environ.get("SYNDICATE_DROP_FILES", "500"))
POISON_EVERY = 50
GET_BOUND = 1.0


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as box:
        yield box


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(tmp_path: Path, sandbox_url: str, port: int) -> Path:
    """Four demo accounts aimed at the sandbox, each paced to one post an hour."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(DEMO_SECRETS, encoding="utf-8")
    accounts = "\n".join(
        "[[share.accounts]]\n"
        + "\n".join(f"{k} = {json.dumps(v)}" for k, v in a.items())
        + "\nmin_spacing = 3600"
        for a in DEMO_ACCOUNTS
    )
    path = tmp_path / "syndicate.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\nfeeds_dir = "{tmp_path / "feeds"}"\n'
        f'secrets_file = "{secrets}"\nport = {port}\nscan_interval = 1\n'
        f'api_token = "{"t" * 32}"\n[share]\nsandbox = "{sandbox_url}"\n{accounts}\n',
        encoding="utf-8",
    )
    return path


def drop(inbox: Path, count: int) -> None:
    """*count* files, written under a temporary name and renamed, one poison in 50."""
    inbox.mkdir(parents=True, exist_ok=True)
    old = time.time() - 60
    for n in range(count):
        item = {"id": f"drop-{n:05d}", "title": f"Dropped story {n}", "text": "Body."}
        if n % POISON_EVERY == 0:
            item["published"] = "0001-01-01T00:00:00+01:00"  # once an OverflowError
        tmp = inbox / f".{n:05d}.json.tmp"
        tmp.write_text(json.dumps(item))
        os.utime(tmp, (old, old))
        tmp.rename(inbox / f"{n:05d}.json")


class Prober(threading.Thread):
    """Asks /readyz and / every 100 ms; keeps the worst time and every bad status."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.stop = threading.Event()
        self.worst = 0.0
        self.bad: list[str] = []
        self.asked = 0

    def run(self) -> None:
        while not self.stop.wait(0.1):
            for path in ("/readyz", "/"):
                started = time.monotonic()
                try:
                    status = fetch(self.base + path, timeout=10).status
                except OSError as exc:
                    self.bad.append(f"{path}: {exc}")
                    continue
                self.worst = max(self.worst, time.monotonic() - started)
                self.asked += 1
                if status != 200:
                    self.bad.append(f"{path}: {status}")


def test_a_big_drop_never_stops_the_service(tmp_path: Path, sandbox: Sandbox) -> None:
    """Every file ends in processed/ or rejected/; /readyz 200 and / fast throughout."""
    port = free_port()
    config = write_config(tmp_path, sandbox.url, port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env["SYNDICATE_CONFIG"] = str(config)
    log = (tmp_path / "service.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "syndicate", "run"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    prober = Prober(base)
    inbox = tmp_path / "data" / "inbox"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "service.log").read_text()
            try:
                if fetch(base + "/readyz", timeout=2).status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the service never became ready"
            time.sleep(0.2)
        prober.start()
        drop(inbox, FILES)
        deadline = time.monotonic() + max(120, FILES * 0.2)
        while any(p.is_file() for p in inbox.iterdir()):
            assert proc.poll() is None, (tmp_path / "service.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the drop was not taken in"
            time.sleep(0.5)
    finally:
        prober.stop.set()
        prober.join(15)
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    text = (tmp_path / "service.log").read_text()
    processed = len(list((inbox / "processed").iterdir()))
    rejected = [p for p in (inbox / "rejected").iterdir() if not p.name.endswith(".error.txt")]
    assert processed + len(rejected) == FILES
    assert len(rejected) == len(range(0, FILES, POISON_EVERY))
    with closing(sqlite3.connect(tmp_path / "data" / "syndicate.db")) as db:
        pending = db.execute("SELECT count(*) FROM share WHERE state = 'pending'").fetchone()[0]
    assert pending >= 4 * (processed - 2)  # the backlog the paced accounts built
    assert "database is locked" not in text
    assert "Traceback" not in text
    assert prober.bad == [], prober.bad[:20]
    assert prober.asked > 10
    assert prober.worst < GET_BOUND, f"slowest answer {prober.worst:.2f} s"
