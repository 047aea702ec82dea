"""The drop folder: article files in, then moved to ``processed/`` or ``rejected/``.

A scan takes every finished file in the inbox (``settings.inbox_dir``). Each file is
parsed by the parser registered for its extension and stored in one transaction; it then
moves to ``processed/``, or to ``rejected/`` with ``<name>.error.txt`` beside it listing
every problem, one per line. A ``.jsonl`` file with some bad lines still has its good lines
taken in and goes to ``rejected/`` so the bad lines can be fixed and the file dropped again
(the good lines are then unchanged). Nothing is overwritten or deleted: a name already
taken gets a numeric suffix. Files are never read half-written: hidden and temporary names
(``.*``, ``*.tmp``, ``*.part``, ``*.crdownload``, ``*~``) are ignored, as is a file modified
within the settle time or one that changes while it is read. A database failure leaves the
file in the inbox for the next scan. Any other error while taking in one file rejects that
file (its reason in the ``.error.txt``) and the scan carries on with the next one.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from syndicate.content.text import escape_controls, slugify
from syndicate.errors import IngestError, StoreError
from syndicate.ingest import Intake, ingest_many, load_parsers
from syndicate.ingest.raw import PartialIngestError, RawArticle
from syndicate.ingest.rules import present
from syndicate.store import Change

log = logging.getLogger(__name__)

FILE_SOURCE = "folder"
SETTLE_SECONDS = 2.0
PROCESSED = "processed"
REJECTED = "rejected"
ERROR_SUFFIX = ".error.txt"
_TEMPORARY = re.compile(r"^\.|(?:\.tmp|\.part|\.crdownload|~)$", re.IGNORECASE)


@dataclass(frozen=True)
class FileResult:
    """What happened to one file: the articles stored and every problem found."""

    path: Path
    changes: tuple[Change, ...] = ()
    problems: tuple[str, ...] = ()
    moved_to: Path | None = None

    @property
    def status(self) -> Literal["taken", "partial", "rejected"]:
        if not self.problems:
            return "taken"
        return "partial" if self.changes else "rejected"

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class IngestReport:
    """Per-file results of a one-shot ingest."""

    files: list[FileResult] = field(default_factory=list)

    @property
    def taken(self) -> list[FileResult]:
        return [f for f in self.files if f.ok]

    @property
    def rejected(self) -> list[FileResult]:
        return [f for f in self.files if not f.ok]

    @property
    def changes(self) -> list[Change]:
        return [change for f in self.files for change in f.changes]


@dataclass
class ScanReport(IngestReport):
    """Per-file results of one inbox scan, plus the files left for a later scan."""

    skipped: list[Path] = field(default_factory=list)


def is_temporary(name: str) -> bool:
    """Hidden or partial-download names that must not be read yet."""
    return bool(_TEMPORARY.search(name))


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """The files to ingest: each file as given, and a directory's own (non-temporary) files."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(p for p in path.iterdir() if p.is_file() and not is_temporary(p.name))
            )
        else:
            files.append(path)
    return files


def read_limited(path: Path, limit: int) -> bytes:
    """Read *path*, refusing (without reading it whole) a file over *limit* bytes."""
    too_big = f"too large: over the limit of {limit} bytes (max_file_bytes)"
    if path.stat().st_size > limit:
        raise IngestError({"file": too_big})
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise IngestError({"file": too_big})
    return data


def ingest_data(
    intake: Intake, name: str, data: bytes, *, source: str = FILE_SOURCE
) -> tuple[tuple[Change, ...], tuple[str, ...]]:
    """Parse and store one file's bytes; return the changes and the problems found.

    Raises StoreError when the database fails (the file is not to blame).
    """
    parser = load_parsers()[Path(name).suffix.lower().lstrip(".")]
    problems: dict[str, str] = {}
    try:
        items = parser(data, name)
    except PartialIngestError as exc:
        items = exc.items
        problems.update(exc.problems)
    except IngestError as exc:
        return (), tuple(_lines(exc.problems))
    except (ValueError, RecursionError) as exc:
        return (), (f"file: could not be parsed: {exc}",)
    stem = slugify(Path(name).stem)
    defaults: list[str | None] = [_default_id(stem, item) for item in items]
    changes, failures = ingest_many(intake, items, source=source, default_ids=defaults)
    for index, failure in failures.items():
        line = getattr(items[index], "line", None)
        prefix = f"line {line}: " if line is not None else ""
        problems.update({prefix + key: reason for key, reason in failure.problems.items()})
    return tuple(changes), tuple(_lines(dict(sorted(problems.items(), key=_line_order))))


def ingest_file(intake: Intake, path: Path, *, source: str = FILE_SOURCE) -> FileResult:
    """Take in one file without moving it. Raises StoreError when the database fails."""
    try:
        data = _read_article_file(intake, path)
    except OSError as exc:
        return FileResult(path, problems=(f"file: cannot be read: {exc.strerror or exc}",))
    if isinstance(data, FileResult):
        return data
    changes, problems = ingest_data(intake, path.name, data, source=source)
    return FileResult(path, changes, problems)


def ingest_paths(
    intake: Intake,
    paths: Sequence[Path],
    *,
    progress: Callable[[Path], None] | None = None,
    source: str = FILE_SOURCE,
) -> IngestReport:
    """One-shot import of files (a directory means its files); nothing is moved."""
    report = IngestReport()
    for path in expand_paths(paths):
        if not path.is_file():
            result = FileResult(path, problems=("file: no such file",))
        else:
            try:
                result = ingest_file(intake, path, source=source)
            except StoreError as exc:
                result = FileResult(path, problems=(f"database: {exc}",))
            except Exception as exc:  # one bad file must not stop the others
                result = _crashed(path, exc)
        report.files.append(result)
        if progress is not None:
            progress(path)
    return report


