"""Settings: one table of every setting, its default and what it does.

Values come from, in order (later wins): the defaults below, ``config/syndicate.toml``
(or the file named by ``SYNDICATE_CONFIG``), then ``SYNDICATE_<NAME>`` environment
variables for every scalar setting. A bad value raises :class:`ConfigError` naming it.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import textwrap
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from syndicate.errors import ConfigError
from syndicate.models import FeedSpec, UpstreamSpec

ENV_PREFIX = "SYNDICATE_"
# Limits bounded by the size of the database column that stores the value.
COLUMN_LIMITS = {
    "max_label_chars": 200,
    "max_image_pixels": 2**31 - 1,
    "max_image_bytes": 2**63 - 1,
}
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
    feed_author_email: bool = _setting(
        False,
        "Publish the e-mail address of an author given as `Name <email>` with a pushed or "
        "dropped article (RSS `<author>`, Atom `<email>`); off: only the name is kept.",
    )
    max_file_bytes: int = _setting(5_000_000, "Largest article file the drop folder accepts.")
    max_request_bytes: int = _setting(
        1_000_000, "Largest push API request body, chunked or not (413 past it)."
    )
    max_title_chars: int = _setting(1000, "Longest article title accepted, in characters.")
    max_body_bytes: int = _setting(
        2_000_000, "Largest article body (or summary) accepted, in UTF-8 bytes."
    )
    max_terms: int = _setting(
        100, "Most categories, and most tags, one article may carry (each counted apart)."
    )
    max_label_chars: int = _setting(
        100, "Longest category or tag label accepted, in characters (at most 200)."
    )
    max_image_pixels: int = _setting(
        100_000, "Largest image width or height accepted, in pixels (at most 2147483647)."
    )
    max_image_bytes: int = _setting(
        10_000_000_000, "Largest image (enclosure) length accepted, in bytes."
    )
    earliest_year: int = _setting(
        1800, "Articles dated before this year are refused (dates after now become now)."
    )
    db_busy_seconds: int = _setting(
        10,
        "Seconds a write waits for another writer before giving up; the web answers 503 "
        "with Retry-After, the worker retries on its next tick.",
    )
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
        "source, limit, full_content, share_links). `all` and one per category, tag and "
        "author always exist.",
        env=False,
    )
    upstream: tuple[UpstreamSpec, ...] = _setting(
        (),
        "`[[upstream]]` tables: RSS/Atom feeds to take articles from (name, url, interval, "
        "allow_private, allow_loopback, author, categories, publish_author_email: put "
        "entries' author e-mail addresses in feeds; off by default, when they are dropped).",
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

    def replace(self, *, source: str = "override", **changes: Any) -> Settings:
        """A copy with *changes*; each changed setting is said to come from *source*."""
        copy = dataclasses.replace(self, **changes)
        sources = dict(self._sources)
        sources.update(dict.fromkeys(changes, source))
        object.__setattr__(copy, "_sources_map", sources)
        return copy

    @property
    def _sources(self) -> dict[str, str]:
        # Set by diagnose() and replace(); not a field, so not a setting.
        sources: dict[str, str] = self.__dict__.get("_sources_map", {})
        return sources

    def source(self, name: str) -> str:
        """Where *name*'s value came from: ``default``, ``<file> line N``, an environment
        variable, or a command-line option."""
        return self._sources.get(name, "default")

    def origin(self, name: str) -> str:
        """Where to change *name*: its source, or for a default its environment variable."""
        where = self.source(name)
        if where == "default":
            field_ = _FIELDS.get(name)
            where = env_name(name) if field_ is not None and field_.metadata["env"] else "default"
        return where

    def label(self, name: str) -> str:
        """``name (where it came from)``, for error messages."""
        return f"{name} ({self.origin(name)})"


SETTINGS = tuple(dataclasses.fields(Settings))
_FIELDS = {f.name: f for f in SETTINGS}
# Variables that are not settings but belong to syndicate (the file, account secrets).
OTHER_ENV = (ENV_PREFIX + "CONFIG", ENV_PREFIX + "SECRET_")


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def load(
    path: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read defaults, then the TOML file, then the environment, then *overrides*.

    The first problem raises :class:`ConfigError` naming the setting and where its value
    came from (``port (config/syndicate.toml line 3)``, ``port (SYNDICATE_PORT)``).
    """
    settings, problems = diagnose(path, env, overrides)
    if problems:
        raise problems[0]
    assert settings is not None
    return settings


