"""Articles, their categories and tags, and the change counter.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from syndicate.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("guid", sa.String(300), nullable=False, unique=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False, index=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("content_html", sa.Text, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("author_slug", sa.String(200), nullable=False, index=True),
        sa.Column("image_url", sa.String(2000)),
        sa.Column("image_type", sa.String(100)),
        sa.Column("image_length", sa.BigInteger),
        sa.Column("image_width", sa.Integer),
        sa.Column("image_height", sa.Integer),
        sa.Column("published", UTCDateTime, nullable=False),
        sa.Column("updated", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="published"),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("modified_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_article_feed_order", "article", ["status", "published", "id"])
    op.create_table(
        "article_term",
        sa.Column(
            "article_id",
            sa.String(100),
            sa.ForeignKey("article.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("slug", sa.String(200), primary_key=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index("ix_article_term_kind_slug", "article_term", ["kind", "slug"])
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("changed_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("change_counter")
    op.drop_table("article_term")
    op.drop_table("article")
