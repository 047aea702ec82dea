"""The link-preview linter: what will look wrong or be refused when an article is shared."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from syndicate.models import Article, Image
from syndicate.shares.markup import image_type

Severity = Literal["error", "warning"]
ALL = "all"


@dataclass(frozen=True)
class ImageRule:
    """One network's image limits (docs/social.md §5)."""

    minimum: tuple[int, int] | None
    recommended: tuple[int, int] | None
    max_bytes: int
    rejected_types: frozenset[str]
    maximum: tuple[int, int] | None = None


_SVG = "image/svg+xml"
IMAGE_RULES = {
    "facebook": ImageRule((200, 200), (1200, 630), 8_000_000, frozenset({_SVG})),
    "x": ImageRule((300, 157), None, 5_000_000, frozenset({_SVG}), maximum=(4096, 4096)),
    "linkedin": ImageRule(None, (1200, 627), 5_000_000, frozenset({"image/webp", _SVG})),
}
TITLE_LIMITS = {"linkedin": 200, "reddit": 300}
DESCRIPTION_LIMIT = 300  # Facebook and LinkedIn cut longer og:description text


@dataclass(frozen=True)
class Problem:
    """One thing the linter found: for which network, how bad, and what to do."""

    network: str
    severity: Severity
    message: str


def lint(article: Article, networks: Iterable[str]) -> list[Problem]:
    """Problems with *article*'s title, description and image on each of *networks*."""
    networks = list(networks)
    problems: list[Problem] = []
    if not article.title.strip():
        problems.append(Problem(ALL, "error", "the article has no title"))
    if not article.summary.strip():
        problems.append(Problem(ALL, "warning", "no description: og:description will be empty"))
    elif len(article.summary) > DESCRIPTION_LIMIT:
        problems += [
            Problem(
                n,
                "warning",
                f"description is {len(article.summary)} characters; "
                f"{n} shows about {DESCRIPTION_LIMIT}",
            )
            for n in networks
            if n in ("facebook", "linkedin")
        ]
    for network, limit in TITLE_LIMITS.items():
        if network in networks and len(article.title) > limit:
            problems.append(
                Problem(
                    network,
                    "warning",
                    f"title is {len(article.title)} characters; {network} shows at most {limit}",
                )
            )
    if article.image is None:
        problems.append(Problem(ALL, "warning", "no image: previews will be small or bare"))
    else:
        problems += _image_problems(article.image, networks)
    return problems


def _image_problems(image: Image, networks: list[str]) -> list[Problem]:
    problems = []
    if not image.url.startswith("https://"):
        problems.append(Problem(ALL, "warning", f"image URL is not https: {image.url}"))
    if not (image.width and image.height):
        problems.append(
            Problem(
                ALL,
                "warning",
                "image size unknown: crawlers may show no "
                "image on the first share (give width and height)",
            )
        )
    kind = image_type(image)
    for network in networks:
        rule = IMAGE_RULES.get(network)
        if rule is not None:
            problems += _against(rule, network, image, kind)
    return problems


def _against(rule: ImageRule, network: str, image: Image, kind: str | None) -> list[Problem]:
    found = []
    if kind in rule.rejected_types:
        found.append(Problem(network, "error", f"{network} does not accept {kind} images"))
    elif kind is None:
        found.append(Problem(network, "warning", "image type unknown"))
    if image.length and image.length > rule.max_bytes:
        found.append(
            Problem(
                network,
                "error",
                f"image is {image.length} bytes; {network} accepts at most {rule.max_bytes}",
            )
        )
    if image.width and image.height:
        size = (image.width, image.height)
        if rule.minimum and (size[0] < rule.minimum[0] or size[1] < rule.minimum[1]):
            found.append(
                Problem(
                    network,
                    "error",
                    f"image is {_wh(size)}; {network} needs at least {_wh(rule.minimum)}",
                )
            )
        elif rule.recommended and (size[0] < rule.recommended[0] or size[1] < rule.recommended[1]):
            found.append(
                Problem(
                    network,
                    "warning",
                    f"image is {_wh(size)}; {network} recommends {_wh(rule.recommended)}",
                )
            )
        if rule.maximum and (size[0] > rule.maximum[0] or size[1] > rule.maximum[1]):
            found.append(
                Problem(
                    network,
                    "error",
                    f"image is {_wh(size)}; {network} accepts at most {_wh(rule.maximum)}",
                )
            )
    return found


def _wh(size: tuple[int, int]) -> str:
    return f"{size[0]}×{size[1]}"
