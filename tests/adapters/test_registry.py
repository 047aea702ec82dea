"""The adapter registry over the syndicate.adapters entry points."""

from __future__ import annotations

import pytest

from syndicate import adapters
from syndicate.adapters.base import ShareAdapter
from syndicate.errors import AdapterNotFound

BUILT_IN = {
    "facebook": "FacebookAdapter",
    "x": "XAdapter",
    "reddit": "RedditAdapter",
    "linkedin": "LinkedInAdapter",
}


def test_built_ins_are_entry_points() -> None:
    """Our four adapters are registered exactly like a third party's."""
    found = adapters.available()
    assert set(BUILT_IN) <= set(found)
    for name, cls in BUILT_IN.items():
        assert found[name].value == f"syndicate.adapters.{name}:{cls}"


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_load_is_cached_and_checked(name: str) -> None:
    """Loading by name gives the class, the same object each time, meeting the Protocol."""
    cls = adapters.load(name)
    assert cls is adapters.load(name) and cls.__name__ == BUILT_IN[name]
    instance = cls()
    assert isinstance(instance, ShareAdapter)
    instance.close()


def test_unknown_adapter() -> None:
    """An unknown name raises AdapterNotFound, a LookupError naming it."""
    with pytest.raises(LookupError, match='No adapter named "mastodon" is installed'):
        adapters.load("mastodon")
    with pytest.raises(AdapterNotFound):
        adapters.describe("mastodon")


def test_describe() -> None:
    """describe() reports capabilities without I/O."""
    info = adapters.describe("x")
    assert info["label"] == "X" and info["can_lookup"] is True
    assert info["default_base_url"] == "https://api.x.com" and info["distribution"] == "syndicate"


def test_check_class_rejects_non_adapters() -> None:
    """A registered object that is not an adapter class is refused with the reason."""
    with pytest.raises(TypeError, match="lacks"):
        adapters.check_class("bad", type("Bad", (), {"name": "bad"}))
    with pytest.raises(TypeError, match="must be a class"):
        adapters.check_class("bad", object())
