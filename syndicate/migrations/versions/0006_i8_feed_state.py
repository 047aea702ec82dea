"""Feed state: the catalog of every feed published, aliases, and per-output validators.

Revision ID: 0006_i8_feed_state
Revises: 0005_i14_claim_index
"""

import sqlalchemy as sa
from alembic import op

from syndicate.store.schema import UTCDateTime

revision = "0006_i8_feed_state"
down_revision = "0005_i14_claim_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feed",
        sa.Column("name", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False, server_default="ok"),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime),
        sa.Column("failed_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "feed_alias",
        sa.Column("alias", sa.String(300), primary_key=True),
        sa.Column(
            "name",
            sa.String(300),
            sa.ForeignKey("feed.name", ondelete="CASCADE"),
            nullable=False,
        ),
    )
    op.create_table(
        "feed_output",
        sa.Column(
            "name",
            sa.String(300),
            sa.ForeignKey("feed.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("format", sa.String(10), primary_key=True),
        sa.Column("variant", sa.String(40), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("last_modified", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("feed_output")
    op.drop_table("feed_alias")
    op.drop_table("feed")
