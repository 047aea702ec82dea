"""Settings: one table of every setting, its default and what it does.

Values come from, in order (later wins): the defaults below, ``config/syndicate.toml``
(or the file named by ``SYNDICATE_CONFIG``), then ``SYNDICATE_<NAME>`` environment
variables for every scalar setting. A bad value raises :class:`ConfigError` naming it.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syndicate.errors import ConfigError
from syndicate.models import FeedSpec, UpstreamSpec

ENV_PREFIX = "SYNDICATE_"
DEFAULT_CONFIG_FILE = Path("config/syndicate.toml")


def _setting(default: Any, help: str, *, env: bool = True) -> Any:
    if isinstance(default, list | dict):
        return field(
            default_factory=lambda: type(default)(default), metadata={"help": help, "env": env}
        )
    return field(default=default, metadata={"help": help, "env": env})


@dataclass(frozen=True)
class Settings:
    """Every setting of syndicate. The help text here is the documentation README shows."""

    data_dir: Path = _setting(
        Path("data"), "Directory for the SQLite database, locks and the inbox."
    )
    database_url: str = _setting(
        "",
        "SQLAlchemy URL. Empty: a SQLite file `syndicate.db` in the data dir. "
        "PostgreSQL: `postgresql+psycopg://user@host/db`.",
    )
    inbox: Path | None = _setting(
        None, "Drop folder scanned for article files. Empty: `<data_dir>/inbox`."
    )
    feeds_dir: Path = _setting(Path("feeds"), "Where rendered feeds (and their `.gz`) are written.")
    host: str = _setting("127.0.0.1", "Address the web server listens on.")
    port: int = _setting(8080, "Port the web server listens on.")
    base_url: str = _setting(
        "", "Public URL of this service, used in feed self links. Empty: `http://<host>:<port>`."
    )
    api_token: str = _setting(
        "",
        "Bearer token for the push API and operator endpoints. Empty: `run` and `serve` make "
        "a random one at start-up and print it (required under another WSGI server).",
    )
    site_title: str = _setting("syndicate demo news", "Publisher name: feed titles, og:site_name.")
    site_url: str = _setting(
        "", "The publisher's home page (RSS channel link). Empty: the base URL."
    )
    site_description: str = _setting("Latest articles", "Description of the site-wide feed.")
    language: str = _setting("en", "Language of the feeds (RSS `<language>`, Atom `xml:lang`).")
    timezone: str = _setting("UTC", "Timezone given to dates that come without one.")
    scan_interval: int = _setting(10, "Seconds between scans of the drop folder.")
    render_interval: int = _setting(2, "Seconds between checks for changed articles to re-render.")
    feed_limit: int = _setting(50, "Items per feed unless a feed says otherwise.")
    feed_max_limit: int = _setting(200, "Cap on `?limit=N`.")
    feed_ttl: int = _setting(
        15, "Minutes readers should cache a feed: RSS `<ttl>` and `Cache-Control: max-age`."
    )
    full_content: bool = _setting(True, "Put the full article in feeds (False: summary only).")
    max_file_bytes: int = _setting(5_000_000, "Largest article file the drop folder accepts.")
    max_request_bytes: int = _setting(1_000_000, "Largest push API request body.")
    websub_hub: str = _setting("", "WebSub hub URL to advertise and ping. Empty: WebSub off.")
    sandbox_port: int = _setting(
        8089, "Port of the local social-API sandbox (`syndicate sandbox`)."
    )
    secrets_file: Path | None = _setting(
        None, "TOML file of account credentials, kept out of the main config."
    )
    metrics_token: bool = _setting(False, "Require the API token on `/metrics`.")
    log_level: str = _setting("INFO", "Logging level.")
    feeds: tuple[FeedSpec, ...] = _setting(
        (),
        "`[[feeds]]` tables: extra feeds (name, title, description, category, tag, author, "
        "source, limit, full_content, share_links). `all`, one per category and one per "
        "author always exist.",
        env=False,
    )
    upstream: tuple[UpstreamSpec, ...] = _setting(
        (),
        "`[[upstream]]` tables: RSS/Atom feeds to take articles from (name, url, interval, "
        "allow_private, author, categories, publish_author_email: put entries' author e-mail "
        "addresses in feeds; off by default, when they are dropped).",
        env=False,
    )
    share: dict[str, Any] = _setting(
        {},
        "`[share]` table: networks, accounts, templates, UTM and pacing (see Sharing).",
        env=False,
    )

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'syndicate.db').resolve()}"

    @property
    def inbox_dir(self) -> Path:
        return self.inbox or self.data_dir / "inbox"

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def home_url(self) -> str:
        return (self.site_url or self.public_url).rstrip("/") + "/"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


SETTINGS = tuple(dataclasses.fields(Settings))


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def load(
    path: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read defaults, then the TOML file, then the environment, then *overrides*."""
    env = os.environ if env is None else env
    path = Path(path or env.get(ENV_PREFIX + "CONFIG") or DEFAULT_CONFIG_FILE)
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw.update(tomllib.loads(path.read_text(encoding="utf-8")))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(str(path), f"not valid TOML: {exc}") from exc
    elif ENV_PREFIX + "CONFIG" in env:
        raise ConfigError(ENV_PREFIX + "CONFIG", f"no such file: {path}")
    known = {f.name: f for f in SETTINGS}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(str(path), f"unknown setting(s): {', '.join(unknown)}")
    for f in SETTINGS:
        if f.metadata["env"] and env_name(f.name) in env:
            raw[f.name] = env[env_name(f.name)]
    raw.update(overrides or {})
    values = {name: _convert(known[name], value) for name, value in raw.items()}
    settings = Settings(**values)
    _validate(settings)
    return settings


