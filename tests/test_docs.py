"""Every document the code, tests and docs cite is inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
SCANNED = ("syndicate", "tests", "bench", "docs", "plugins")
SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".service", ".example"}

# A design note named without its folder ("social.md §4") or a path out of the repository.
BARE_NOTE = re.compile(r"(?<![\w/.-])(social|reliability|feeds|style)\.md\b")
OUTSIDE = re.compile(r"shared/docs|\.\./shared")
DOCS_LINK = re.compile(r"\bdocs/([\w.-]+\.md)\b")


def _texts() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder in SCANNED:
        base = ROOT / folder
        if base.is_dir():
            files += [p for p in base.rglob("*") if p.is_file() and p.suffix in SUFFIXES]
    return files


def test_citations_name_documents_inside_the_repository() -> None:
    problems = []
    for path in _texts():
        if path == Path(__file__):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{number}"
            if BARE_NOTE.search(line) or OUTSIDE.search(line):
                problems.append(f"{where}: cite docs/<name>.md, not a note outside the repo")
            for name in DOCS_LINK.findall(line):
                if not (ROOT / "docs" / name).is_file():
                    problems.append(f"{where}: docs/{name} does not exist")
    assert not problems, "\n".join(problems)
