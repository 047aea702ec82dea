"""The service: what one process (web, worker, or both) holds for its lifetime."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

import sqlalchemy as sa

from syndicate.config import Settings
from syndicate.errors import DatabaseUnavailable, NoDatabase
from syndicate.runtime import check_runtime
from syndicate.store import Store, safe_url, schema_state

if TYPE_CHECKING:
    from syndicate.publish import Publisher
    from syndicate.shares.sharing import Sharing

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Service:
    """Settings, the store, the clock, and the parts built on them.

    Built once per process by :meth:`open`; tests build one on a temp dir and may pass
    a fixed *clock*.
    """

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
        from syndicate import shares  # the share outbox rides on every article write

        shares.install(self)

    @classmethod
    def open(
        cls, settings: Settings, clock: Callable[[], datetime] = utcnow, *, create: bool = True
    ) -> Service:
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
    def publisher(self) -> Publisher:
        from syndicate.publish import Publisher

        return Publisher(self)

    @cached_property
    def sharing(self) -> Sharing:
        from syndicate.shares.sharing import Sharing

        return Sharing(self)

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
