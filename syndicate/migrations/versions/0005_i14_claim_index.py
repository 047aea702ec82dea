"""Claiming costs O(log n): an index per account's due jobs, account-level pacing.

The claim looks at each free account and takes its earliest due job through
``ix_share_claim``; an account that pacing or its token bucket makes wait is skipped
through ``share_account.paced_until`` instead of claiming its jobs one by one. Every
account with jobs gets its ``share_account`` row, so the claim finds it there.

Revision ID: 0005_i14_claim_index
Revises: 0004_i15_upstream_polls
"""

import sqlalchemy as sa
from alembic import op

from syndicate.store.schema import UTCDateTime

revision = "0005_i14_claim_index"
down_revision = "0004_i15_upstream_polls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("share_account") as batch:
        batch.add_column(sa.Column("paced_until", UTCDateTime))
    op.create_index(
        "ix_share_claim", "share", ["network", "account", "state", "next_attempt_at", "id"]
    )
    op.execute(
        "INSERT INTO share_account (network, account) "
        "SELECT DISTINCT network, account FROM share s WHERE NOT EXISTS ("
        "SELECT 1 FROM share_account a WHERE a.network = s.network AND a.account = s.account)"
    )


def downgrade() -> None:
    op.drop_index("ix_share_claim", "share")
    with op.batch_alter_table("share_account") as batch:
        batch.drop_column("paced_until")
