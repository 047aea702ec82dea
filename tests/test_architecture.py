"""The floor plan holds (docs/architecture.md): layered parts, no import circle, short
functions, a small top level, one import path per name."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "syndicate"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_FUNCTION_LINES = 60
MAX_TOP_LEVEL_MODULES = 10


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    imported = graph.find_modules_directly_imported_by(target)
                    work.append((target, iter(sorted(imported))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_import_circle_anywhere() -> None:
    """Counting imports inside functions and under TYPE_CHECKING, no module reaches itself."""
    graph = grimp.build_graph("syndicate", cache_dir=None)
    assert "syndicate.wiring" in graph.modules
    assert _cycles(graph) == []


def test_cycle_finder_finds_a_circle() -> None:
    """The finder is not blind: a function-level import back to the wiring is a circle."""
    graph = grimp.build_graph("syndicate", cache_dir=None)
    graph.add_import(
        importer="syndicate.store.websub", imported="syndicate.wiring", line_number=1,
        line_contents="from syndicate.wiring import Wiring",
    )  # fmt: skip
    [circle] = _cycles(graph)
    assert {"syndicate.store.websub", "syndicate.wiring"} <= set(circle)


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_import_contract_holds() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("feeds/render.py", "import flask", "Content and feed rendering are pure"),
        ("adapters/x.py", "from syndicate.store import Store", "Adapters know their network"),
        ("web/ops.py", "from syndicate.worker import scheduler", "No scheduler in a WSGI"),
        ("store/websub.py", "from syndicate.shares import ledger", "The store knows tables"),
        ("publish/__init__.py", "from syndicate import wiring", "Parts are layered"),
    ],
)
def test_a_deliberate_violation_breaks_the_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    """A copy of the package with one forbidden import fails ``lint-imports``, naming it."""
    shutil.copytree(PACKAGE, tmp_path / "syndicate", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "syndicate" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", "utf-8")
    done = _lint_imports(tmp_path)
    assert done.returncode != 0
    broken = [row for row in done.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(row.startswith(contract) for row in broken), done.stdout


def test_top_level_holds_at_most_ten_modules() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_no_function_over_sixty_lines() -> None:
    """Migrations aside, every function fits on a screen."""
    long = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    assert long == []


def test_one_import_path_per_name() -> None:
    """No re-export lists and no ``import x as x`` aliases: a name lives where it is made."""
    found = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
            ):
                found.append(f"{where} __all__")
            if isinstance(node, ast.ImportFrom | ast.Import):
                found += [
                    f"{where} {a.name} as {a.asname}" for a in node.names if a.asname == a.name
                ]
    assert found == []
