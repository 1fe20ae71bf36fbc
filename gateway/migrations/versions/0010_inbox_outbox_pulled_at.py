"""Inbox and outbox rows record when they were first handed out (by a pull, or by a push)

On PostgreSQL ids are taken at INSERT and transactions commit in any order: an item can become visible after a
higher id was already pulled, below the puller's cursor. `pulled_at` on `inbox_items` and `outbox` lets a
pull return such an item whatever the cursor, and an acknowledgement by cursor leave it alone until it was
handed out (gateway.services.inbox). `ack_cursor` is the lowest cursor whose acknowledgement covers a row
handed out: its own id, or, for a row handed out late, the cursor that page ended at, so that acknowledging an
earlier page does not take it. The partial indexes `ix_*_not_pulled` hold the rows not yet handed out nor
acknowledged, as (owner, pulled_at, id); `ix_*_handed_out_late` those handed out late and not acknowledged.

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
_HANDED_OUT_LATE = "ack_cursor > id AND acked_at IS NULL"
_INDEXES = (
    ("ix_inbox_not_pulled", "inbox_items", "official_id"),
    ("ix_outbox_not_pulled", "outbox", "recipient_system"),
)


# Plain ALTER TABLE on both databases (SQLite >= 3.35 drops columns): a batch copy would have to drop tables
# that other tables' rows refer to.
def upgrade() -> None:
    for name, table, owner in _INDEXES:
        op.add_column(table, sa.Column("pulled_at", sa.DateTime(timezone=True), nullable=True))
        op.add_column(table, sa.Column("ack_cursor", sa.Integer(), nullable=True))
        if table == "outbox":
            op.execute(
                "UPDATE outbox SET pulled_at = delivered_at, ack_cursor = id WHERE status = 'delivered'"
            )
        op.create_index(
            name,
            table,
            [owner, "pulled_at", "id"],
            postgresql_where=sa.text(_NOT_PULLED),
            sqlite_where=sa.text(_NOT_PULLED),
        )
        op.create_index(
            name.replace("not_pulled", "handed_out_late"),
            table,
            [owner, "ack_cursor", "id"],
            postgresql_where=sa.text(_HANDED_OUT_LATE),
            sqlite_where=sa.text(_HANDED_OUT_LATE),
        )


def downgrade() -> None:
    for name, table, _owner in _INDEXES:
        op.drop_index(name.replace("not_pulled", "handed_out_late"), table_name=table)
        op.drop_index(name, table_name=table)
        op.execute(f"ALTER TABLE {table} DROP COLUMN ack_cursor")
        op.execute(f"ALTER TABLE {table} DROP COLUMN pulled_at")