def _label(f: dataclasses.Field[Any]) -> str:
    return f"{f.name} ({env_name(f.name)})" if f.metadata["env"] else f.name


def _convert(f: dataclasses.Field[Any], value: Any) -> Any:
    kind = str(f.type)
    try:
        if kind == "int":
            if isinstance(value, bool) or not str(value).strip().lstrip("-").isdigit():
                raise ValueError(f"expected a whole number, got {value!r}")
            return int(value)
        if kind == "bool":
            return _to_bool(value)
        if kind in ("Path", "Path | None"):
            return Path(value) if str(value) else None if "None" in kind else Path(".")
        if kind == "str":
            if not isinstance(value, str):
                raise ValueError(f"expected text, got {value!r}")
            return value
        if f.name == "feeds":
            return tuple(_feed_spec(item) for item in value)
        if f.name == "upstream":
            return tuple(_upstream_spec(item) for item in value)
        if f.name == "share":
            if not isinstance(value, dict):
                raise ValueError("expected a table")
            return value
    except (TypeError, ValueError) as exc:
        raise ConfigError(_label(f), str(exc)) from exc
    raise ConfigError(_label(f), f"unsupported value {value!r}")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _table(item: Any, what: str, required: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError(f"each {what} must be a table")
    missing = [k for k in required if not item.get(k)]
    if missing:
        raise ValueError(f"{what} {item.get('name', '?')!r} needs {', '.join(missing)}")
    return item


def _feed_spec(item: Any) -> FeedSpec:
    item = _table(item, "feed", ("name", "title"))
    allowed = {f.name for f in dataclasses.fields(FeedSpec)}
    extra = set(item) - allowed
    if extra:
        raise ValueError(f"feed {item['name']!r}: unknown key(s) {', '.join(sorted(extra))}")
    item = {"description": item["title"], "link": "", **item}
    return FeedSpec(**item)


def _upstream_spec(item: Any) -> UpstreamSpec:
    item = _table(item, "upstream feed", ("name", "url"))
    if urlsplit(item["url"]).scheme not in ("http", "https"):
        raise ValueError(f"upstream {item['name']!r}: url must be http(s)")
    item = dict(item)
    item["categories"] = tuple(item.get("categories", ()))
    return UpstreamSpec(**item)


def _validate(s: Settings) -> None:
    def bad(name: str, reason: str) -> ConfigError:
        return ConfigError(f"{name} ({env_name(name)})", reason)

    for name in ("port", "sandbox_port"):
        if not 0 < getattr(s, name) < 65536:
            raise bad(name, f"must be a port number 1-65535, got {getattr(s, name)}")
    for name in (
        "scan_interval",
        "render_interval",
        "feed_limit",
        "feed_max_limit",
        "feed_ttl",
        "max_file_bytes",
        "max_request_bytes",
    ):
        if getattr(s, name) <= 0:
            raise bad(name, f"must be positive, got {getattr(s, name)}")
    for name in ("base_url", "site_url", "websub_hub"):
        value = getattr(s, name)
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise bad(name, f"must be an absolute http(s) URL, got {value!r}")
    if not s.host.strip():
        raise bad("host", "must be an address to listen on, e.g. 127.0.0.1 or 0.0.0.0")
    if s.database_url and not s.database_url.startswith(("sqlite", "postgresql")):
        raise bad("database_url", "must be a sqlite:// or postgresql+psycopg:// URL")
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise bad("timezone", f"unknown timezone {s.timezone!r}") from exc
    if s.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise bad("log_level", f"must be DEBUG, INFO, WARNING or ERROR, got {s.log_level!r}")
