"""What a deployer gets: the licence, honest dependencies, the environment example and the
systemd units, each checked against its source of truth."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from syndicate import config

ROOT = Path(__file__).parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# Runtime dependencies that no module imports by name: SQLAlchemy loads the driver for a
# ``postgresql+psycopg://`` URL itself.
LOADED_BY_URL = {"psycopg"}


def _dist_name(requirement: str) -> str:
    name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_modules(folder: Path) -> set[str]:
    """Top-level modules imported by *folder*'s code, leaving out ``if TYPE_CHECKING:``."""
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = {
            id(node)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for node in ast.walk(block)
        }
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"syndicate"}


def test_runtime_dependencies_are_exactly_what_the_code_imports() -> None:
    """pyproject's dependencies name every distribution syndicate/ imports, and no other."""
    owners = importlib.metadata.packages_distributions()
    imported = set()
    for module in _imported_modules(ROOT / "syndicate"):
        assert module in owners, f"{module} is imported but no installed distribution has it"
        imported |= {_dist_name(d) for d in owners[module]}
    declared = {_dist_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert imported - declared == set(), "imported but not declared"
    assert declared - imported - LOADED_BY_URL == set(), "declared but never imported"


def test_licence_is_the_apache_2_text_pyproject_names() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text) > 10_000


def test_env_example_is_generated_from_the_settings_table() -> None:
    """`.env.example` is exactly what `syndicate settings --env-example` prints."""
    shipped = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert shipped == config.env_example(), "regenerate: syndicate settings --env-example"
    listed = re.findall(r"^# (SYNDICATE_[A-Z_]+)=", shipped, flags=re.MULTILINE)
    assert listed == [config.env_name(f.name) for f in config.SETTINGS if f.metadata["env"]]


def _readme_settings_rows() -> dict[str, list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("| setting | environment variable | default | what it does |", 1)[1]
    rows = {}
    for line in table.split("\n")[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        rows[cells[0].strip("`")] = cells
    return rows


def test_readme_env_table_env_example_and_settings_agree() -> None:
    """Each setting's variable, default and help read the same in README's table, in
    `.env.example` and in the settings table."""
    rows = _readme_settings_rows()
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert set(rows) == {f.name for f in config.SETTINGS}
    for f in config.SETTINGS:
        _, variable, default, help_text = rows[f.name]
        default_shown = config.default_text(f) or "(empty)"
        assert default.strip("`") == default_shown, f.name
        assert help_text == f.metadata["help"], f.name
        if f.metadata["env"]:
            assert variable == f"`{config.env_name(f.name)}`", f.name
            assert f"# {config.env_name(f.name)}=" in example, f.name
        else:
            assert variable == "(file only)", f.name
            assert f"# {config.env_name(f.name)}=" not in example, f.name


UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))


def test_systemd_units_run_serve_and_worker() -> None:
    commands = {u.name: re.search(r"^ExecStart=(.+)$", u.read_text(), re.M) for u in UNITS}
    assert {n: m.group(1).split()[-1] for n, m in commands.items() if m} == {
        "syndicate-serve.service": "serve",
        "syndicate-worker.service": "worker",
    }


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here"
)
def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """Each unit, its paths pointed at this checkout, verifies with no complaint."""
    env_file = tmp_path / "syndicate.env"
    env_file.write_text(config.env_example(), encoding="utf-8")
    installed = Path(sys.executable).parent / "syndicate"
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/srv/syndicate/.venv/bin/syndicate", str(installed))
        text = text.replace("/srv/syndicate", str(ROOT))
        text = text.replace("/etc/syndicate/syndicate.env", str(env_file))
        copy = tmp_path / unit.name
        copy.write_text(text, encoding="utf-8")
        done = subprocess.run(
            ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
        )
        complaints = [
            line
            for line in (done.stdout + done.stderr).splitlines()
            # Outside a booted systemd (a container, CI) verify says so; not about the unit.
            if line.strip() and "Failed to connect to bus" not in line
        ]
        assert done.returncode == 0 and not complaints, (unit.name, complaints)
