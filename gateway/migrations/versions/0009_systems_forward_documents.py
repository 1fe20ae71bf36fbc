"""Systems opt in to receiving the officials' own documents

`systems.forward_documents`: whether the citizen's system (an appeal's origin) also gets each official's
signed AppealReply and AppealStatusChange in its outbox, besides the StatusUpdates. Off for every system that
exists (a receiver built to take StatusUpdates only would refuse them); the operator turns it on
(`zvarot systems set-endpoint --forward-documents`). Downgrading drops the column.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite >= 3.35 drops columns): a batch copy of `systems` would have
# to drop the table that other tables' rows refer to.
def upgrade() -> None:
    op.add_column(
        "systems", sa.Column("forward_documents", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.execute("ALTER TABLE systems DROP COLUMN forward_documents")
