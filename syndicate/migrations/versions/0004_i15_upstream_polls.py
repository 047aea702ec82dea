"""The outcome of each upstream's last poll, with its rejected entries and running totals;
the author's e-mail of an article whose source opted in to publishing it.

Revision ID: 0004_i15_upstream_polls
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from syndicate.store.schema import UTCDateTime

revision = "0004_i15_upstream_polls"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("article", sa.Column("author_email", sa.String(320)))
    op.create_table(
        "upstream_poll",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("polled_at", UTCDateTime, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("conditional", sa.String(20), nullable=False),
        sa.Column("encoding", sa.String(50)),
        sa.Column("seen", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
        sa.Column("repeated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("notes", sa.JSON, nullable=False),
        sa.Column("problems", sa.JSON, nullable=False),
        sa.Column("totals", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("upstream_poll")
    op.drop_column("article", "author_email")
