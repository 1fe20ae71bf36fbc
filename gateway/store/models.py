"""Tables. Submitted documents are kept verbatim as evidence, next to the receipt we issued for them.

`Base` is shared by every table module of gateway.store (directory.py: who is who; appeals.py: appeals); the
package's __init__ imports them all, so that Base.metadata is complete whichever of them is imported first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The messages rows of the demo history (gateway.demo.history), written by the gateway itself on the first run
# of the demo world, neither received nor signed: sender and signer uid DEMO_SENDER, signer kind "demo".
DEMO_SENDER = "zvarot-demo-history"
DEMO_SIGNER_KIND = "demo"


class Base(DeclarativeBase):
    pass


class Message(Base):
    """An accepted document: verbatim bytes, who signed it, and the receipt we answered with."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("sender_system", "message_id", name="uq_messages_sender_message"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_system: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(36))
    document_type: Mapped[str] = mapped_column(String(32))  # never searched by (migration 0014)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    signer_uid: Mapped[str] = mapped_column(String(64))
    # system (seal) | official (personal) | demo (DEMO_SIGNER_KIND: seeded demo history, not signed at all)
    signer_kind: Mapped[str] = mapped_column(String(16))
    signer_cert_sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    receipt_id: Mapped[str] = mapped_column(String(40), unique=True)
    receipt: Mapped[bytes] = mapped_column(LargeBinary)


class RejectedDocument(Base):
    """A refused submission, kept for the operator with its reasons and the raw bytes."""

    __tablename__ = "rejected_documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    receipt_id: Mapped[str] = mapped_column(String(40), unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    sender_system: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(36))
    document_type: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str] = mapped_column(String(32), index=True)
    error_message: Mapped[str] = mapped_column(Text)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    receipt: Mapped[bytes | None] = mapped_column(LargeBinary)
