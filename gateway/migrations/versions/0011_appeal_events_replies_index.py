"""An index of the replies by time, for the quiet-period closures

`zvarot worker` looks every 5 minutes for appeals whose last event is a reply older than the quiet period. It
grouped every event by appeal (0.8 s at 2 M events on PostgreSQL, growing for ever); it now reads the
replies of a time window from `ix_appeal_events_replies` (at, appeal_id, seq) and probes the primary key for
a later event (gateway.services.appeals). Partial (`kind = 'reply_sent'`): only replies add to it.
Downgrading drops it.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_REPLIES = "kind = 'reply_sent'"


def upgrade() -> None:
    op.create_index(
        "ix_appeal_events_replies",
        "appeal_events",
        ["at", "appeal_id", "seq"],
        postgresql_where=sa.text(_REPLIES),
        sqlite_where=sa.text(_REPLIES),
    )


def downgrade() -> None:
    op.drop_index("ix_appeal_events_replies", table_name="appeal_events")
