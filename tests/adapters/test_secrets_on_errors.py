"""No credential reaches a log line or a reason when requests raises (docs/reliability.md T46)."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from syndicate.adapters.base import Outcome
from syndicate.adapters.facebook import FacebookAdapter
from syndicate.adapters.linkedin import LinkedInAdapter
from syndicate.adapters.reddit import RedditAdapter
from syndicate.adapters.x import XAdapter
from syndicate.testing import NOW, make_article
from tests.adapters.conftest import SECRETS, account

ADAPTERS = {
    "facebook": FacebookAdapter,
    "x": XAdapter,
    "reddit": RedditAdapter,
    "linkedin": LinkedInAdapter,
}
LEAKS = ("Authorization", "access_token=", "refresh_token", "Bearer ")


@pytest.fixture(scope="module")
def silent_url() -> Iterator[str]:
    """A server that accepts connections and never answers: every read times out."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


def _closed_port_url() -> str:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize("network", sorted(ADAPTERS))
def test_transport_errors_leave_no_secret_in_logs_or_reasons(
    network: str, silent_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Refused connections and read timeouts, logged at DEBUG, name no token or header."""
    caplog.set_level(logging.DEBUG)
    acct = account(network)
    reasons = []
    for base_url, expected in ((_closed_port_url(), Outcome.RETRY), (silent_url, Outcome.UNKNOWN)):
        with requests.Session() as session:
            adapter = ADAPTERS[network]({"timeout": [1, 0.3]}, session=session, base_url=base_url)
            request = adapter.build(make_article(), acct, NOW)
            result = adapter.send(request, acct, NOW)
        assert result.outcome in (expected, Outcome.RETRY), result
        reasons.append(f"{result!r} {result.reason}")
    dump = caplog.text + " ".join(reasons)
    for secret in SECRETS[network].values():
        if secret != "newsbot":  # the Reddit user name is not a secret
            assert secret not in dump
    for leak in LEAKS:
        assert leak not in dump
