"""The ``[share]`` settings table, checked, and account credentials from env and secrets file.

Everything here is pure except :func:`read_secrets_file`; a bad value raises
:class:`ConfigError` naming the key (``share.accounts[1].template``), never its secret.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from syndicate.adapters.base import Account
from syndicate.errors import ConfigError
from syndicate.shares.compose import check_template, make_hashtag

DEFAULT_LABELS = ("facebook", "x", "reddit", "linkedin")
DEFAULT_SEPARATOR = " «||» "
TOP_LEVEL_KEYS = frozenset(
    {
        "dry_run",
        "sandbox",
        "labels",
        "separator",
        "twitter_site",
        "hashtags",
        "networks",
        "accounts",
        "ledger",
        "marker_param",
        "replace_utm",
        "facebook_app_id",
    }
)
# The query parameter that carries the ledger's share key in every posted link. Not a
# utm_* name: analytics tools read utm_id as a campaign id, which would make each share a
# campaign of its own.
DEFAULT_MARKER_PARAM = "share_ref"
SECRET_ENV_PREFIX = "SYNDICATE_SECRET_"
SECRETS_SETTING = "secrets_file (SYNDICATE_SECRETS_FILE)"
# Keys that hold secrets must never sit in the main config file.
_SECRET_KEY = re.compile(r"token|secret|password|api_key|consumer_key", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class AccountSpec:
    """One ``[[share.accounts]]`` table: where it sits in config and what it says."""

    network: str
    name: str
    enabled: bool
    options: Mapping[str, Any]
    where: str  # "share.accounts[0]", for error messages

    @property
    def key(self) -> str:
        return f"{self.network}:{self.name}"


@dataclass(frozen=True)
class ShareSettings:
    """The ``[share]`` table after checking."""

    dry_run: bool = False
    sandbox: str = ""
    labels: tuple[str, ...] = DEFAULT_LABELS
    separator: str = DEFAULT_SEPARATOR
    twitter_site: str = ""
    hashtags: Mapping[str, str] = field(default_factory=dict)
    networks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    accounts: tuple[AccountSpec, ...] = ()
    marker_param: str = DEFAULT_MARKER_PARAM
    replace_utm: bool = True
    facebook_app_id: str = ""

    def network_names(self) -> list[str]:
        """Every network named anywhere in the table, bar order first."""
        names = [*self.labels, *self.networks, *(a.network for a in self.accounts)]
        return list(dict.fromkeys(names))

    def options(self, network: str) -> Mapping[str, Any]:
        return self.networks.get(network, {})


def parse(raw: Mapping[str, Any]) -> ShareSettings:
    """Check the raw ``[share]`` table and return it typed."""
    unknown = sorted(set(raw) - TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(
            f"share.{unknown[0]}", f"unknown key; known: {', '.join(sorted(TOP_LEVEL_KEYS))}"
        )
    labels = tuple(_str_list(raw.get("labels", DEFAULT_LABELS), "share.labels"))
    if len(set(labels)) != len(labels):
        raise ConfigError("share.labels", "names a network twice")
    networks = {
        name: _network(name, table)
        for name, table in _table(raw.get("networks", {}), "share.networks").items()
    }
    accounts = tuple(_account(i, t) for i, t in enumerate(_list(raw.get("accounts", []))))
    seen: set[str] = set()
    for spec in accounts:
        if spec.key in seen:
            raise ConfigError(f"{spec.where}.name", f"account {spec.key!r} is configured twice")
        seen.add(spec.key)
    return ShareSettings(
        dry_run=_bool(raw.get("dry_run", False), "share.dry_run"),
        sandbox=_sandbox(raw.get("sandbox", "")),
        labels=labels,
        separator=_str(raw.get("separator", DEFAULT_SEPARATOR), "share.separator"),
        twitter_site=_twitter_site(raw.get("twitter_site", "")),
        hashtags=_hashtag_map(raw.get("hashtags", {})),
        networks=networks,
        accounts=accounts,
        marker_param=_marker_param(raw.get("marker_param", DEFAULT_MARKER_PARAM)),
        replace_utm=_bool(raw.get("replace_utm", True), "share.replace_utm"),
        facebook_app_id=_app_id(raw.get("facebook_app_id", "")),
    )


def _marker_param(raw: Any) -> str:
    value = _str(raw, "share.marker_param")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{0,39}", value):
        raise ConfigError("share.marker_param", f"must be a plain parameter name, got {value!r}")
    if value.lower().startswith("utm_"):
        raise ConfigError(
            "share.marker_param",
            f"{value!r} is a campaign parameter to analytics tools; choose another name",
        )
    return value


def _app_id(raw: Any) -> str:
    value = _str(raw, "share.facebook_app_id").strip()
    if value and not value.isdigit():
        raise ConfigError("share.facebook_app_id", f"must be digits, got {value!r}")
    return value


def _network(name: str, table: Any) -> Mapping[str, Any]:
    where = f"share.networks.{name}"
    checked: dict[str, Any] = dict(_table(table, where))
    _no_secrets(checked, where)
    _common_keys(checked, where)
    return checked


def _account(index: int, table: Any) -> AccountSpec:
    where = f"share.accounts[{index}]"
    table = dict(_table(table, where))
    for key in ("network", "name"):
        value = table.get(key)
        if not isinstance(value, str) or not _NAME.match(value):
            raise ConfigError(f"{where}.{key}", "needs a name of letters, digits, '_', '-', '.'")
    _no_secrets(table, where)
    _common_keys(table, where)
    enabled = _bool(table.get("enabled", True), f"{where}.enabled")
    return AccountSpec(table["network"], table["name"], enabled, table, where)


def _common_keys(table: Mapping[str, Any], where: str) -> None:
    """Check the keys sharing itself reads from a network or account table."""
    if "template" in table:
        try:
            check_template(_str(table["template"], f"{where}.template"))
        except ValueError as exc:
            raise ConfigError(f"{where}.template", str(exc)) from exc
    if "utm" in table:
        for key, value in _table(table["utm"], f"{where}.utm").items():
            _str(value, f"{where}.utm.{key}")
    for key in ("via", "label"):
        if key in table:
            _str(table[key], f"{where}.{key}")
    if "replace_utm" in table:
        _bool(table["replace_utm"], f"{where}.replace_utm")
    for key, least in (("limit", 1), ("max_hashtags", 0), ("min_title", 1)):
        value = table.get(key, least)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ConfigError(f"{where}.{key}", f"must be a whole number ≥ {least}, got {value!r}")


def _no_secrets(table: Mapping[str, Any], where: str) -> None:
    for key in table:
        if _SECRET_KEY.search(key):
            raise ConfigError(
                f"{where}.{key}", "secrets belong in the environment or secrets_file, not here"
            )


def _sandbox(value: Any) -> str:
    value = _str(value, "share.sandbox").rstrip("/")
    if not value:
        return ""
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme != "http" or not host or parts.path or parts.query:
        raise ConfigError("share.sandbox", f"must be http://<loopback host>:<port>, got {value!r}")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError("share.sandbox", f"must be a loopback address, got {host!r}")
    return str(value)


def _twitter_site(value: Any) -> str:
    value = _str(value, "share.twitter_site").strip()
    if value and not re.fullmatch(r"@?\w{1,15}", value):
        raise ConfigError("share.twitter_site", f"must be an X username, got {value!r}")
    return "@" + value.lstrip("@") if value else ""


def _hashtag_map(value: Any) -> dict[str, str]:
    """Slug -> hashtag; an empty value means "no hashtag for this term"."""
    result = {}
    for slug, tag in _table(value, "share.hashtags").items():
        tag = _str(tag, f"share.hashtags.{slug}")
        made = make_hashtag(tag)
        if tag.strip() and not made:
            raise ConfigError(f"share.hashtags.{slug}", f"{tag!r} cannot be made a hashtag")
        result[slug] = made
    return result


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(where, "must be a table")
    return value


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ConfigError("share.accounts", "must be an array of tables ([[share.accounts]])")
    return list(value)


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(where, "must be a list of names")
    return list(value)


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(where, f"must be text, got {type(value).__name__}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(where, f"must be true or false, got {value!r}")
    return value


def secret_values(account: Account) -> tuple[str, ...]:
    """The account's credential values that are secrets (tokens, keys, passwords)."""
    return tuple(v for k, v in account.credentials.items() if _SECRET_KEY.search(k) and v)


