"""The upstream corpus: third-party-style feeds polled through the real upstream path.

Every file in ``tests/data/upstream/corpus/`` is one upstream: served by a local HTTP
server on 127.0.0.1 (with the ``Served-As`` Content-Type, else one from its extension),
polled twice with :func:`poll_upstream`, and read back through ``GET /api/upstreams`` on
the real app over a socket. Each file is headed (in the feedparser corpus style) by a
``Description:`` line and an ``Expect:`` line holding JSON:

- ``outcome`` "error" with ``error`` (a substring of the reason), else the poll is ok;
- ``seen``, ``created``, ``repeated``: counts of the first poll;
- ``rejected`` / ``warnings``: ``[position, substring of the reason]`` for every rejected
  entry / dropped part (none when the key is absent);
- ``titles`` (all stored titles), ``authors``, ``urls``, ``images``, ``published``,
  ``contains``, ``absent`` (by title), ``encoding``, ``notes`` (substrings), ``no_email``.
  ``"own"`` stands for the article's own page, ``FEED`` for the local server's base URL,
  ``NOW`` for the poll time and ``SITE`` for the site title.

Whatever a file expects, every ok poll must account for each entry of the document:
seen = created + updated + unchanged + rejected + repeated, the number of ``<item>`` /
``<entry>`` elements in the file equals seen, every rejected entry has a reason, and
``/api/upstreams`` shows exactly the problems the poll found. A second poll of the same
bytes creates and updates nothing and rejects the same positions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from upstream_server import Upstream, send

from syndicate import config
from syndicate.ingest.poll_record import PollResult
from syndicate.ingest.upstream import poll_upstream
from syndicate.models import Article, UpstreamSpec
from syndicate.store import Store
from syndicate.wiring import Wiring, create_app
from tests.conftest import Clock
from tests.live import live_server

CORPUS = Path(__file__).parent / "data" / "upstream" / "corpus"
FILES = sorted(p.name for p in CORPUS.iterdir() if p.is_file())
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
MEDIA_TYPES = {
    ".rss": "application/rss+xml", ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml", ".xml": "application/xml", ".html": "text/html",
    ".txt": "text/plain",
}  # fmt: skip
_ENTRY = re.compile(r"<(?:item|entry)[\s>/]")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass
class Polled:
    """One corpus file after two polls, as the store and the API see it."""

    expect: dict[str, Any]
    first: PollResult
    second: PollResult
    api_first: dict[str, Any]
    api_second: dict[str, Any]
    articles: list[Article]


def read_text(data: bytes) -> str:
    """The file as text for reading its header and counting entries, whatever its encoding."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("latin-1")


def header(data: bytes, key: str) -> str | None:
    found = re.search(rf"^{key}: (.*)$", read_text(data), re.MULTILINE)
    return found.group(1).strip() if found else None


