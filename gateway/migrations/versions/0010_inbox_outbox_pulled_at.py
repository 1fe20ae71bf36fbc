"""Inbox and outbox rows record when they were first handed out (by a pull, or by a push)

On PostgreSQL ids are taken at INSERT and transactions commit in any order: an item can become visible after a
higher id was already pulled, below the puller's cursor. `pulled_at` on `inbox_items` and `outbox` lets a
pull return such an item whatever the cursor, and an acknowledgement by cursor leave it alone until it was
handed out (gateway.services.inbox). The partial indexes `ix_inbox_not_pulled` and `ix_outbox_not_pulled`
hold the rows not yet handed out nor acknowledged, as (owner, pulled_at, id).

Outbox rows delivered by push count as handed out when they were delivered (else a push-only system's
rows would all sit in the partial index); other rows that exist count as never handed out: the first pulls
after the upgrade send the unacknowledged ones once more (at-least-once: receivers de-duplicate).
Downgrading drops the indexes and the columns.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_NOT_PULLED = "pulled_at IS NULL AND acked_at IS NULL"
_INDEXES = (
    ("ix_inbox_not_pulled", "inbox_items", "official_id"),
    ("ix_outbox_not_pulled", "outbox", "recipient_system"),
)


# Plain ALTER TABLE on both databases (SQLite >= 3.35 drops columns): a batch copy would have to drop tables
# that other tables' rows refer to.
def upgrade() -> None:
    for name, table, owner in _INDEXES:
        op.add_column(table, sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=True))
        if table == "outbox":
            op.execute("UPDATE outbox SET pulled_at = delivered_at WHERE status = 'delivered'")
        op.create_index(
            name,
            table,
            [owner, "pulled_at", "id"],
            postgresql_where=sa.text(_NOT_PULLED),
            sqlite_where=sa.text(_NOT_PULLED),
        )


def downgrade() -> None:
    for name, table, _owner in _INDEXES:
        op.drop_index(name, table_name=table)
        op.execute(f"ALTER TABLE {table} DROP COLUMN pulled_at")
