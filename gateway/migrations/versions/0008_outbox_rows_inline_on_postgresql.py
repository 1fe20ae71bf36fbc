"""Keep outbox rows inline on PostgreSQL, as 0002 does for messages

A signed StatusUpdate (~2.3 KB) makes its outbox row exceed PostgreSQL's default 2 KB TOAST threshold, so
every new appeal's two outbox INSERTs paid for a compression attempt and an out-of-line write.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE outbox SET (toast_tuple_target = 8160)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE outbox RESET (toast_tuple_target)")
