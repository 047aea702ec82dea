"""Feed names that keep every label: new section slugs, old ones kept as aliases.

Section slugs used to be folded to ASCII with everything else dropped, so some labels got
no feed and distinct labels shared one. Every category, tag and author slug is computed
again with ``feed_slug``; each old feed name that now means another feed is kept in
``feed_alias`` so its URL redirects (301) to the new one.

Revision ID: 0007_i8_feed_names
Revises: 0006_i8_feed_state
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from syndicate.content.text import feed_slug

revision = "0007_i8_feed_names"
down_revision = "0006_i8_feed_state"
branch_labels = None
depends_on = None

article = sa.table("article", sa.column("id"), sa.column("author"), sa.column("author_slug"))
article_term = sa.table(
    "article_term",
    sa.column("article_id"),
    sa.column("kind"),
    sa.column("slug"),
    sa.column("label"),
    sa.column("position"),
)
feed = sa.table(
    "feed",
    sa.column("name"),
    sa.column("kind"),
    sa.column("slug"),
    sa.column("label"),
    sa.column("state"),
    sa.column("failures"),
    sa.column("created_at"),
)
feed_alias = sa.table("feed_alias", sa.column("alias"), sa.column("name"))


def upgrade() -> None:
    conn = op.get_bind()
    renames: dict[str, tuple[str, str, str, str]] = {}  # old name -> (new, kind, slug, label)
    _terms(conn, renames)
    _authors(conn, renames)
    _aliases(conn, renames)


def _terms(conn: sa.Connection, renames: dict[str, tuple[str, str, str, str]]) -> None:
    rows = conn.execute(
        sa.select(
            article_term.c.article_id,
            article_term.c.kind,
            article_term.c.slug,
            article_term.c.label,
            article_term.c.position,
        ).order_by(article_term.c.article_id, article_term.c.kind, article_term.c.position)
    ).all()
    kept: dict[tuple[str, str, str], dict[str, object]] = {}
    for article_id, kind, slug, label, position in rows:
        new = feed_slug(label)
        kept.setdefault(
            (article_id, kind, new),
            {
                "article_id": article_id,
                "kind": kind,
                "slug": new,
                "label": label,
                "position": position,
            },
        )
        if new != slug:
            renames.setdefault(f"{kind}/{slug}", (f"{kind}/{new}", kind, new, label))
    if any(slug != feed_slug(label) for _, _, slug, label, _ in rows):
        conn.execute(article_term.delete())
        values = list(kept.values())
        for start in range(0, len(values), 500):
            conn.execute(article_term.insert(), values[start : start + 500])


def _authors(conn: sa.Connection, renames: dict[str, tuple[str, str, str, str]]) -> None:
    rows = conn.execute(sa.select(article.c.id, article.c.author, article.c.author_slug)).all()
    for article_id, author, slug in rows:
        new = feed_slug(author) if author else ""
        if new != slug:
            conn.execute(article.update().where(article.c.id == article_id).values(author_slug=new))
            if slug and new:
                renames.setdefault(f"author/{slug}", (f"author/{new}", "author", new, author))


def _aliases(conn: sa.Connection, renames: dict[str, tuple[str, str, str, str]]) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    current = {name for _, (name, *_rest) in renames.items()}
    current |= {
        f"{kind}/{slug}"
        for kind, slug in conn.execute(sa.select(article_term.c.kind, article_term.c.slug))
    }
    current |= {
        f"author/{slug}"
        for (slug,) in conn.execute(sa.select(article.c.author_slug).distinct())
        if slug
    }
    known = set(conn.execute(sa.select(feed.c.name)).scalars())
    for old, (new, kind, slug, label) in sorted(renames.items()):
        if new not in known:
            conn.execute(
                feed.insert().values(
                    name=new,
                    kind=kind,
                    slug=slug,
                    label=label,
                    state="ok",
                    failures=0,
                    created_at=now,
                )
            )
            known.add(new)
        if old in current:  # the old name is some other section's name now: it wins
            continue
        if old in known:  # the catalog knew the old name: it is an alias from now on
            conn.execute(feed.delete().where(feed.c.name == old))
            known.discard(old)
        conn.execute(feed_alias.insert().values(alias=old, name=new))


def downgrade() -> None:
    op.execute(feed_alias.delete())
