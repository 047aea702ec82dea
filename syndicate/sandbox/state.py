"""What the fake APIs remember (posts, log, tokens, counters) and the fault knobs."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

DEFAULT_FAULTS: dict[str, Any] = {
    "latency_ms": 0,
    "error_rate": 0.0,
    "error_accepts": False,
    "rate_limit": 0,
    "usage_capped": 0,
    "reset_s": 60,
    "timeout_after_accept": 0,
    "stall_s": 15.0,
    "drop": False,
    "auth_fail": [],
    "retired_versions": [],
    "networks": None,
    "seed": 0,
}


class State:
    """Everything the fake APIs remember, behind one lock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.release = threading.Event()
        # OAuth 1.0a secrets the fake X knows (consumer key -> secret, token -> secret),
        # like apps registered on the developer portal; a reset keeps them.
        self.oauth1_consumers: dict[str, str] = {}
        self.oauth1_tokens: dict[str, str] = {}
        self.reset()

    def register_oauth1(
        self, consumer_key: str, consumer_secret: str, token: str, token_secret: str
    ) -> None:
        """Let requests signed with these OAuth 1.0a credentials through."""
        with self.lock:
            self.oauth1_consumers[consumer_key] = consumer_secret
            self.oauth1_tokens[token] = token_secret

    def reset(self) -> None:
        with self.lock:
            self.log: list[dict[str, Any]] = []
            self.posts: dict[str, list[dict[str, Any]]] = {}
            self.counters: dict[str, int] = {}
            self.tokens: dict[str, str] = {}  # Reddit bearer token -> user name
            self.faults = dict(DEFAULT_FAULTS)
            self.rng = random.Random(0)

    def next_id(self, kind: str) -> int:
        with self.lock:
            self.counters[kind] = self.counters.get(kind, 0) + 1
            return self.counters[kind]

    def set_faults(self, knobs: dict[str, Any]) -> None:
        unknown = sorted(set(knobs) - set(DEFAULT_FAULTS))
        if unknown:
            raise ValueError(f"unknown fault knobs: {', '.join(unknown)}")
        with self.lock:
            self.faults.update(knobs)
            if "seed" in knobs:
                self.rng = random.Random(knobs["seed"])

    def faulted(self, network: str) -> bool:
        scope = self.faults["networks"]
        return scope is None or network in scope

    def take(self, knob: str, network: str) -> bool:
        """Consume one unit of a counting fault knob, if it applies to *network*."""
        with self.lock:
            if self.faulted(network) and int(self.faults[knob]) > 0:
                self.faults[knob] = int(self.faults[knob]) - 1
                return True
            return False

    def store(self, network: str, post: dict[str, Any]) -> None:
        """Keep an accepted post (call under the lock)."""
        self.posts.setdefault(network, []).append(post)

    def mine(self, network: str, account: str) -> list[dict[str, Any]]:
        """The posts of *account* on *network*, newest first."""
        return [p for p in self.posts.get(network, []) if p["account"] == account][::-1]
