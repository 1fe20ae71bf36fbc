"""Push delivery: how each system is reached, and a lease and delivery time on outbox rows

`systems.delivery` is http | soap | none (existing systems: none, i.e. they pull as before). Outbox rows gain
`claimed_until` and `claimed_by` (a worker's lease while it delivers the row) and `delivered_at`, and an index
on (status, next_attempt_at) for the worker's "what is due" query.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, never batch mode: on SQLite batch mode copies the table and drops the original, which
    # SQLite refuses (foreign keys are on) while system agencies and inbox items refer to these tables.
    op.add_column(
        "systems", sa.Column("delivery", sa.String(length=16), server_default="none", nullable=False)
    )
    op.add_column("outbox", sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outbox", sa.Column("claimed_by", sa.String(length=64), nullable=True))
    op.add_column("outbox", sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
    columns = [
        ("outbox", "delivered_at"),
        ("outbox", "claimed_by"),
        ("outbox", "claimed_until"),
        ("systems", "delivery"),
    ]
    for table, column in columns:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # SQLite >= 3.35
        else:
            op.drop_column(table, column)
