"""One bad item never stops the others: drop folder, push API, `syndicate ingest`, upstreams.

Every poison input below once crashed a path (OverflowError, an integer beyond 64 bits, a
column overflow on PostgreSQL) or made the service do unbounded work. Each must now be
refused with a reason naming its field while the good items around it are taken in, on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from live import close_service, fetch, live_server
from upstream_server import Upstream, send

from syndicate.cli import main
from syndicate.config import Settings
from syndicate.errors import RefusedByStore
from syndicate.ingest import ingest_many
from syndicate.ingest.folder import ERROR_SUFFIX, scan_folder
from syndicate.ingest.upstream import poll_upstream
from syndicate.models import UpstreamSpec
from syndicate.store import Store
from syndicate.wiring import Wiring, create_app
from tests.conftest import Clock

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
GOOD = {"title": "Harbour reopens after storm", "text": "Ferries run again from Monday."}

# (field named in the error, the poison mapping merged into a good article)
POISON: list[tuple[str, dict[str, Any]]] = [
    ("published", {"published": "0001-01-01T00:00:00+01:00"}),  # OverflowError in UTC
    ("published", {"published": "9999-12-31T23:30:00-05:00"}),  # past year 9999 in UTC
    ("published", {"published": "1066-10-14T09:00:00Z"}),  # before earliest_year
    ("published", {"published": "Mon, 01 Jan 10000 00:00:00 +0100"}),
    ("updated", {"updated": "10000-01-01"}),
    ("image.length", {"image": {"url": "https://x.example/a.jpg", "length": 2**64}}),
    ("image.length", {"image": {"url": "https://x.example/a.jpg", "length": "9" * 5000}}),
    ("image.width", {"image": {"url": "https://x.example/a.jpg", "width": 2**31}}),
    ("image.height", {"image": {"url": "https://x.example/a.jpg", "height": "²"}}),
    ("image.width", {"image": {"url": "https://x.example/a.jpg", "width": "١٢٣"}}),
    ("image.type", {"image": {"url": "https://x.example/a.jpg", "type": "image/" + "x" * 120}}),
    ("categories", {"categories": ["Politik " + "ü" * 300]}),
    ("tags", {"tags": [f"tag {n}" for n in range(10_000)]}),
    ("categories", {"categories": ",".join(f"c{n}" for n in range(5_000))}),
    # A label or name whose old slug grew past its column ("ﬃ" * 90, "㎓" * 150) is no
    # poison any more: feed names are bounded (docs/feeds.md §6), so it is taken in.
    ("author", {"author": "Ana " * 80}),
    ("title", {"title": "Breaking " * 100_000}),  # 900 KB
    ("body", {"text": "Zeile.\n\n" * 300_000}),  # 2.4 MB
    ("summary", {"summary": "kurz " * 500_000}),
    ("id", {"id": "../../etc/passwd"}),
    ("id", {"id": "x" * 101}),
]
POISON_IDS = [f"{n:02d}-{field}" for n, (field, _) in enumerate(POISON)]


@pytest.fixture
def service(settings: Settings, store: Store) -> Iterator[Wiring]:
    yield Wiring(settings, store, Clock(NOW))


def article(n: int, **extra: Any) -> dict[str, Any]:
    return {**GOOD, "id": f"good-{n}", **extra}


@pytest.mark.parametrize(("field", "poison"), POISON, ids=POISON_IDS)
def test_poison_article_is_refused_naming_its_field(
    service: Wiring, field: str, poison: dict[str, Any]
) -> None:
    """The poison article fails alone, with its field named; its neighbours are stored."""
    raws = [article(1), article(2, **{"id": "poison", **poison}), article(3)]
    changes, failures = ingest_many(service.intake, raws, source="api")
    assert sorted(c.article.id for c in changes) == ["good-1", "good-3"]
    assert list(failures) == [1]
    assert field in failures[1].problems, failures[1].problems
    assert service.store.get_article("poison") is None


@pytest.mark.parametrize(("field", "poison"), POISON, ids=POISON_IDS)
def test_poison_file_first_in_the_inbox_never_blocks_the_rest(
    service: Wiring, field: str, poison: dict[str, Any]
) -> None:
    """A poison file sorting first is rejected with its reason; every later file is taken."""
    inbox = service.settings.inbox_dir
    inbox.mkdir(parents=True)
    (inbox / "000-poison.json").write_text(json.dumps({**GOOD, **poison}))
    for n in range(1, 4):
        (inbox / f"{n:03d}-good.json").write_text(json.dumps(article(n)))
    report = scan_folder(service.intake, settle_seconds=0)
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == [
        "001-good.json", "002-good.json", "003-good.json",
    ]  # fmt: skip
    error = (inbox / "rejected" / ("000-poison.json" + ERROR_SUFFIX)).read_text()
    assert error.startswith(field), error
    assert "Traceback" not in error
    assert [p for p in inbox.iterdir() if p.is_file()] == []
    assert len(report.rejected) == 1


def test_jsonl_poison_lines_are_refused_and_the_good_lines_taken(service: Wiring) -> None:
    """One .jsonl file mixing every poison with good lines keeps the good lines."""
    inbox = service.settings.inbox_dir
    inbox.mkdir(parents=True)
    small = [(f, p) for f, p in POISON if len(json.dumps(p)) < 100_000]
    lines = [article(0)] + [{**GOOD, "id": f"p{n}", **p} for n, (_, p) in enumerate(small)]
    lines.append(article(1))
    (inbox / "mixed.jsonl").write_text("\n".join(json.dumps(line) for line in lines))
    scan_folder(service.intake, settle_seconds=0)
    assert service.store.get_article("good-0") and service.store.get_article("good-1")
    assert service.store.count_articles() == 2
    error = (inbox / "rejected" / ("mixed.jsonl" + ERROR_SUFFIX)).read_text()
    for n, (field, _) in enumerate(small):
        assert f"line {n + 2}: {field}" in error, (n, field)


def test_an_unforeseen_error_rejects_only_its_file(
    service: Wiring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A parser raising something nobody planned for rejects that file; the scan goes on."""
    from syndicate.ingest import jsonfile

    real = jsonfile.parse_json

    def flaky(data: bytes, name: str) -> list[dict[str, Any]]:
        if name.startswith("000"):
            raise OverflowError("date value out of range")
        return real(data, name)

    monkeypatch.setattr(jsonfile, "parse_json", flaky)
    from syndicate.ingest import load_parsers

    load_parsers.cache_clear()
    inbox = service.settings.inbox_dir
    inbox.mkdir(parents=True)
    (inbox / "000-odd.json").write_text(json.dumps(article(0)))
    (inbox / "001-good.json").write_text(json.dumps(article(1)))
    try:
        scan_folder(service.intake, settle_seconds=0)
    finally:
        load_parsers.cache_clear()
    assert (inbox / "processed" / "001-good.json").exists()
    reason = (inbox / "rejected" / ("000-odd.json" + ERROR_SUFFIX)).read_text()
    assert "OverflowError" in reason


