"""The adapter registry: every adapter comes from the ``syndicate.adapters`` entry points.

Ours are registered in pyproject exactly as a third party's would be; each is loaded
lazily on first use, checked against the :class:`ShareAdapter` contract and cached.
"""

from __future__ import annotations

import threading
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from syndicate.adapters.base import ShareAdapter
from syndicate.errors import AdapterNotFound

GROUP = "syndicate.adapters"
REQUIRED_ATTRS = (
    "name",
    "label",
    "default_base_url",
    "can_lookup",
    "lookup_authoritative",
    "duplicate_signal",
)
REQUIRED_METHODS = ("intent_url", "build", "send", "lookup", "capabilities", "close")


_cache: dict[str, type[ShareAdapter]] = {}
_lock = threading.Lock()


def available() -> dict[str, EntryPoint]:
    """Installed adapters by name (nothing is imported)."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load(name: str) -> type[ShareAdapter]:
    """The adapter class registered as *name*, imported once and checked."""
    with _lock:
        if name in _cache:
            return _cache[name]
    found = available().get(name)
    if found is None:
        raise AdapterNotFound(name)
    cls: type[ShareAdapter] = found.load()
    check_class(name, cls)
    with _lock:
        _cache[name] = cls
    return cls


def check_class(name: str, cls: Any) -> None:
    """Raise TypeError unless *cls* looks like a ShareAdapter class named *name*."""
    if not isinstance(cls, type):
        raise TypeError(f"adapter {name!r} must be a class, got {cls!r}")
    missing = [a for a in REQUIRED_ATTRS if not hasattr(cls, a)]
    missing += [m for m in REQUIRED_METHODS if not callable(getattr(cls, m, None))]
    if missing:
        raise TypeError(f"adapter {name!r} ({cls.__qualname__}) lacks {', '.join(missing)}")
    declared = getattr(cls, "name", None)
    if declared != name:
        raise TypeError(f"adapter registered as {name!r} says its name is {declared!r}")


def describe(name: str) -> dict[str, Any]:
    """What the adapter *name* can do (for ``syndicate adapters``), without any I/O."""
    cls = load(name)
    found = available()[name]
    return {
        "name": name,
        "label": cls.label,
        "class": found.value,
        "distribution": found.dist.name if found.dist else None,
        "default_base_url": cls.default_base_url,
        "can_lookup": bool(cls.can_lookup),
        "lookup_authoritative": bool(cls.lookup_authoritative),
        "duplicate_signal": bool(cls.duplicate_signal),
    }


def clear_cache() -> None:
    """Forget loaded classes (tests that install adapters at run time)."""
    with _lock:
        _cache.clear()
