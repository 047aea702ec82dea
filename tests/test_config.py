"""Settings: defaults, the TOML file, environment overrides and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from syndicate import config
from syndicate.errors import ConfigError


def test_defaults_without_a_file(tmp_path: Path) -> None:
    """With no file and no environment every setting has its documented default."""
    s = config.load(tmp_path / "none.toml", env={})
    assert s.port == 8080
    assert s.database.startswith("sqlite:///") and s.database.endswith("data/syndicate.db")
    assert s.inbox_dir == Path("data/inbox")
    assert s.public_url == "http://127.0.0.1:8080"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    """SYNDICATE_* variables win over the TOML file, which wins over defaults."""
    path = tmp_path / "s.toml"
    path.write_text('port = 9000\nsite_title = "Daily"\n')
    s = config.load(path, env={"SYNDICATE_PORT": "9100", "SYNDICATE_BASE_URL": "https://f.example"})
    assert s.port == 9100
    assert s.site_title == "Daily"
    assert s.public_url == "https://f.example"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SYNDICATE_PORT": "eighty"}, "SYNDICATE_PORT"),
        ({"SYNDICATE_PORT": "70000"}, "SYNDICATE_PORT"),
        ({"SYNDICATE_BASE_URL": "feeds.example.com"}, "SYNDICATE_BASE_URL"),
        ({"SYNDICATE_DATABASE_URL": "mysql://x"}, "SYNDICATE_DATABASE_URL"),
        ({"SYNDICATE_TIMEZONE": "Mars/Olympus"}, "SYNDICATE_TIMEZONE"),
        ({"SYNDICATE_FULL_CONTENT": "maybe"}, "SYNDICATE_FULL_CONTENT"),
        ({"SYNDICATE_SCAN_INTERVAL": "0"}, "SYNDICATE_SCAN_INTERVAL"),
        ({"SYNDICATE_HOST": ""}, "SYNDICATE_HOST"),
    ],
)
def test_bad_values_name_the_setting(tmp_path: Path, env: dict[str, str], named: str) -> None:
    """A bad value stops loading with an error that names the setting."""
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path / "none.toml", env=env)
    assert named in str(info.value)


def test_unknown_keys_and_bad_toml_are_refused(tmp_path: Path) -> None:
    """A typo in the file is an error, not a silently ignored setting."""
    path = tmp_path / "s.toml"
    path.write_text("prot = 80\n")
    with pytest.raises(ConfigError, match="prot"):
        config.load(path, env={})
    path.write_text("port = = 80\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(path, env={})


def test_feed_and_upstream_tables_are_validated(tmp_path: Path) -> None:
    """[[feeds]] and [[upstream]] entries become specs; bad ones name the problem."""
    path = tmp_path / "s.toml"
    path.write_text(
        '[[feeds]]\nname = "world-brief"\ntitle = "World brief"\ncategory = "world"\nlimit = 5\n'
        '[[upstream]]\nname = "wire"\nurl = "https://wire.example.com/rss"\n'
    )
    s = config.load(path, env={})
    assert s.feeds[0].category == "world" and s.feeds[0].limit == 5
    assert s.upstream[0].interval == 900
    path.write_text('[[upstream]]\nname = "wire"\nurl = "file:///etc/passwd"\n')
    with pytest.raises(ConfigError, match="upstream"):
        config.load(path, env={})


def test_shipped_config_loads() -> None:
    """config/syndicate.toml as shipped is valid."""
    s = config.load(Path(__file__).parent.parent / "config" / "syndicate.toml", env={})
    assert s.port == 8080


def test_every_setting_is_documented_in_readme() -> None:
    """README's settings table lists every setting and its environment variable."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for f in config.SETTINGS:
        assert f"`{f.name}`" in readme, f.name
        assert f.metadata["help"] in readme, f"README's help for {f.name} is out of date"
        if f.metadata["env"]:
            assert config.env_name(f.name) in readme, f.name
