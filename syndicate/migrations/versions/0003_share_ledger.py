"""The share ledger: jobs, their audit trail, per-account state, worker heartbeats.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from syndicate.store.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
WORKING = "state IN ('claimed', 'in_flight')"


def upgrade() -> None:
    op.create_table(
        "share",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "article_id",
            sa.String(100),
            sa.ForeignKey("article.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("network", sa.String(50), nullable=False),
        sa.Column("account", sa.String(100), nullable=False),
        sa.Column("share_key", sa.String(32), nullable=False, unique=True),
        sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
        sa.Column("state", sa.String(20), nullable=False, server_default="pending"),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("ready_at", UTCDateTime, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lookups", sa.Integer, nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(200)),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("in_flight_at", UTCDateTime),
        sa.Column("was_unknown", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("dry_run", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("request_preview", sa.Text),
        sa.Column("remote_id", sa.String(300)),
        sa.Column("permalink", sa.String(2000)),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("last_error_kind", sa.String(50)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("article_id", "network", "account", name="uq_share_job"),
    )
    op.create_index("ix_share_due", "share", ["state", "next_attempt_at"])
    op.create_index("ix_share_account_sent", "share", ["network", "account", "sent_at"])
    op.create_index(
        "ux_share_one_working",
        "share",
        ["network", "account"],
        unique=True,
        sqlite_where=sa.text(WORKING),
        postgresql_where=sa.text(WORKING),
    )
    op.create_table(
        "share_event",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "share_id",
            ID,
            sa.ForeignKey("share.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("network", sa.String(50), nullable=False),
        sa.Column("from_state", sa.String(20)),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_share_event_share_id", "share_event", ["share_id"])
    op.create_table(
        "share_account",
        sa.Column("network", sa.String(50), primary_key=True),
        sa.Column("account", sa.String(100), primary_key=True),
        sa.Column("tokens", sa.Float),
        sa.Column("bucket_at", UTCDateTime),
        sa.Column("blocked_until", UTCDateTime),
        sa.Column("held_reason", sa.Text),
        sa.Column("held_at", UTCDateTime),
    )
    op.create_table(
        "worker_heartbeat",
        sa.Column("worker", sa.String(200), primary_key=True),
        sa.Column("beat_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeat")
    op.drop_table("share_account")
    op.drop_index("ix_share_event_share_id", table_name="share_event")
    op.drop_table("share_event")
    op.drop_table("share")
