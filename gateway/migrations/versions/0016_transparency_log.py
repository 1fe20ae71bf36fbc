"""The transparency log: leaves, tree nodes, signed checkpoints and the log's head

An append-only Merkle tree (RFC 9162's) over every receipt the gateway issued and every document it sent
(gateway.services.transparency). The log starts empty: the next checkpoint appends every row already stored,
in id order. Downgrading drops the four tables, and with them every proof the gateway could give.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_leaves",
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(24), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("entry", sa.String(200), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("source", "source_id", name="uq_log_leaves_source"),
    )
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "index"),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("tree_size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size"),
    )
    head = op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.Integer(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("last_message_id", sa.Integer(), nullable=False),
        sa.Column("last_rejection_id", sa.Integer(), nullable=False),
        sa.Column("last_outbox_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The one head row: an empty log that has read nothing yet.
    op.bulk_insert(
        head,
        [
            {
                "id": 1,
                "tree_size": 0,
                "frontier": b"",
                "last_message_id": 0,
                "last_rejection_id": 0,
                "last_outbox_id": 0,
            }
        ],
    )


def downgrade() -> None:
    for table in ("log_head", "log_checkpoints", "log_nodes", "log_leaves"):
        op.drop_table(table)
