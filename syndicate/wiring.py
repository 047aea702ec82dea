"""The wiring: every part built once per process, each handed only what it uses.

The one place that knows the whole floor plan. It opens the store, then builds the
publisher, the share side, the share outbox and the intake on it, and hands the web app
and the worker's ticks the parts they call. No part imports this module; the CLI and a
WSGI server (``gunicorn 'syndicate.wiring:create_app()'``) start here. Tests build one on
a temp dir and may pass a fixed *clock*.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cached_property, partial
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Connection

from syndicate import config, shares
from syndicate.config import Settings
from syndicate.errors import ConfigError, DatabaseUnavailable, NoDatabase
from syndicate.ingest import Intake, folder, upstream
from syndicate.models import Article
from syndicate.publish import Publisher
from syndicate.runtime import check_runtime
from syndicate.shares.outbox import Outbox
from syndicate.shares.sharing import Sharing
from syndicate.store import ChangeKind, Store, safe_url, schema_state
from syndicate.web import build_app
from syndicate.web.parts import WebParts
from syndicate.worker.scheduler import Tick

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Wiring:
    """Settings, the store, the clock, and the parts built on them, once each."""

    def __init__(
        self, settings: Settings, store: Store, clock: Callable[[], datetime] = utcnow
    ) -> None:
        if not settings.api_token:
            settings = settings.replace(api_token=secrets.token_urlsafe(32))
            self.generated_token = True
        else:
            self.generated_token = False
        self.settings = settings
        self.store = store
        self.clock = clock
        # Set on SIGTERM: ticks stop claiming new work and finish what they hold.
        self.stopping = threading.Event()
        # The share outbox rides on every article write, in the article's transaction.
        store.write_hooks.append(self._queue_shares)

    @classmethod
    def open(
        cls, settings: Settings, clock: Callable[[], datetime] = utcnow, *, create: bool = True
    ) -> Wiring:
        """Open the store (creating and upgrading it unless *create* is false: then it
        must exist already, and nothing on disk is created or changed)."""
        check_runtime()
        if create:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            settings.feeds_dir.mkdir(parents=True, exist_ok=True)
        else:
            require_database(settings)
        try:
            store = Store.open(
                settings.database, migrate=create, busy_seconds=settings.db_busy_seconds
            )
        except sa.exc.OperationalError as exc:
            raise DatabaseUnavailable(_unreachable(settings, exc)) from exc
        return cls(settings, store, clock)

    def now(self) -> datetime:
        return self.clock()

    @cached_property
    def sharing(self) -> Sharing:
        return Sharing(self.settings, self.clock)

    @cached_property
    def publisher(self) -> Publisher:
        return Publisher(self.settings, self.store, self.clock, share_bar=self._share_bar)

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(
            store=self.store,
            sharing=self.sharing,
            clock=self.clock,
            timezone=self.settings.timezone,
            ledger=dict(self.settings.share.get("ledger", {})),
            stopping=self.stopping,
        )

    @cached_property
    def intake(self) -> Intake:
        return Intake(self.settings, self.store, self.clock, self.stopping)

    def web_parts(self) -> WebParts:
        return WebParts(
            settings=self.settings,
            store=self.store,
            publisher=self.publisher,
            sharing=self.sharing,
            outbox=self.outbox,
            intake=self.intake,
            clock=self.clock,
        )

    def ticks(self) -> tuple[Tick, ...]:
        """The worker's periodic jobs, each a plain call on the part it drives."""
        s = self.settings
        return (
            Tick("scan_folder", partial(folder.scan_job, self.intake), s.scan_interval),
            Tick("poll_upstream", partial(upstream.poll_job, self.intake), 5),
            Tick("render_feeds", self.publisher.render_if_changed, s.render_interval),
            Tick("ping_hubs", self.publisher.send_pings, 5),
            Tick("drain_shares", partial(shares.drain_job, self.outbox), 1),
            Tick("sweep_leases", partial(shares.sweep_job, self.outbox), 15),
            Tick("reconcile_shares", partial(shares.reconcile_job, self.outbox), 30),
            Tick("heartbeat", partial(shares.heartbeat_job, self.outbox), 5),
        )

    def _share_bar(self, article: Article) -> str:
        # The share side is built on first use: most feeds carry no share bar.
        return self.sharing.share_bar_html(article)

    def _queue_shares(
        self, conn: Connection, article: Article, kind: ChangeKind, now: datetime
    ) -> None:
        shares.on_article_write(self.outbox, conn, article, kind, now)

    def close(self) -> None:
        if "publisher" in self.__dict__:
            self.publisher.close()
        if "sharing" in self.__dict__:
            self.sharing.close()
        self.store.close()


def _unreachable(settings: Settings, exc: sa.exc.SQLAlchemyError) -> str:
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
    return (
        f"cannot reach the database {safe_url(settings.database)} "
        f"(database_url from {settings.origin('database_url')}): {reason}"
    )


def require_database(settings: Settings) -> None:
    """Raise unless syndicate's database exists, at the newest schema, where *settings* say.

    For commands that only read: they must not create an empty database somewhere a typo
    points to, nor upgrade one behind a running service's back.
    """
    try:
        state = schema_state(settings.database)
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseUnavailable(_unreachable(settings, exc)) from exc
    where = safe_url(settings.database)
    if settings.database_url:
        origin = f"database_url from {settings.origin('database_url')}"
    else:
        origin = f"data_dir from {settings.origin('data_dir')}"
    if not state.exists:
        where = where.removeprefix("sqlite:///")
        raise NoDatabase(
            f"no database at {where} ({origin}); `syndicate run`, `worker` or `ingest` "
            "creates it, or point the setting at an existing one"
        )
    if state.current != state.head:
        raise NoDatabase(
            f"the database at {where} has schema {state.current}, this version needs "
            f"{state.head}: start `syndicate worker` or `run` once to upgrade it"
        )


def create_app(
    settings: Settings | Mapping[str, Any] | None = None, wiring: Wiring | None = None
) -> Flask:
    """The Flask app. *settings* may be Settings or overrides for :func:`config.load`.

    Under a WSGI server every worker process builds its own app, so the API token must
    be set (``SYNDICATE_API_TOKEN``): a token made up per process would differ per worker.
    """
    if wiring is None:
        if not isinstance(settings, Settings):
            settings = config.load(overrides=settings or {})
        if not settings.api_token:
            raise ConfigError(
                f"api_token ({config.env_name('api_token')})",
                "must be set when the app is served by a WSGI server",
            )
        wiring = Wiring.open(settings)
    return build_app(wiring.web_parts())