def test_a_value_the_database_refuses_fails_only_its_article(
    service: Wiring, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the store refuses a batch, it is retried one article at a time."""
    real = service.store.upsert_articles

    def picky(items: Any, now: datetime) -> Any:
        if any(item.id == "refused" for item in items):
            raise RefusedByStore("value too long for type character varying(100)")
        return real(items, now)

    monkeypatch.setattr(service.store, "upsert_articles", picky)
    raws = [article(1), article(2, id="refused"), article(3)]
    changes, failures = ingest_many(service.intake, raws, source="api")
    assert sorted(c.article.id for c in changes) == ["good-1", "good-3"]
    assert "refused by the database" in failures[1].problems["article"]


@pytest.mark.parametrize(("field", "poison"), POISON, ids=POISON_IDS)
def test_push_api_answers_422_naming_the_field(
    database_url: str, settings: Settings, field: str, poison: dict[str, Any]
) -> None:
    """The push API answers each poison with a JSON 422 naming the field, never a 500."""
    service = Wiring.open(settings.replace(database_url=database_url, max_request_bytes=10_000_000))
    headers = {
        "Authorization": f"Bearer {settings.api_token}",
        "Content-Type": "application/json",
    }
    try:
        with live_server(create_app(wiring=service)) as base:
            body = json.dumps(article(1, **poison)).encode()
            reply = fetch(f"{base}/api/articles", method="POST", headers=headers, body=body)
            assert reply.status == 422, reply.body[:300]
            assert field in json.loads(reply.body)["fields"]
            good = json.dumps(article(2)).encode()
            reply = fetch(f"{base}/api/articles", method="POST", headers=headers, body=good)
            assert reply.status == 201
    finally:
        close_service(service)


def test_cli_ingest_takes_every_good_file_after_poison(tmp_path: Path, database_url: str) -> None:
    """`syndicate ingest` reports each poison file, exits 1, and stores every good file."""
    files = []
    for n, (_, poison) in enumerate(POISON[:8]):
        path = tmp_path / f"{n:02d}-poison.json"
        path.write_text(json.dumps({**GOOD, **poison}))
        files.append(path)
        good = tmp_path / f"{n:02d}-zgood.json"
        good.write_text(json.dumps(article(n)))
        files.append(good)
    env = {
        "SYNDICATE_CONFIG": str(tmp_path / "absent.toml"),
        "SYNDICATE_DATA_DIR": str(tmp_path / "data"),
        "SYNDICATE_FEEDS_DIR": str(tmp_path / "feeds"),
        "SYNDICATE_DATABASE_URL": database_url,
    }
    (tmp_path / "absent.toml").write_text("")
    result = CliRunner().invoke(main, ["ingest", *map(str, files)], env=env)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "8 taken, 8 with problems" in result.output
    result = CliRunner().invoke(main, ["articles"], env=env)
    assert result.output.count("Harbour reopens") == 8


POISON_FEED = (
    b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Wire</title><link>https://wire.example/</link><description>d</description>
<item><guid isPermaLink="false">g1</guid><title>First good story</title><link>https://wire.example/1</link>
<description>Fine.</description></item>
<item><guid isPermaLink="false">p1</guid><title>Year one</title><link>https://wire.example/p1</link>
<pubDate>0001-01-01T00:00:00+01:00</pubDate><description>x</description></item>
<item><guid isPermaLink="false">p2</guid><title>Huge enclosure</title><link>https://wire.example/p2</link>
<enclosure url="https://wire.example/p2.jpg" type="image/jpeg" length="184467440737095516150"/>
<description>x</description></item>
<item><guid isPermaLink="false">p3</guid><title>Long label</title><link>https://wire.example/p3</link>
<category>"""
    + ("Wirtschaft" * 40).encode()
    + b"""</category><description>x</description></item>
<item><guid isPermaLink="false">p4</guid><title>Wide image</title><link>https://wire.example/p4</link>
<media:content url="https://wire.example/p4.jpg" medium="image" width="99999999999"/>
<description>x</description></item>
<item><guid isPermaLink="false">g2</guid><title>Second good story</title><link>https://wire.example/2</link>
<description>Also fine.</description></item>
</channel></rss>"""
)


def test_upstream_poison_entries_never_cost_the_good_ones(service: Wiring) -> None:
    """Good entries of a feed are taken in; each poison entry is reported with its reason."""
    with Upstream() as up:
        up.routes["/feed"] = lambda h: send(h, 200, POISON_FEED, "application/rss+xml")
        spec = UpstreamSpec(name="wire", url=up.url("/feed"), allow_loopback=True)
        result = poll_upstream(service.intake, spec)
    assert result.status == "ok", result.error
    # Each poison entry is rejected, or taken with its bad part dropped: never a crash.
    assert sorted({p.key or "" for p in result.problems}) == ["p1", "p2", "p3", "p4"]
    titles = {a.title for a in service.store.recent_articles(limit=10)}
    assert {"First good story", "Second good story"} <= titles
