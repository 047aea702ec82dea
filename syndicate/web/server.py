"""The web server of ``syndicate run``: waitress, in a thread of the process that runs the ticks.

Waitress is a production WSGI server that lives happily in-process beside the scheduler
(gunicorn forks workers and owns the process, so it serves ``syndicate serve`` instead). Its
asyncore loop accepts any number of connections and hands finished requests to a fixed pool
of threads, so hundreds of slow feed readers cost sockets, not threads.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from waitress.server import create_server

# Feed requests are short; a pool this size keeps two cores busy without thrashing.
THREADS = 16
# Open connections accepted before waitress stops accepting (the kernel backlog still queues).
CONNECTION_LIMIT = 1000
# Seconds an idle keep-alive connection is kept.
CHANNEL_TIMEOUT = 60


class WebServer:
    """A bound waitress server; :meth:`start` serves in a thread, :meth:`stop` ends it."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        # Raises OSError when the address is taken or cannot be bound.
        self._server: Any = create_server(
            app,
            host=host,
            port=port,
            threads=THREADS,
            connection_limit=CONNECTION_LIMIT,
            channel_timeout=CHANNEL_TIMEOUT,
            clear_untrusted_proxy_headers=True,
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    def start(self) -> WebServer:
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        """Stop accepting, let the requests in progress finish, close every connection."""
        from waitress import wasyncore

        server = self._server
        if self._thread is None:
            server.close()
            return
        # Closing the sockets from inside the loop's own thread ends the loop cleanly.
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        self._thread.join(timeout)
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=timeout)
        self._thread = None


def quiet_waitress_queue_log() -> None:
    """Silence waitress's "Task queue depth is N" warning.

    It fires whenever a request waits for a free thread: under a burst of feed readers that
    is the queue working as designed, not a fault, and it would flood the log.
    """
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
