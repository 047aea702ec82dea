"""The drop folder and the one-shot file ingest, against a real store on each backend."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndicate.config import Settings
from syndicate.errors import IngestError
from syndicate.ingest import ingest_many, ingest_raw
from syndicate.ingest.folder import ingest_paths, move_unique, scan_folder, scan_job
from syndicate.store import Store
from syndicate.wiring import Wiring
from tests.conftest import Clock

DATA = Path(__file__).parent / "data" / "ingest"
DEMO = Path(__file__).parents[1] / "demo" / "inbox"
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def service(settings: Settings, store: Store, clock: Clock) -> Iterator[Wiring]:
    """A service on the parametrized store with its inbox in the temp dir."""
    yield Wiring(settings, store, clock)


def drop(service: Wiring, name: str, data: bytes | str) -> Path:
    """Write a file into the inbox."""
    inbox = service.settings.inbox_dir
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def scan(service: Wiring):
    return scan_folder(service.intake, settle_seconds=0)


def test_demo_inbox_is_taken_in_whole(service: Wiring) -> None:
    """Every shipped demo file is taken in and moved to processed/."""
    inbox = service.settings.inbox_dir
    shutil.copytree(DEMO, inbox)
    report = scan(service)
    assert report.rejected == []
    assert len(report.files) == 13
    assert len(report.changes) == 15
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == sorted(
        p.name for p in DEMO.iterdir()
    )
    assert [p for p in inbox.iterdir() if p.is_file()] == []
    store = service.store
    assert {"world", "business", "technology", "science"} <= {
        t.slug for t in store.terms("category")
    }
    assert len(store.authors()) >= 3
    seed = store.get_article("000-478f0a629dc41297")
    assert seed is not None and seed.content_html.count("<h2>") == 5


def test_bad_files_are_rejected_with_reasons_and_others_taken(service: Wiring) -> None:
    """Each bad file moves to rejected/ with an .error.txt; the good file is still taken."""
    big = service.settings.max_file_bytes + 1
    drop(service, "good.json", '{"title": "Good", "text": "Fine."}')
    drop(service, "broken.json", '{"title": "x",')
    drop(service, "front.md", "---\ntitle: [x\n---\nbody\n")
    drop(service, "latin1.txt", b"Caf\xe9 au lait")
    drop(service, "empty.txt", "\n")
    drop(service, "date.json", '{"title": "T", "published": "yesterday", "author": [1]}')
    drop(service, "huge.txt", b"x" * big)
    drop(service, "notes.docx", b"PK")
    report = scan(service)
    rejected = service.settings.inbox_dir / "rejected"
    assert [f.path.name for f in report.taken] == ["good.json"]
    reasons = {
        f.path.name: (rejected / f"{f.path.name}.error.txt").read_text() for f in report.rejected
    }
    assert reasons["broken.json"].startswith("file: not valid JSON at line 1 column 15")
    assert reasons["front.md"].startswith("front matter: not valid YAML")
    assert reasons["latin1.txt"] == "file: not valid UTF-8: bad byte 0xe9 at byte offset 3\n"
    assert "title: missing" in reasons["empty.txt"] and "body: missing" in reasons["empty.txt"]
    published, author = reasons["date.json"].splitlines()
    assert published.startswith("published: not a date: 'yesterday'; accepted: ISO 8601")
    assert author == "author: expected a name, got list"
    assert "too large" in reasons["huge.txt"]
    assert "accepted: .json, .jsonl, .md, .txt" in reasons["notes.docx"]
    for f in report.rejected:
        assert (rejected / f.path.name).exists(), "nothing is lost"
    assert (rejected / "huge.txt").stat().st_size == big
    assert service.store.count_articles() == 1


def test_jsonl_partial_file(service: Wiring) -> None:
    """Good lines of a .jsonl are stored; the file goes to rejected/ naming the bad line."""
    drop(service, "mixed.jsonl", (DATA / "mixed.jsonl").read_bytes())
    report = scan(service)
    (result,) = report.files
    assert result.status == "partial"
    assert [c.article.id for c in result.changes] == ["mixed-1"]
    error = (service.settings.inbox_dir / "rejected" / "mixed.jsonl.error.txt").read_text()
    assert error.splitlines()[0].startswith("line 2: published: not a date: 'soon'; accepted")
    assert "1 article(s) from the other lines were taken in" in error


def test_same_file_twice_is_unchanged(service: Wiring, clock: Clock) -> None:
    """Dropping identical content again changes nothing, even without a Published header."""
    seed = (DEMO / "000_478f0a629dc41297.txt").read_bytes()
    drop(service, "000_478f0a629dc41297.txt", seed)
    first = scan(service).changes
    version = service.store.version()
    clock.now += timedelta(hours=1)
    drop(service, "000_478f0a629dc41297.txt", seed)
    second = scan(service)
    assert [c.kind for c in first] == ["created"]
    assert [c.kind for c in second.changes] == ["unchanged"]
    assert second.changes[0].article == first[0].article
    assert service.store.version() == version
    processed = sorted(p.name for p in (service.settings.inbox_dir / "processed").iterdir())
    assert processed == ["000_478f0a629dc41297.1.txt", "000_478f0a629dc41297.txt"]


def test_edited_file_keeps_id_and_guid(service: Wiring, clock: Clock) -> None:
    """An edit keeps id, guid and published, and gets new content and a new updated time."""
    text = (DATA / "edit-me.txt").read_text()
    drop(service, "edit-me.txt", text)
    (created,) = scan(service).changes
    clock.now += timedelta(minutes=30)
    drop(service, "edit-me.txt", text.replace("First version", "Second version"))
    (edited,) = scan(service).changes
    assert edited.kind == "updated"
    assert edited.article.id == created.article.id == "edit-me"
    assert edited.article.guid == created.article.guid
    assert edited.article.published == created.article.published
    assert edited.article.updated == clock.now > created.article.updated
    assert "Second version" in edited.article.content_html


def test_half_written_files_are_left_alone(service: Wiring) -> None:
    """Temporary names and freshly modified files stay in the inbox untouched."""
    names = [".hidden.txt", "story.txt.tmp", "story.part", "dl.crdownload", "story.txt~"]
    for name in names:
        drop(service, name, "Title: T\n\nBody.")
    fresh = drop(service, "fresh.txt", "Title: Fresh\n\nBody.")
    report = scan_folder(service.intake, settle_seconds=60)
    assert report.files == []
    assert sorted(p.name for p in report.skipped) == sorted([*names, "fresh.txt"])
    assert fresh.exists() and service.store.count_articles() == 0
    old = time.time() - 120
    os.utime(fresh, (old, old))
    assert [f.path.name for f in scan_folder(service.intake, settle_seconds=60).files] == [
        "fresh.txt"
    ]


def test_name_collisions_never_overwrite(tmp_path: Path) -> None:
    """Moves pick a free name, also keeping the companion error file's name free."""
    target = tmp_path / "rejected"
    target.mkdir()
    (target / "a.txt").write_text("old")
    (target / "a.1.txt.error.txt").write_text("stale")
    source = tmp_path / "a.txt"
    source.write_text("new")
    moved = move_unique(source, target, companion=".error.txt")
    assert moved.name == "a.2.txt" and moved.read_text() == "new"
    assert (target / "a.txt").read_text() == "old" and not source.exists()