def scan_folder(intake: Intake, *, settle_seconds: float = SETTLE_SECONDS) -> ScanReport:
    """Take in every finished file in the inbox and move each one out of it."""
    inbox = intake.settings.inbox_dir
    inbox.mkdir(parents=True, exist_ok=True)
    report = ScanReport()
    for path in sorted(p for p in inbox.iterdir() if p.is_file()):
        if intake.stopping.is_set():
            break  # the rest waits for the next start
        try:
            result = _scan_one(intake, path, settle_seconds)
        except StoreError as exc:
            log.error("inbox: %s left for the next scan: %s", safe_name(path), exc)
            report.skipped.append(path)
            break
        except OSError as exc:
            log.warning("inbox: %s skipped: %s", safe_name(path), exc)
            report.skipped.append(path)
            continue
        except Exception as exc:  # one bad file must not stop the others
            result = _crashed(path, exc)
        if result is None:
            report.skipped.append(path)
        else:
            report.files.append(_file_away(result, inbox))
    return report


def _crashed(path: Path, exc: Exception) -> FileResult:
    log.warning("inbox: %s raised %s", safe_name(path), type(exc).__name__, exc_info=True)
    text = f"{type(exc).__name__}: {exc}"[:300]
    return FileResult(path, problems=(f"file: could not be taken in ({text})",))


def safe_name(path: Path) -> str:
    """A file name fit for a log line: control characters escaped."""
    return escape_controls(path.name)


def scan_job(intake: Intake) -> None:
    """Scheduler tick: scan the inbox and log one line per file."""
    report = scan_folder(intake)
    for result in report.files:
        kinds = [c.kind for c in result.changes]
        counts = ", ".join(f"{kinds.count(k)} {k}" for k in sorted(set(kinds))) or "nothing"
        where = result.moved_to.parent.name if result.moved_to else "?"
        if result.ok:
            log.info("inbox: took %s (%s) -> %s/", safe_name(result.path), counts, where)
        else:
            log.warning(
                "inbox: %s %s (%s) -> %s/: %s", result.status, safe_name(result.path), counts,
                where, escape_controls("; ".join(result.problems)),
            )  # fmt: skip


def _scan_one(intake: Intake, path: Path, settle_seconds: float) -> FileResult | None:
    if is_temporary(path.name):
        return None
    before = path.stat()
    if time.time() - before.st_mtime < settle_seconds:
        return None
    data = _read_article_file(intake, path)
    if isinstance(data, FileResult):
        return data
    after = path.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        return None  # still being written
    changes, problems = ingest_data(intake, path.name, data)
    return FileResult(path, changes, problems)


def _read_article_file(intake: Intake, path: Path) -> bytes | FileResult:
    """The bytes of *path*, or the result rejecting it (unsupported type, too large)."""
    problem = _unsupported(path)
    if problem:
        return FileResult(path, problems=(problem,))
    try:
        return read_limited(path, intake.settings.max_file_bytes)
    except IngestError as exc:
        return FileResult(path, problems=tuple(_lines(exc.problems)))


def _file_away(result: FileResult, inbox: Path) -> FileResult:
    if result.ok:
        return replace(result, moved_to=move_unique(result.path, inbox / PROCESSED))
    moved = move_unique(result.path, inbox / REJECTED, companion=ERROR_SUFFIX)
    lines = list(result.problems)
    if result.changes:
        lines.append(
            f"{len(result.changes)} article(s) from the other lines were taken in; fix the "
            "lines above and drop the file again (taken articles stay unchanged)."
        )
    with moved.with_name(moved.name + ERROR_SUFFIX).open("x", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return replace(result, moved_to=moved)


def move_unique(path: Path, folder: Path, *, companion: str = "") -> Path:
    """Move *path* into *folder* without overwriting: ``name``, ``name.1``, ``name.2``…

    With *companion*, a name is free only if ``<name><companion>`` is free too.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for n in itertools.count():
        name = path.name if n == 0 else f"{path.stem}.{n}{path.suffix}"
        target = folder / name
        if companion and target.with_name(name + companion).exists():
            continue
        try:
            os.link(path, target)  # fails if the target exists, unlike rename
        except FileExistsError:
            continue
        except OSError:
            if target.exists():
                continue
            os.rename(path, target)
            return target
        path.unlink()
        return target
    raise AssertionError("unreachable")


def _unsupported(path: Path) -> str | None:
    parsers = load_parsers()
    if path.suffix.lower().lstrip(".") in parsers:
        return None
    accepted = ", ".join(f".{ext}" for ext in parsers)
    return f"file: unsupported file type {path.suffix or '(none)'!r}; accepted: {accepted}"


def _default_id(stem: str, item: dict[str, Any]) -> str:
    line = item.line if isinstance(item, RawArticle) else None
    if line is not None and not present(item.get("id")):
        return f"{stem}-{line}"
    return stem


def _line_order(problem: tuple[str, str]) -> int:
    match = re.match(r"line (\d+)", problem[0])
    return int(match.group(1)) if match else 0


def _lines(problems: dict[str, str]) -> list[str]:
    return [f"{key}: {reason}" for key, reason in problems.items()]
