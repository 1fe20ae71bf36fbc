"""Drop ix_appeals_origin_system: no query reads appeals by their origin system

Every new appeal inserted an entry into it (on SQLite one more page written and fsynced per appeal, 1 of
~33), for no reader: the citizen's system is read from the appeal itself, never searched by. Downgrading
creates it again.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_appeals_origin_system", table_name="appeals")


def downgrade() -> None:
    op.create_index("ix_appeals_origin_system", "appeals", ["origin_system"])
