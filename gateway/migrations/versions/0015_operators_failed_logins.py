"""Operators' failed logins, for the console's lockout

`operators.failed_logins`: wrong passwords in a row since the last good login; `operators.locked_until`: no
login is taken for this account before it (gateway.services.operators.authenticate). Existing accounts start
at 0, unlocked. Downgrading drops both columns.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("operators", sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("operators", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE operators DROP COLUMN locked_until")
    op.execute("ALTER TABLE operators DROP COLUMN failed_logins")
