"""The database tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` build them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData()


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


article = sa.Table(
    "article",
    metadata,
    sa.Column("id", sa.String(100), primary_key=True),
    sa.Column("guid", sa.String(300), nullable=False, unique=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("url", sa.String(2000), nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("content_html", sa.Text, nullable=False),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("author_slug", sa.String(200), nullable=False, index=True),
    sa.Column("author_email", sa.String(320)),
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
    sa.Index("ix_article_feed_order", "status", "published", "id"),
)

article_term = sa.Table(
    "article_term",
    metadata,
    sa.Column(
        "article_id",
        sa.String(100),
        sa.ForeignKey("article.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("kind", sa.String(20), primary_key=True),  # "category" or "tag"
    sa.Column("slug", sa.String(200), primary_key=True),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Index("ix_article_term_kind_slug", "kind", "slug"),
)

# One row: bumped in every transaction that changes an article, so renderers in any
# process can tell cheaply whether anything changed since they last looked.
change_counter = sa.Table(
    "change_counter",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=False),
)

# Conditional-GET state and health of each configured upstream feed.
upstream_state = sa.Table(
    "upstream_state",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("etag", sa.String(500)),
    sa.Column("last_modified", sa.String(100)),
    sa.Column("next_fetch_at", UTCDateTime),
    sa.Column("fetched_at", UTCDateTime),
    sa.Column("last_status", sa.String(50)),
    sa.Column("last_error", sa.Text),
)

# The outcome of each upstream's last poll (what an operator sees), plus running totals
# by outcome and entry result for /metrics. ``problems`` lists the last poll's rejected
# entries and dropped parts: {position, key, label, kind, reason}.
upstream_poll = sa.Table(
    "upstream_poll",
    metadata,
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

# WebSub publish pings waiting to be sent (outbox): one row per topic URL.
websub_ping = sa.Table(
    "websub_ping",
    metadata,
    sa.Column("topic", sa.String(2000), primary_key=True),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
)

# -- share ledger (docs/reliability.md §2) -------------------------------------------------

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # INTEGER PRIMARY KEY = rowid on SQLite
_WORKING = "state IN ('claimed', 'in_flight')"

# One job per (article, network, account): the outbox row written with the article.
share = sa.Table(
    "share",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
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
    sa.Index("ix_share_due", "state", "next_attempt_at"),
    # The claim: each free account's earliest due job in O(log n).
    sa.Index("ix_share_claim", "network", "account", "state", "next_attempt_at", "id"),
    sa.Index("ix_share_account_sent", "network", "account", "sent_at"),
    # At most one claimed/in-flight job per account, whichever worker holds it.
    sa.Index(
        "ux_share_one_working",
        "network",
        "account",
        unique=True,
        sqlite_where=sa.text(_WORKING),
        postgresql_where=sa.text(_WORKING),
    ),
)

# Audit trail: every transition of every job, written in the same transaction.
share_event = sa.Table(
    "share_event",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column(
        "share_id",
        _ID,
        sa.ForeignKey("share.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("network", sa.String(50), nullable=False),
    sa.Column("from_state", sa.String(20)),
    sa.Column("to_state", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("detail", sa.Text),
)

# Per-account posting state: token bucket, rate-limit block, and auth hold.
share_account = sa.Table(
    "share_account",
    metadata,
    sa.Column("network", sa.String(50), primary_key=True),
    sa.Column("account", sa.String(100), primary_key=True),
    sa.Column("tokens", sa.Float),
    sa.Column("bucket_at", UTCDateTime),
    sa.Column("blocked_until", UTCDateTime),
    sa.Column("paced_until", UTCDateTime),  # pacing or the token bucket says wait
    sa.Column("held_reason", sa.Text),
    sa.Column("held_at", UTCDateTime),
)

# Liveness of worker processes; /readyz reads the newest beat.
worker_heartbeat = sa.Table(
    "worker_heartbeat",
    metadata,
    sa.Column("worker", sa.String(200), primary_key=True),
    sa.Column("beat_at", UTCDateTime, nullable=False),
)

# -- feeds (docs/feeds.md, "Feed state") ------------------------------------------------

# The catalog: every feed ever published, never forgotten, so a section that loses its
# last article (edited away, unpublished) is re-rendered empty instead of left stale.
# ``state`` is "ok" or "failing"; a failing feed is retried at ``next_attempt_at``.
feed = sa.Table(
    "feed",
    metadata,
    sa.Column("name", sa.String(300), primary_key=True),  # "category/world", no extension
    sa.Column("kind", sa.String(20), nullable=False),  # all, category, tag, author, custom
    sa.Column("slug", sa.String(200), nullable=False),  # what the feed selects ("" for all)
    sa.Column("label", sa.Text, nullable=False),  # what people read
    sa.Column("state", sa.String(20), nullable=False, server_default="ok"),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("failed_at", UTCDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# Names a feed used to answer to (an old slug): requests for them redirect (301).
feed_alias = sa.Table(
    "feed_alias",
    metadata,
    sa.Column("alias", sa.String(300), primary_key=True),
    sa.Column(
        "name", sa.String(300), sa.ForeignKey("feed.name", ondelete="CASCADE"), nullable=False
    ),
)

# What each published representation holds: the digest of its bytes and when they last
# changed. ``variant`` is "" for the file and "limit=N" for a ``?limit=N`` rendering.
# ``last_modified`` (whole seconds) only ever grows: it is the HTTP Last-Modified.
feed_output = sa.Table(
    "feed_output",
    metadata,
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
