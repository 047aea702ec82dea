"""What the web app is handed by the wiring: the parts its views call, nothing more."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask

from syndicate.config import Settings
from syndicate.ingest import Intake
from syndicate.publish import Publisher
from syndicate.shares.outbox import Outbox
from syndicate.shares.sharing import Sharing
from syndicate.store import Store
from syndicate.web.cache import PageCache

EXTENSION_KEY = "syndicate"
PAGES_KEY = "syndicate_pages"


@dataclass(frozen=True)
class WebParts:
    settings: Settings
    store: Store
    publisher: Publisher
    sharing: Sharing
    outbox: Outbox
    intake: Intake
    clock: Callable[[], datetime]

    def now(self) -> datetime:
        return self.clock()


def parts_of(app: Flask) -> WebParts:
    parts: WebParts = app.extensions[EXTENSION_KEY]
    return parts


def pages_of(app: Flask) -> PageCache:
    cache: PageCache = app.extensions[PAGES_KEY]
    return cache
