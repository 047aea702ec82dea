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

from syndicate.config import Settings, env_name
from syndicate.errors import ConfigError
from syndicate.runtime import check_runtime
from syndicate.store import Store

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
    def open(cls, settings: Settings, clock: Callable[[], datetime] = utcnow) -> Service:
        check_runtime()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.feeds_dir.mkdir(parents=True, exist_ok=True)
        try:
            store = Store.open(settings.database)
        except sa.exc.OperationalError as exc:
            setting = f"database_url ({env_name('database_url')})"
            raise ConfigError(setting, f"cannot open the database: {exc.orig}") from exc
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
