"""The sandbox's HTTP server: routing to the fake APIs, admin endpoints and the request log."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from syndicate.sandbox import facebook, linkedin, reddit, x
from syndicate.sandbox.common import (
    OAUTH_PARAM,
    REDACTED,
    SECRET_FIELDS,
    Call,
    Reply,
    Route,
    http_error,
)
from syndicate.sandbox.state import State

log = logging.getLogger(__name__)

ROUTES: dict[str, list[Route]] = {
    "x": x.ROUTES,
    "facebook": facebook.ROUTES,
    "reddit": reddit.ROUTES,
    "linkedin": linkedin.ROUTES,
}


class Sandbox:
    """The fake APIs on a threaded HTTP server at ``127.0.0.1:port`` (0 = any free port)."""

    def __init__(
        self, port: int = 0, host: str = "127.0.0.1", *, clock: Callable[[], float] = time.time
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the sandbox listens on loopback only")
        self.state = State(clock)
        self._server = _Server((host, port), _Handler)
        self._server.state = self.state
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Sandbox:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True, name="syndicate-sandbox"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.state.release.set()  # wake stalled answers
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests(self, network: str | None = None) -> list[dict[str, Any]]:
        """The request log (oldest first), optionally of one network."""
        with self.state.lock:
            return [dict(e) for e in self.state.log if network in (None, e["network"])]

    def posts(self, network: str | None = None) -> list[dict[str, Any]]:
        """Every post the fake APIs accepted (oldest first)."""
        with self.state.lock:
            nets = [network] if network else sorted(self.state.posts)
            return [dict(p) for n in nets for p in self.state.posts.get(n, [])]

    def set_faults(self, **knobs: Any) -> None:
        """Set fault knobs (see :mod:`syndicate.sandbox`); unknown names raise ValueError."""
        self.state.set_faults(knobs)

    def reset(self) -> None:
        """Forget posts, the log and the faults (registered OAuth 1.0a apps stay)."""
        self.state.reset()

    def register_oauth1(
        self, consumer_key: str, consumer_secret: str, token: str, token_secret: str
    ) -> None:
        """Accept X requests signed with these OAuth 1.0a credentials (others get 401)."""
        self.state.register_oauth1(consumer_key, consumer_secret, token, token_secret)


def run_sandbox(sandbox: Sandbox) -> None:
    """Serve a bound sandbox in this thread until interrupted (for ``syndicate sandbox``)."""
    try:
        sandbox._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.state.release.set()
        sandbox._server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: State


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Small answers must not wait ~40 ms for the client's delayed ACK (Nagle).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # the request log replaces it
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        state = self.server.state
        call = self._call()
        if call.path.startswith("/__"):
            return self._send(_admin(state, call))
        latency = float(state.faults["latency_ms"]) / 1000
        if latency:
            time.sleep(latency)
        try:
            reply = _route(state, call)
        except Exception as exc:  # a sandbox bug must answer, not hang the client
            log.exception("sandbox failed on %s %s", call.method, call.path)
            reply = http_error(500, f"sandbox error: {type(exc).__name__}")
        _record(state, call, reply)
        if reply.stall:
            if state.faults["drop"]:
                self.close_connection = True
                return
            state.release.wait(float(state.faults["stall_s"]))
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            self.close_connection = True

    def _call(self) -> Call:
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode(
            "utf-8", "replace"
        )
        kind = self.headers.get("Content-Type", "")
        if "json" in kind:
            try:
                parsed: Any = json.loads(raw or "null")
            except ValueError:
                parsed = None
        else:
            parsed = dict(parse_qsl(raw, keep_blank_values=True)) if raw else None
        return Call(
            self.command,
            parts.path,
            dict(parse_qsl(parts.query)),
            dict(self.headers.items()),
            raw,
            parsed,
            target=self.path,
        )

    def _send(self, reply: Reply) -> None:
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        headers = {"Content-Type": "application/json", **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


def _route(state: State, call: Call) -> Reply:
    network, _, rest = call.path.lstrip("/").partition("/")
    call.network = network
    for method, pattern, handler in ROUTES.get(network, ()):
        match = pattern.fullmatch("/" + rest.rstrip("/"))
        if match and method == call.method:
            return handler(state, call, *match.groups())
    return http_error(404, f"no sandbox endpoint {call.method} {call.path}")


def _admin(state: State, call: Call) -> Reply:
    if call.path == "/__requests" and call.method == "GET":
        net = call.query.get("network")
        with state.lock:
            return Reply(200, [e for e in state.log if net in (None, e["network"])])
    if call.path == "/__faults" and call.method == "POST":
        try:
            state.set_faults(dict(call.parsed or {}))
        except (ValueError, TypeError) as exc:
            return http_error(400, str(exc))
        return Reply(200, state.faults)
    if call.path == "/__faults" and call.method == "GET":
        return Reply(200, state.faults)
    if call.path == "/__oauth1" and call.method == "POST":
        body = call.parsed if isinstance(call.parsed, dict) else {}
        keys = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
        if not all(isinstance(body.get(k), str) and body[k] for k in keys):
            return http_error(400, f"give {', '.join(keys)}")
        state.register_oauth1(*(body[k] for k in keys))
        return Reply(200, {"registered": body["consumer_key"][:4] + "…"})
    if call.path == "/__reset" and call.method == "POST":
        state.reset()
        return Reply(200, {"reset": True})
    return http_error(404, f"no sandbox endpoint {call.method} {call.path}")


def _record(state: State, call: Call, reply: Reply) -> None:
    secrets = call.secrets()
    with state.lock:
        state.log.append(
            {
                "seq": len(state.log) + 1,
                "time": state.clock(),
                "network": call.network,
                "method": call.method,
                "path": call.path,
                "query": _hide(call.query, secrets),
                "headers": _hide(hide_credentials(call.headers), secrets),
                "body": _hide(call.raw, secrets),
                "parsed": _hide(call.parsed, secrets),
                "status": None if reply.stall and state.faults["drop"] else reply.status,
                "accepted": reply.accepted,
            }
        )


def hide_credentials(headers: dict[str, str]) -> dict[str, str]:
    """Headers with every credential replaced: Basic and Bearer credentials whole, the
    OAuth 1.0a key, token and signature (names, nonce and timestamp stay readable), and
    cookies and API-key headers."""
    shown = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in ("authorization", "proxy-authorization"):
            scheme, _, credentials = value.partition(" ")
            if scheme.lower() == "oauth":
                value = OAUTH_PARAM.sub(_oauth_param_shown, value)
            elif credentials:
                value = f"{scheme} {REDACTED}"
            else:
                value = REDACTED
        elif lowered in ("cookie", "x-api-key", "api-key") or "token" in lowered:
            value = REDACTED
        shown[name] = value
    return shown


def _oauth_param_shown(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in ("oauth_consumer_key", "oauth_token", "oauth_signature"):
        return f'{name}="{REDACTED}"'
    return match.group(0)


def _hide(value: Any, secrets: list[str]) -> Any:
    """Redact credentials from what the log keeps (the sandbox log is a log too)."""
    if isinstance(value, dict):
        return {
            k: REDACTED if k in SECRET_FIELDS and v else _hide(v, secrets) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_hide(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in sorted((s for s in secrets if len(s) > 3), key=len, reverse=True):
            value = value.replace(secret, REDACTED)
    return value