def upstream_name(file: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", file.lower())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Polled]]:
    """Every file polled twice through the real upstream path, and read back via the API."""
    tmp = tmp_path_factory.mktemp("corpus")
    with Upstream() as server:
        specs = []
        for file in FILES:
            data = (CORPUS / file).read_bytes()
            served = header(data, "Served-As") or MEDIA_TYPES[Path(file).suffix]
            server.routes[f"/{file}"] = lambda h, d=data, t=served: send(h, 200, d, t)
            specs.append(
                UpstreamSpec(upstream_name(file), server.url(f"/{file}"), allow_loopback=True)
            )
        settings = config.load(
            path=tmp / "absent.toml", env={},
            overrides={
                "data_dir": tmp / "data", "feeds_dir": tmp / "feeds", "timezone": "UTC",
                "base_url": "https://feeds.example.com", "site_url": "https://news.example.com",
                "api_token": "corpus-token-0123456789abcdef0123456789",
            },
        )  # fmt: skip
        clock = Clock(T0)
        store = Store.open(f"sqlite:///{tmp / 'corpus.db'}")
        service = Wiring(settings.replace(upstream=tuple(specs)), store, clock)
        first = {spec.name: poll_upstream(service.intake, spec) for spec in specs}
        api_first = _api(service)
        clock.now = T0 + timedelta(hours=1)
        second = {spec.name: poll_upstream(service.intake, spec) for spec in specs}
        api_second = _api(service)
    by_source: dict[str, list[Article]] = {}
    for item in store.recent_articles(limit=100_000):
        by_source.setdefault(item.source.removeprefix("upstream:"), []).append(item)
    polled = {}
    for file in FILES:
        name = upstream_name(file)
        expect = json.loads(header((CORPUS / file).read_bytes(), "Expect") or "{}")
        polled[file] = Polled(
            expect, first[name], second[name], api_first[name], api_second[name],
            by_source.get(name, []),
        )  # fmt: skip
    yield polled
    store.close()


def _api(service: Wiring) -> dict[str, Any]:
    with live_server(create_app(wiring=service)) as base:
        auth = {"Authorization": f"Bearer {service.settings.api_token}"}
        reply = requests.get(f"{base}/api/upstreams", headers=auth, timeout=30)
    assert reply.status_code == 200
    return {u["name"]: u for u in reply.json()["upstreams"]}


def test_corpus_is_large_and_described() -> None:
    """At least 100 files, each with a Description and a parseable Expect."""
    assert len(FILES) >= 100
    for file in FILES:
        data = (CORPUS / file).read_bytes()
        assert header(data, "Description"), file
        assert isinstance(json.loads(header(data, "Expect") or "null"), dict), file


@pytest.mark.parametrize("file", FILES)
def test_corpus_file(corpus: dict[str, Polled], file: str) -> None:
    polled = corpus[file]
    expect, first = polled.expect, polled.first
    if expect.get("outcome") == "error":
        _check_refused(polled)
        return
    assert first.status == "ok", first.error
    _check_nothing_lost(file, polled)
    _check_reasons_visible(polled)
    _check_second_poll(polled)
    _check_expectations(polled)


def _check_refused(polled: Polled) -> None:
    first, expect = polled.first, polled.expect
    assert first.status == "error" and expect["error"] in (first.error or ""), first
    assert polled.articles == []
    last = polled.api_first["last_poll"]
    assert last["outcome"] == "error" and last["error"] == first.error


def _check_nothing_lost(file: str, polled: Polled) -> None:
    """Each entry of the document is stored, repeated, or rejected with a reason."""
    first = polled.first
    source = _COMMENT.sub("", read_text((CORPUS / file).read_bytes()))
    assert first.entries == len(_ENTRY.findall(source))
    accounted = first.created + first.updated + first.unchanged + len(first.rejected)
    assert first.entries == accounted + first.repeated
    assert len(polled.articles) == first.created
    positions = [p.position for p in first.rejected]
    assert len(set(positions)) == len(positions)
    assert all(1 <= p <= first.entries for p in positions)
    assert all(p.reason.strip() for p in first.problems)
    assert all(item.title.strip() for item in polled.articles)


def _check_reasons_visible(polled: Polled) -> None:
    """/api/upstreams shows exactly the problems and counts of each poll."""
    for result, api in ((polled.first, polled.api_first), (polled.second, polled.api_second)):
        last = api["last_poll"]
        assert last["problems"] == [asdict(p) for p in result.problems]
        assert last["counts"]["rejected"] == len(result.rejected)
        assert last["counts"]["seen"] == result.entries


def _check_second_poll(polled: Polled) -> None:
    first, second = polled.first, polled.second
    assert (second.created, second.updated) == (0, 0)
    assert second.unchanged == first.created
    assert [p.position for p in second.rejected] == [p.position for p in first.rejected]


def _check_expectations(polled: Polled) -> None:
    expect, first = polled.expect, polled.first
    for name in ("seen", "created", "repeated"):
        if name in expect:
            assert getattr(first, "entries" if name == "seen" else name) == expect[name], name
    _check_problems(expect.get("rejected", []), first.rejected)
    _check_problems(expect.get("warnings", []), first.warnings)
    if "titles" in expect:
        assert sorted(a.title for a in polled.articles) == sorted(expect["titles"])
    if "encoding" in expect:
        assert first.encoding == expect["encoding"]
    for note in expect.get("notes", []):
        assert any(note in n for n in first.notes), (note, first.notes)
    if expect.get("no_email"):
        assert all("@" not in a.author and "@" not in a.author_slug for a in polled.articles)
    _check_fields(polled)


def _check_problems(expected: list[list[Any]], found: list[Any]) -> None:
    assert [p.position for p in found] == [position for position, _ in expected], found
    for (_, text), problem in zip(expected, found, strict=True):
        assert text in problem.reason, (text, problem.reason)


def _check_fields(polled: Polled) -> None:
    expect, base = polled.expect, polled.first
    feed_base = re.sub(r"(https?://[^/]+).*", r"\1", polled.api_first["url"])
    site = "https://feeds.example.com"

    def article(title: str) -> Article:
        return next(a for a in polled.articles if a.title == title)

    def value(text: str, item: Article) -> str:
        return f"{site}/articles/{item.id}" if text == "own" else text.replace("FEED", feed_base)

    for title, name in expect.get("authors", {}).items():
        wanted = polled_site_title() if name == "SITE" else name
        assert article(title).author == wanted
    for title, url in expect.get("urls", {}).items():
        assert article(title).url == value(url, article(title))
    for title, url in expect.get("images", {}).items():
        image = article(title).image
        assert image is not None and image.url == value(url, article(title))
    for title, when in expect.get("published", {}).items():
        wanted_time = T0 if when == "NOW" else datetime.fromisoformat(when)
        assert article(title).published == wanted_time, title
    for title, text in expect.get("contains", {}).items():
        assert text in article(title).content_html
    for title, texts in expect.get("absent", {}).items():
        assert not any(t in article(title).content_html for t in texts)
    assert base.status == "ok"


def polled_site_title() -> str:
    return str(config.load(path=Path("absent.toml"), env={}).site_title)
