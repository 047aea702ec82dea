"""Rendered public pages, kept per process: an article is sanitised and composed once.

The article page and its share fragments are public and unauthenticated; rendering them
(sanitising the body, composing each network's text) costs time in the article's size.
They are cached by the article's content hash, so any edit renders afresh, and the cache
is bounded in bytes (least recently used pages go first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from syndicate.models import Article
from syndicate.store import content_hash

MAX_BYTES = 16_000_000


class PageCache:
    """A thread-safe LRU of rendered pages, bounded in bytes."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._pages: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def page(self, kind: str, article: Article, render: Callable[[], str]) -> str:
        """The page *kind* of *article*, rendered by *render* unless cached."""
        key = (kind, article.id, f"{content_hash(article)}:{article.status}")
        with self._lock:
            found = self._pages.get(key)
            if found is not None:
                self._pages.move_to_end(key)
                return found
        text = render()
        with self._lock:
            if key not in self._pages and len(text) <= self.max_bytes:
                self._pages[key] = text
                self.size += len(text)
                while self.size > self.max_bytes:
                    _, dropped = self._pages.popitem(last=False)
                    self.size -= len(dropped)
        return text