def test_ingest_paths_does_not_move_files(service: Wiring, tmp_path: Path) -> None:
    """The one-shot import reports per file, calls progress, and leaves files in place."""
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copy(DEMO / "006_mars-samples.json", folder)
    (folder / "bad.json").write_text("{")
    (folder / ".hidden.json").write_text("{}")
    seen: list[str] = []
    report = ingest_paths(
        service.intake, [folder, DEMO / "005_coral-reef-survey.md", tmp_path / "missing.txt"],
        progress=lambda p: seen.append(p.name),
    )  # fmt: skip
    assert seen == ["006_mars-samples.json", "bad.json", "005_coral-reef-survey.md", "missing.txt"]
    assert [f.path.name for f in report.taken] == [
        "006_mars-samples.json",
        "005_coral-reef-survey.md",
    ]
    assert {f.path.name: f.problems[0].split(":")[0] for f in report.rejected} == {
        "bad.json": "file", "missing.txt": "file",
    }  # fmt: skip
    assert (folder / "006_mars-samples.json").exists() and (folder / "bad.json").exists()


def test_idempotent_on_url_without_id(service: Wiring, clock: Clock) -> None:
    """A raw article without id matches the stored one by canonical URL."""
    raw = {"title": "By URL", "url": "https://news.example.com/x/by-url", "text": "v1"}
    (first,) = ingest_raw(service.intake, [raw], source="api")
    clock.now += timedelta(minutes=5)
    (again,) = ingest_raw(service.intake, [raw | {"title": "By URL, retitled"}], source="api")
    assert again.kind == "updated" and again.article.id == first.article.id
    assert service.store.count_articles() == 1


def test_ingest_raw_is_all_or_nothing_and_many_is_per_item(service: Wiring) -> None:
    """ingest_raw stores nothing when one item is bad; ingest_many stores the good ones."""
    good = {"id": "good", "title": "Good", "text": "ok"}
    bad = {"id": "bad", "text": ""}
    with pytest.raises(IngestError) as caught:
        ingest_raw(service.intake, [good, bad], source="api")
    assert set(caught.value.problems) == {"1.title", "1.body"}
    assert service.store.count_articles() == 0
    changes, failures = ingest_many(service.intake, [good, bad], source="api")
    assert [c.article.id for c in changes] == ["good"] and list(failures) == [1]


def test_scan_job_logs_one_line_per_file(service: Wiring, caplog: pytest.LogCaptureFixture) -> None:
    """The scheduler tick logs what happened to each file."""
    drop(service, "ok.json", '{"title": "OK", "text": "fine"}')
    drop(service, "bad.json", "{")
    old = time.time() - 60
    for path in service.settings.inbox_dir.iterdir():
        os.utime(path, (old, old))
    with caplog.at_level("INFO", logger="syndicate.ingest.folder"):
        scan_job(service.intake)
    lines = sorted(r.getMessage() for r in caplog.records)
    assert lines[0].startswith(
        "inbox: rejected bad.json (nothing) -> rejected/: file: not valid JSON"
    )
    assert lines[1] == "inbox: took ok.json (1 created) -> processed/"


def test_unknown_fields_are_refused_on_every_path(service: Wiring) -> None:
    """A dropped .json, a Markdown front matter and the push API refuse the same unknown
    field, naming it; nothing is ignored silently (docs/feeds.md §7)."""
    article = {"id": "u1", "title": "T", "body": "<p>b</p>", "colour": "red"}
    drop(service, "extra.json", json.dumps(article))
    drop(service, "extra.md", "---\ntitle: T\ncolour: red\n---\nBody\n")
    report = scan(service)
    rejected = service.settings.inbox_dir / "rejected"
    for name in ("extra.json", "extra.md"):
        reason = (rejected / f"{name}.error.txt").read_text()
        assert reason.startswith("colour: unknown field"), reason
    assert {f.path.name for f in report.rejected} == {"extra.json", "extra.md"}
    with pytest.raises(IngestError) as info:
        ingest_raw(service.intake, [article], source="api")
    assert info.value.problems["colour"].startswith("unknown field")
    assert service.store.get_article("u1") is None
