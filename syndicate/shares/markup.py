"""HTML for readers and crawlers: the share bar and the Open Graph / X card tags.

Pure functions of their arguments; every value is escaped. The bar is plain links: no
script, no tracker, nothing loaded from a third party.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from html import escape
from urllib.parse import urlsplit

from syndicate.models import Article, Image


def share_bar(links: Sequence[tuple[str, str]], separator: str) -> str:
    """``<p class="share-links">`` of (label, intent URL) links joined by *separator*."""
    anchors = [
        f'<a href="{escape(url)}" rel="noopener noreferrer" target="_blank" '
        f'aria-label="{escape(label)} (opens in a new tab)">{escape(label)}</a>'
        for label, url in links
    ]
    return f'<p class="share-links">{escape(separator, quote=False).join(anchors)}</p>'


def meta_tags(
    article: Article,
    *,
    canonical_url: str,
    site_name: str,
    twitter_site: str = "",
    facebook_app_id: str = "",
) -> str:
    """The ``<meta>`` tags a crawler needs for a link preview, one per line.

    The large X card only when there is an image to fill it (``summary`` otherwise);
    ``og:url`` is the canonical URL, without tracking parameters or fragment.
    """
    tags: list[tuple[str, str, str]] = [
        ("property", "og:type", "article"),
        ("property", "og:title", article.title),
        ("property", "og:description", article.summary),
        ("property", "og:url", canonical_url),
        ("property", "og:site_name", site_name),
    ]
    if article.image is not None:
        tags += _image_tags(article.image, alt=article.title)
    tags += [
        ("property", "article:published_time", article.published.isoformat()),
        ("property", "article:modified_time", article.updated.isoformat()),
    ]
    if article.author:
        tags.append(("property", "article:author", article.author))
    tags += [("property", "article:section", term.label) for term in article.categories[:1]]
    tags += [("property", "article:tag", term.label) for term in article.tags]
    if facebook_app_id:
        tags.append(("property", "fb:app_id", facebook_app_id))
    card = "summary_large_image" if article.image is not None else "summary"
    tags.append(("name", "twitter:card", card))
    if twitter_site:
        tags.append(("name", "twitter:site", twitter_site))
    tags += [("name", "twitter:title", article.title)]
    if article.summary:
        tags.append(("name", "twitter:description", article.summary))
    if article.image is not None:
        tags += [
            ("name", "twitter:image", article.image.url),
            ("name", "twitter:image:alt", article.title),
        ]
    return "\n".join(
        f'<meta {attr}="{escape(name)}" content="{escape(value)}">' for attr, name, value in tags
    )


def image_type(image: Image) -> str | None:
    """The image's media type, as given or guessed from its URL's extension."""
    if image.type:
        return image.type.lower()
    guessed, _ = mimetypes.guess_type(urlsplit(image.url).path)
    if guessed is None and urlsplit(image.url).path.lower().endswith(".webp"):
        return "image/webp"
    return guessed


def _image_tags(image: Image, *, alt: str) -> list[tuple[str, str, str]]:
    tags = [("property", "og:image", image.url)]
    if image.url.startswith("https://"):
        tags.append(("property", "og:image:secure_url", image.url))
    kind = image_type(image)
    if kind:
        tags.append(("property", "og:image:type", kind))
    if image.width and image.height:
        tags += [
            ("property", "og:image:width", str(image.width)),
            ("property", "og:image:height", str(image.height)),
        ]
    tags.append(("property", "og:image:alt", alt))
    return tags
