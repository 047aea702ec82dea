"""SIGTERM stops the worker within 10 s, even while an upstream drips and the inbox is full.

A dripping upstream once kept a poll blocked past its deadline and SIGTERM took 106 s.
Now the stop event cancels every fetch, the inbox scan stops between files, and the
worker process is gone within the bound, with nothing lost.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from upstream_server import Upstream

STOP_BOUND = 10.0


def drip_forever(handler: BaseHTTPRequestHandler) -> None:
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n")
    for _ in range(600):
        try:
            handler.wfile.write(b" ")
            handler.wfile.flush()
        except OSError:
            return
        time.sleep(0.1)


def test_sigterm_stops_the_worker_within_ten_seconds(tmp_path: Path) -> None:
    """Mid-poll of a dripping upstream, with files still in the inbox: exit 0 within 10 s."""
    inbox = tmp_path / "data" / "inbox"
    inbox.mkdir(parents=True)
    for n in range(300):
        (inbox / f"{n:04d}.json").write_text(json.dumps({"id": f"s{n}", "title": f"Story {n}"}))
    with Upstream() as up:
        up.routes["/drip"] = drip_forever
        config = tmp_path / "syndicate.toml"
        config.write_text(
            f'data_dir = "{tmp_path / "data"}"\nfeeds_dir = "{tmp_path / "feeds"}"\n'
            f'[[upstream]]\nname = "drip"\nurl = "{up.url("/drip")}"\nallow_loopback = true\n'
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
        env["SYNDICATE_CONFIG"] = str(config)
        proc = subprocess.Popen(
            [sys.executable, "-m", "syndicate", "worker"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while not any(s.path == "/drip" for s in up.seen):
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "the worker never polled the upstream"
                time.sleep(0.05)
            stopped_at = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
            took = time.monotonic() - stopped_at
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    assert took < STOP_BOUND, f"stopping took {took:.1f} s"
    assert "database is locked" not in err
    left = {p.name for p in inbox.iterdir() if p.is_file()}
    done = (
        {p.name for p in (inbox / "processed").iterdir()}
        if (inbox / "processed").exists()
        else set()
    )
    assert len(left) + len(done) == 300  # nothing lost: taken or still waiting