def env_key(*parts: str) -> str:
    """``SYNDICATE_SECRET_<NETWORK>_<ACCOUNT>_``: upper-cased, non-alphanumerics -> ``_``."""
    return SECRET_ENV_PREFIX + "".join(re.sub(r"[^A-Z0-9]", "_", p.upper()) + "_" for p in parts)


def read_secrets_file(path: Path | None) -> dict[str, Any]:
    """The secrets TOML (``[x.newsdesk] access_token = …``); empty when not configured."""
    if path is None:
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(SECRETS_SETTING, f"no such file: {path}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        # The decoder's message gives a position only, never the file's content.
        raise ConfigError(SECRETS_SETTING, f"not valid TOML: {exc}") from exc


def _filed(secrets: Mapping[str, Any], spec: AccountSpec) -> Mapping[str, Any]:
    """The secrets file's ``[<network>.<name>]`` table, or nothing."""
    table = secrets.get(spec.network, {})
    table = table.get(spec.name, {}) if isinstance(table, Mapping) else {}
    return table if isinstance(table, Mapping) else {}


def build_accounts(
    specs: tuple[AccountSpec, ...], env: Mapping[str, str], secrets: Mapping[str, Any]
) -> list[Account]:
    """Accounts with credentials: the secrets file first, the environment winning."""
    prefixes = {spec.key: env_key(spec.network, spec.name) for spec in specs}
    from_env: dict[str, dict[str, str]] = {key: {} for key in prefixes}
    for var, value in env.items():
        owners = [k for k, p in prefixes.items() if var.startswith(p) and len(var) > len(p)]
        if owners:  # the longest prefix wins: account "news" must not take "news_desk"'s keys
            owner = max(owners, key=lambda k: len(prefixes[k]))
            from_env[owner][var[len(prefixes[owner]) :].lower()] = value
    accounts = []
    for spec in specs:
        credentials = {str(k): str(v) for k, v in _filed(secrets, spec).items()}
        credentials.update(from_env[spec.key])
        accounts.append(Account(spec.network, spec.name, dict(spec.options), credentials))
    return accounts
