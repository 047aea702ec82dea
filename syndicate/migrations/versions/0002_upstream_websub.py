"""Upstream feed state and the WebSub ping outbox.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from syndicate.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_state",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("etag", sa.String(500)),
        sa.Column("last_modified", sa.String(100)),
        sa.Column("next_fetch_at", UTCDateTime),
        sa.Column("fetched_at", UTCDateTime),
        sa.Column("last_status", sa.String(50)),
        sa.Column("last_error", sa.Text),
    )
    op.create_table(
        "websub_ping",
        sa.Column("topic", sa.String(2000), primary_key=True),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("websub_ping")
    op.drop_table("upstream_state")
