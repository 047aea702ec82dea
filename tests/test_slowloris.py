"""`syndicate serve` keeps answering while 60 clients send their headers a byte at a time.

Slowloris clients hold a connection open by trickling header bytes. A server that gives
each connection a thread while it reads the request runs out of threads; `serve` must
still answer /healthz well within a second (checked as a generous bound, a few times).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from live import fetch

SLOW_CLIENTS = 60
BOUND = 1.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            if fetch(url, timeout=2).status == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, "serve never came up"
        time.sleep(0.2)


def slow_client(port: int, stop: threading.Event) -> None:
    """Open a connection and send a request head one byte every half second."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return
    with sock:
        try:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: slow\r\n")
            while not stop.wait(0.5):
                sock.sendall(b"X")
        except OSError:
            return


def test_serve_answers_healthz_under_slowloris(tmp_path: Path) -> None:
    """60 slowloris connections: /healthz still answers within a second, every time."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNDICATE_")}
    env.update(
        SYNDICATE_CONFIG=str(tmp_path / "absent.toml"),
        SYNDICATE_DATA_DIR=str(tmp_path / "data"),
        SYNDICATE_FEEDS_DIR=str(tmp_path / "feeds"),
        SYNDICATE_API_TOKEN="t" * 32,
    )
    (tmp_path / "absent.toml").write_text("")
    proc = subprocess.Popen(
        [sys.executable, "-m", "syndicate", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    stop = threading.Event()
    clients = [
        threading.Thread(target=slow_client, args=(port, stop), daemon=True)
        for _ in range(SLOW_CLIENTS)
    ]
    try:
        wait_up(f"http://127.0.0.1:{port}/healthz", proc)
        for client in clients:
            client.start()
        time.sleep(3)  # every slow client is connected and trickling
        times = []
        for _ in range(5):
            started = time.monotonic()
            reply = fetch(f"http://127.0.0.1:{port}/healthz", timeout=10)
            times.append(time.monotonic() - started)
            assert reply.status == 200
            time.sleep(0.5)
        assert max(times) < BOUND, times
    finally:
        stop.set()
        proc.terminate()
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
