"""The push API over a real socket: auth, create/update/read/list/unpublish, bad input."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from live import Reply, close_service, fetch, live_server

from syndicate.config import Settings
from syndicate.wiring import Wiring, create_app

PUBLIC = "https://feeds.example.com"
ARTICLE = {
    "id": "budget-2027",
    "title": "Council passes the 2027 budget",
    "url": "https://news.example.com/local/budget-2027",
    "body": "<p>The council voted 7–2 for the “lean” budget.</p><script>alert(1)</script>",
    "summary": "A lean budget passes.",
    "author": "Jane Doe",
    "published": "2026-11-10T09:30:00+01:00",
    "categories": ["Local"],
    "tags": ["Budget"],
    "image": {"url": "https://news.example.com/img/budget.jpg", "type": "image/jpeg",
              "length": 48213, "width": 1200, "height": 630},
}  # fmt: skip

Api = Callable[..., Reply]


@pytest.fixture
def service(settings: Settings) -> Iterator[Wiring]:
    """A service on SQLite whose feeds are rendered, as a running instance has them."""
    service = Wiring.open(settings)
    service.publisher.render_all()
    yield service
    close_service(service)


@pytest.fixture
def base(service: Wiring) -> Iterator[str]:
    """Base URL of the app on a free port."""
    with live_server(create_app(wiring=service)) as url:
        yield url


def make_api(base: str, token: str) -> Api:
    """A client that sends JSON with the bearer token unless told otherwise."""

    def call(
        method: str,
        path: str,
        payload: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str = "application/json",
        authorization: str | None = f"Bearer {token}",
    ) -> Reply:
        headers = {"Content-Type": content_type} if payload is not None or raw else {}
        if authorization is not None:
            headers["Authorization"] = authorization
        body = raw if raw is not None else None
        if payload is not None:
            body = json.dumps(payload).encode()
        return fetch(base + path, method=method, headers=headers, body=body)

    return call


@pytest.fixture
def api(base: str, settings: Settings) -> Api:
    return make_api(base, settings.api_token)


def data(reply: Reply) -> Any:
    assert reply.header("Content-Type") == "application/json", reply.body
    return json.loads(reply.body)


def served_feed(base: str, url: str) -> bytes:
    return fetch(base + url.removeprefix(PUBLIC)).body


def wait_until(check: Callable[[], bool], seconds: float = 1.0) -> bool:
    """Poll *check* until it holds or the deadline passes (a requirement, not a benchmark)."""
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def test_round_trip_create_update_read_delete(database_url: str, settings: Settings):
    """On SQLite and PostgreSQL: 201 then idempotent 200, read back, then unpublish keeps it."""
    service = Wiring.open(settings.replace(database_url=database_url))
    try:
        with live_server(create_app(wiring=service)) as base:
            api = make_api(base, settings.api_token)
            created = api("POST", "/api/articles", ARTICLE)
            assert created.status == 201
            body = data(created)
            assert body["id"] == "budget-2027" and body["change"] == "created"
            assert body["status"] == "published" and body["guid"]
            assert body["url"] == ARTICLE["url"]
            assert f"{PUBLIC}/feeds/all.rss" in body["feeds"]
            assert f"{PUBLIC}/feeds/category/local.atom" in body["feeds"]
            assert f"{PUBLIC}/feeds/author/jane-doe.json" in body["feeds"]
            assert created.header("Location") == "/api/articles/budget-2027"

            again = api("POST", "/api/articles", ARTICLE)
            assert again.status == 200 and data(again)["change"] == "unchanged"
            assert data(again)["guid"] == body["guid"]

            edited = api("POST", "/api/articles", dict(ARTICLE, title="Budget passes, 7–2"))
            assert edited.status == 200 and data(edited)["change"] == "updated"
            assert data(edited)["guid"] == body["guid"]

            read = data(api("GET", "/api/articles/budget-2027"))
            assert read["title"] == "Budget passes, 7–2"
            assert "<script>" not in read["body"] and "“lean”" in read["body"]
            assert read["published"] == "2026-11-10T08:30:00+00:00"
            assert read["categories"] == ["Local"] and read["tags"] == ["Budget"]
            assert read["image"]["length"] == 48213

            assert api("DELETE", "/api/articles/budget-2027").status == 200
            kept = data(api("GET", "/api/articles/budget-2027"))
            assert kept["status"] == "unpublished" and kept["feeds"] == []
            assert api("DELETE", "/api/articles/nope").status == 404
            assert api("GET", "/api/articles/nope").status == 404
    finally:
        close_service(service)


def test_update_by_canonical_url_without_id(api: Api):
    """A POST without id but with a known canonical URL updates that article."""
    first = data(api("POST", "/api/articles", ARTICLE))
    without_id = {k: v for k, v in ARTICLE.items() if k != "id"} | {"title": "New title"}
    reply = api("POST", "/api/articles", without_id)
    assert reply.status == 200
    assert data(reply)["id"] == first["id"] and data(reply)["change"] == "updated"


def test_posted_article_is_in_every_served_feed_within_one_second(api: Api, base: str):
    """An article POSTed shows in each feed it belongs to within 1 s (R: issue 2 §3)."""
    guid = data(api("POST", "/api/articles", ARTICLE))["guid"].encode()
    feeds = [f"{PUBLIC}/feeds/{n}.{f}" for n in ("all", "category/local") for f in ("rss", "atom")]
    assert wait_until(lambda: all(guid in served_feed(base, url) for url in feeds))


def test_deleted_article_leaves_the_served_feeds(api: Api, base: str):
    """DELETE unpublishes: the article is gone from the served feed, its record kept."""
    guid = data(api("POST", "/api/articles", ARTICLE))["guid"].encode()
    assert wait_until(lambda: guid in served_feed(base, "/feeds/all.atom"))
    assert api("DELETE", "/api/articles/budget-2027").status == 200
    assert wait_until(lambda: guid not in served_feed(base, "/feeds/all.atom"))
    assert api("GET", "/api/articles/budget-2027").status == 200


def test_list_pages_with_limit_and_offset(api: Api):
    """GET /api/articles lists newest first with limit/offset; bad values are a 400."""
    for n in range(3):
        article = dict(ARTICLE, id=f"a{n}", url=f"https://news.example.com/a{n}")
        api("POST", "/api/articles", article | {"published": f"2026-11-0{n + 1}T00:00:00Z"})
    page = data(api("GET", "/api/articles?limit=2&offset=1"))
    assert [a["id"] for a in page["articles"]] == ["a1", "a0"]
    assert (page["limit"], page["offset"]) == (2, 1)
    bad = api("GET", f"/api/articles?limit=0&offset={'9' * 5000}&status=maybe")
    assert bad.status == 400
    assert set(data(bad)["fields"]) == {"limit", "offset", "status"}


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer wrong-token", "Basic dXNlcjpwYXNz", "UPPER", "token"],
)
def test_missing_or_wrong_token_is_401(api: Api, settings: Settings, authorization: str | None):
    """Every endpoint needs the exact bearer token; otherwise 401 with WWW-Authenticate."""
    token = settings.api_token
    authorization = {"UPPER": f"Bearer {token.upper()}", "token": token}.get(
        authorization or "", authorization
    )
    for method, path in [
        ("POST", "/api/articles"),
        ("GET", "/api/articles"),
        ("GET", "/api/articles/x"),
        ("DELETE", "/api/articles/x"),
    ]:
        payload = ARTICLE if method == "POST" else None
        reply = api(method, path, payload, authorization=authorization)
        assert reply.status == 401, (method, path)
        assert reply.header("WWW-Authenticate").startswith("Bearer")
        assert "error" in data(reply)


def test_auth_scheme_is_case_insensitive(api: Api, settings: Settings):
    """The scheme name is case-insensitive (RFC 9110 §11.1); the token itself is not."""
    reply = api("POST", "/api/articles", ARTICLE, authorization=f"bearer {settings.api_token}")
    assert reply.status == 201


def test_token_never_logged(api: Api, settings: Settings, caplog: pytest.LogCaptureFixture):
    """Neither a good nor a bad token shows up in the logs."""
    caplog.set_level(logging.DEBUG)
    api("POST", "/api/articles", ARTICLE)
    api("POST", "/api/articles", ARTICLE, authorization="Bearer secret-guess-123")
    assert settings.api_token not in caplog.text and "secret-guess-123" not in caplog.text


def test_malformed_json_is_400(api: Api):
    """A body that is not JSON, not UTF-8, too deep or not an object is a 400 with a reason."""
    deep = b"[" * 100_000 + b"]" * 100_000
    for raw in (b'{"title": "x",', b'{"title": "\xff"}', b"[1, 2]", b"", deep):
        reply = api("POST", "/api/articles", raw=raw or b" ")
        assert reply.status == 400, raw
        assert data(reply)["error"]


def test_not_json_is_415(api: Api):
    """A body that is not declared as JSON is a 415."""
    reply = api("POST", "/api/articles", raw=b"title=x", content_type="text/plain")
    assert reply.status == 415
    assert "JSON" in data(reply)["error"]


def test_oversized_body_is_413(settings: Settings):
    """A body over max_request_bytes is a JSON 413, before any parsing."""
    service = Wiring.open(settings.replace(max_request_bytes=2000))
    try:
        with live_server(create_app(wiring=service)) as base:
            big = dict(ARTICLE, body="<p>" + "x" * 5000 + "</p>")
            reply = make_api(base, settings.api_token)("POST", "/api/articles", big)
            assert reply.status == 413
            assert data(reply)["error"]
            assert service.store.count_articles() == 0
    finally:
        close_service(service)


def test_invalid_fields_are_422_naming_every_field(api: Api, service: Wiring):
    """Bad and unknown fields are all named in one 422, and nothing is stored."""
    bad = dict(
        ARTICLE,
        published="the day after tomorrow",
        url="ftp://example.com/x",
        image={"url": "javascript:alert(1)"},
        colour="red",
        categories=42,
    )
    reply = api("POST", "/api/articles", bad)
    assert reply.status == 422
    fields = data(reply)["fields"]
    assert {"published", "url", "image.url", "colour", "categories"} <= set(fields)
    assert fields["colour"] == "unknown field"
    assert all(isinstance(reason, str) and reason for reason in fields.values())
    assert service.store.count_articles() == 0


def test_no_title_and_no_body_is_422(api: Api):
    """An article with neither title nor body names both."""
    reply = api("POST", "/api/articles", {"url": "https://news.example.com/empty"})
    assert reply.status == 422
    assert {"title", "body"} <= set(data(reply)["fields"])


@pytest.mark.parametrize("field", ["image", "title", "published", "url", "summary"])
@pytest.mark.parametrize("value", [[1], True, [[["deep"]]]])
def test_wrongly_typed_fields_are_422_never_500(api: Api, field: str, value: Any):
    """A field of the wrong JSON type is a 422 (never a 500), and nothing is stored."""
    reply = api("POST", "/api/articles", dict(ARTICLE, **{field: value}))
    assert reply.status == 422, reply.body
    assert data(reply)["fields"]
    assert api("GET", "/api/articles/budget-2027").status == 404


def test_unknown_field_alone_is_422_and_not_stored(api: Api, service: Wiring):
    """A valid article with one unknown field is rejected, not half-stored."""
    reply = api("POST", "/api/articles", dict(ARTICLE, extra=1))
    assert reply.status == 422 and data(reply)["fields"] == {"extra": "unknown field"}
    assert service.store.count_articles() == 0


def test_http_errors_on_api_paths_are_json(api: Api):
    """Wrong method and unknown API path answer JSON, never HTML or a 500."""
    wrong = api("PUT", "/api/articles", ARTICLE)
    assert wrong.status == 405 and "POST" in wrong.header("Allow")
    assert data(wrong)["error"]
    missing = api("GET", "/api/nothing-here")
    assert missing.status == 404 and data(missing)["error"]
