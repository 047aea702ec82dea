"""Synthetic but realistic articles: a few KB of HTML, categories, tags, authors, images."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from syndicate.models import Article, Image, Term

CATEGORIES = ("World", "Business", "Science", "Sport", "Culture", "Local")
AUTHORS = ("Jane Doe", "Amal Haddad", "Kenji Sato", "Maria López", "Tom O’Brien")
TAGS = ("Elections", "Climate", "Markets", "Football", "Health", "Transport", "Budget", "AI")
WORDS = (
    "council budget vote river city school market climate energy housing transport health "
    "report minister court season festival museum research station harbour election policy "
    "“quoted” résumé café naïve — 2026 €40m"
).split()
START = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _body(rng: random.Random, paragraphs: int) -> str:
    parts = []
    for n in range(paragraphs):
        if n and n % 3 == 0:
            parts.append(f"<h2>{_sentence(rng, 4)[:-1]}</h2>")
        sentences = " ".join(_sentence(rng, rng.randint(8, 18)) for _ in range(4))
        parts.append(f"<p>{sentences}</p>")
    return "".join(parts)


def raw_article(n: int, *, prefix: str = "bench", seed: int = 0) -> dict[str, Any]:
    """Article *n* as the push API and .jsonl files take it."""
    rng = random.Random(f"{prefix}/{seed}/{n}")  # distinct text per prefix: no duplicates
    published = START + timedelta(minutes=7 * n)
    category = CATEGORIES[n % len(CATEGORIES)]
    return {
        "id": f"{prefix}-{n}",
        "title": f"{_sentence(rng, 7)[:-1]} ({n})",
        "url": f"https://news.example.com/{published:%Y/%m/%d}/{prefix}-{n}",
        "body": _body(rng, 6),
        "summary": _sentence(rng, 20),
        "author": AUTHORS[n % len(AUTHORS)],
        "published": published.isoformat(),
        "updated": published.isoformat(),
        "categories": [category],
        "tags": rng.sample(TAGS, 2),
        "image": {
            "url": f"https://news.example.com/img/{prefix}-{n}.jpg",
            "type": "image/jpeg",
            "length": 48_000 + n,
            "width": 1200,
            "height": 630,
        },
    }


def article(n: int, *, prefix: str = "bench", seed: int = 0) -> Article:
    """Article *n* as the store and the renderer hold it (the same fields as raw_article)."""
    raw = raw_article(n, prefix=prefix, seed=seed)
    when = datetime.fromisoformat(raw["published"])
    image = raw["image"]
    return Article(
        id=raw["id"],
        title=raw["title"],
        url=raw["url"],
        content_html=raw["body"],
        summary=raw["summary"],
        author=raw["author"],
        published=when,
        updated=when,
        categories=tuple(Term(c.lower(), c) for c in raw["categories"]),
        tags=tuple(Term(t.lower(), t) for t in raw["tags"]),
        image=Image(image["url"], image["type"], image["length"], image["width"], image["height"]),
        source="api",
        guid=raw["url"],
    )


def articles(count: int, *, prefix: str = "bench", start: int = 0) -> list[Article]:
    return [article(n, prefix=prefix) for n in range(start, start + count)]