def diagnose(
    path: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> tuple[Settings | None, list[ConfigError]]:
    """Load like :func:`load` but collect every problem instead of stopping at the first.

    Returns the settings (None when a problem leaves no usable value) and the problems.
    """
    env = os.environ if env is None else env
    path = config_path(path, env)
    problems: list[ConfigError] = []
    raw, sources = _read_file(path, env, problems)
    for f in SETTINGS:
        if f.metadata["env"] and env_name(f.name) in env:
            raw[f.name] = env[env_name(f.name)]
            sources[f.name] = env_name(f.name)
    for name, value in (overrides or {}).items():
        raw[name] = value
        sources.setdefault(name, "override")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        try:
            values[name] = _convert(_FIELDS[name], value, sources.get(name))
        except ConfigError as exc:
            problems.append(exc)
    settings = Settings(**values)
    object.__setattr__(settings, "_sources_map", sources)
    problems += _validate(settings)
    return (None if problems else settings), problems


def config_path(path: Path | str | None, env: Mapping[str, str]) -> Path:
    return Path(path or env.get(ENV_PREFIX + "CONFIG") or DEFAULT_CONFIG_FILE)


def _read_file(
    path: Path, env: Mapping[str, str], problems: list[ConfigError]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The file's settings and, per key, ``<file> line N``; unknown keys are problems."""
    if not path.exists():
        if ENV_PREFIX + "CONFIG" in env:
            problems.append(ConfigError(ENV_PREFIX + "CONFIG", f"no such file: {path}"))
        return {}, {}
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(ConfigError(str(path), f"not valid TOML: {exc}"))
        return {}, {}
    lines = key_lines(text)
    sources = {key: f"{path} line {lines[key]}" if key in lines else str(path) for key in raw}
    for key in sorted(set(raw) - set(_FIELDS), key=lambda k: lines.get(k, 0)):
        hint = did_you_mean(key, _FIELDS)
        problems.append(ConfigError(f"{key} ({sources.pop(key)})", f"unknown setting{hint}"))
        del raw[key]
    return raw, sources


_KEY_LINE = re.compile(r"""^\s*["']?([A-Za-z0-9_-]+)["']?\s*=""")
_TABLE_LINE = re.compile(r"""^\s*\[\[?\s*["']?([A-Za-z0-9_-]+)""")


def key_lines(text: str) -> dict[str, int]:
    """The line of each top-level key, or of the first table header under it (``[share]``,
    ``[[share.accounts]]`` for ``share``), of a TOML text."""
    found: dict[str, int] = {}
    in_table = False
    for number, line in enumerate(text.splitlines(), 1):
        table = _TABLE_LINE.match(line)
        if table:
            in_table = True
            found.setdefault(table.group(1), number)
            continue
        key = None if in_table else _KEY_LINE.match(line)
        if key:
            found.setdefault(key.group(1), number)
    return found


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``; did you mean 'port'?`` for a near miss, else an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown_env(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """``SYNDICATE_*`` variables that name no setting, each with a suggestion (or "")."""
    known = {env_name(f.name): f for f in SETTINGS if f.metadata["env"]}
    odd = []
    for var in sorted(env):
        if var.startswith(ENV_PREFIX) and var not in known and not var.startswith(OTHER_ENV):
            odd.append((var, did_you_mean(var, known)))
    return odd


def _label(f: dataclasses.Field[Any], source: str | None = None) -> str:
    if source and source != "default":
        return f"{f.name} ({source})"
    return f"{f.name} ({env_name(f.name)})" if f.metadata["env"] else f.name


def _convert(f: dataclasses.Field[Any], value: Any, source: str | None = None) -> Any:
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
            return normalise_database_url(value) if f.name == "database_url" else value
        if f.name == "feeds":
            return tuple(_feed_spec(item) for item in value)
        if f.name == "upstream":
            return tuple(_upstream_spec(item) for item in value)
        if f.name == "share":
            if not isinstance(value, dict):
                raise ValueError("expected a table")
            return value
    except (TypeError, ValueError) as exc:
        raise ConfigError(_label(f, source), str(exc)) from exc
    raise ConfigError(_label(f, source), f"unsupported value {value!r}")


def normalise_database_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` (Heroku, libpq style) use the psycopg 3 driver."""
    for scheme in ("postgres://", "postgresql://", "postgres+psycopg://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


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


def _validate(s: Settings) -> list[ConfigError]:
    problems: list[ConfigError] = []

    def bad(name: str, reason: str) -> None:
        problems.append(ConfigError(s.label(name), reason))

    for name in ("port", "sandbox_port"):
        if not 0 < getattr(s, name) < 65536:
            bad(name, f"must be a port number 1-65535, got {getattr(s, name)}")
    for name in (
        "scan_interval",
        "render_interval",
        "feed_limit",
        "feed_max_limit",
        "feed_ttl",
        "max_file_bytes",
        "max_request_bytes",
        "max_title_chars",
        "max_body_bytes",
        "max_terms",
        "max_label_chars",
        "max_image_pixels",
        "max_image_bytes",
        "earliest_year",
        "db_busy_seconds",
    ):
        if getattr(s, name) <= 0:
            bad(name, f"must be positive, got {getattr(s, name)}")
    for name, column_limit in COLUMN_LIMITS.items():
        if getattr(s, name) > column_limit:
            bad(name, f"must be at most {column_limit} (the database column's size)")
    if s.earliest_year > 9999:
        bad("earliest_year", f"must be at most 9999, got {s.earliest_year}")
    for name in ("base_url", "site_url", "websub_hub"):
        value = getattr(s, name)
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.netloc):
            bad(name, f"must be an absolute http(s) URL, got {value!r}")
    if not s.host.strip():
        bad("host", "must be an address to listen on, e.g. 127.0.0.1 or 0.0.0.0")
    if s.database_url and not s.database_url.startswith(("sqlite", "postgresql")):
        bad("database_url", "must be a sqlite:// or postgresql:// URL")
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        bad("timezone", f"unknown timezone {s.timezone!r}")
    if s.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        bad("log_level", f"must be DEBUG, INFO, WARNING or ERROR, got {s.log_level!r}")
    return problems


def default_text(f: dataclasses.Field[Any]) -> str:
    """A setting's default as README's table and ``.env.example`` show it ("" when empty)."""
    value: Any = f.default
    factory: Any = f.default_factory
    if value is dataclasses.MISSING and factory is not dataclasses.MISSING:
        value = factory()
    if value is None or value in ("", (), {}):
        return ""
    return str(value)


ENV_EXAMPLE_HEADER = """\
# Every SYNDICATE_* environment variable with its default, generated from the settings
# table (syndicate/config.py) by `syndicate settings --env-example`; a test fails when this
# file drifts from it. Uncomment and set what you need. Both systemd (EnvironmentFile=)
# and a POSIX shell (set -a; . ./.env; set +a) read this format.
# Precedence: defaults, then config/syndicate.toml, then these variables.
"""

ENV_EXAMPLE_FOOTER = """\
# Not settings, but read from the environment too:
# SYNDICATE_CONFIG: the settings file (default config/syndicate.toml; must exist when set).
# SYNDICATE_SECRET_<NETWORK>_<ACCOUNT>_<KEY>: an account credential, such as
# SYNDICATE_SECRET_X_NEWSDESK_ACCESS_TOKEN for the access_token of the x account
# "newsdesk" (upper-cased, other characters as _); these win over the secrets file.
"""


def env_example() -> str:
    """The text of ``.env.example``: one commented line per environment setting."""
    parts = [ENV_EXAMPLE_HEADER]
    for f in SETTINGS:
        if not f.metadata["env"]:
            continue
        value = default_text(f)
        if value.lower() in ("true", "false"):
            value = value.lower()
        if any(c in value for c in " #'\"$`\\"):
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        help_text = f.metadata["help"].replace("`", "")
        lines = textwrap.wrap(help_text, 88, initial_indent="# ", subsequent_indent="# ")
        parts.append("\n" + "\n".join(lines) + f"\n# {env_name(f.name)}={value}\n")
    parts.append("\n" + ENV_EXAMPLE_FOOTER)
    return "".join(parts)
