"""Drop ix_messages_document_type: no query selects documents by their type

Every accepted document inserted an entry into it (on SQLite one page of ~32 written and fsynced per appeal).
Its one reader, the accepted-documents counter of GET /metrics, filters out the demo sender, so it reads every
row either way: through the index, then each row by its key (1.90 ms for 5,200 documents), or the table in
order and a sort by type (2.03 ms). Downgrading creates it again.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_messages_document_type", table_name="messages")


def downgrade() -> None:
    op.create_index("ix_messages_document_type", "messages", ["document_type"])
