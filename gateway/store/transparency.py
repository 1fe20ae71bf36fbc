"""The transparency log's tables: an append-only Merkle tree over what the gateway received and issued.

`log_leaves` holds each entry in log order (its position is its leaf index) with the row it stands for;
`log_nodes` every complete, aligned subtree's hash (level 0 the leaves), so that a proof is a handful of
lookups however large the log; `log_checkpoints` each signed tree head; `log_head` the one row that
serialises the processes that extend the log and remembers how far each source table has been read.
The mathematics are in gateway.domain.transparency.merkle, the work in gateway.services.transparency.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base


class LogLeaf(Base):
    __tablename__ = "log_leaves"
    # No index on leaf_hash: its random keys would cost every append a random page; an entry is found
    # through its source row (TransparencyLog.position).
    __table_args__ = (UniqueConstraint("source", "source_id", name="uq_log_leaves_source"),)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # messages | rejected_documents | outbox: the table whose row this entry stands for
    source: Mapped[str] = mapped_column(String(24))
    source_id: Mapped[int] = mapped_column(Integer)
    entry: Mapped[str] = mapped_column(String(200))  # gateway.domain.transparency.entries
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary)


class LogNode(Base):
    __tablename__ = "log_nodes"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class LogCheckpoint(Base):
    """A signed tree head: the LogCheckpoint document the gateway signed for this size of the log."""

    __tablename__ = "log_checkpoints"
    tree_size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    document: Mapped[bytes] = mapped_column(LargeBinary)


class LogHead(Base):
    """The log's one row (id 1): its size, the frontier (the roots of its perfect subtrees, largest first,
    concatenated), and the last id read from each source table."""

    __tablename__ = "log_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(Integer)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    last_message_id: Mapped[int] = mapped_column(Integer)
    last_rejection_id: Mapped[int] = mapped_column(Integer)
    last_outbox_id: Mapped[int] = mapped_column(Integer)
