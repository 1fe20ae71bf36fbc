"""Appeals as stored: the appeal, its append-only event log, the outbox of signed status updates, inboxes.

The appeal's state is never stored: it is folded from `appeal_events` (gateway.domain.appeals.lifecycle).
The primary key (appeal_id, seq) makes the log append-only under concurrency: two writers deciding from the
same state both try to write the same seq, and the second one fails and decides again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Connection, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base
from gateway.store.prepared import PreparedInserts


class Appeal(Base):
    __tablename__ = "appeals"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(24), unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    origin_system: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))  # the Appeal document, verbatim
    subject: Mapped[str] = mapped_column(String(500))
    # Personal data of the applicant: shown to the assigned officials' systems, never on the tracking API.
    applicant: Mapped[dict] = mapped_column(JSON)
    addressee: Mapped[dict] = mapped_column(JSON)


class AppealEvent(Base):
    __tablename__ = "appeal_events"
    appeal_id: Mapped[str] = mapped_column(ForeignKey("appeals.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSON)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))  # the document that caused it


class OutboxMessage(Base):
    """A signed document for another system, written in the same transaction as the event it reports.

    Delivery state lives on the row (attempts, last error, next attempt) so that "what is stuck" is a query.
    Push delivery (gateway.delivery.worker) leases a row while it delivers it: `claimed_by` names the worker,
    `claimed_until` ends the lease (after a crash, the row is due again once it passes). Pull (`acked_at`)
    and push (`status`, `delivered_at`) are recorded separately.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_recipient_id", "recipient_system", "id"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient_system: Mapped[str] = mapped_column(String(64))
    appeal_id: Mapped[str] = mapped_column(ForeignKey("appeals.id"), index=True)
    event_seq: Mapped[int] = mapped_column(Integer)
    document_type: Mapped[str] = mapped_column(String(32))
    document: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InboxItem(Base):
    """Work for an official: an appeal routed or forwarded to them, a supplement, a review of their reply.

    `id` is the cursor; items stay until acknowledged (at-least-once).
    """

    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_official_id", "official_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    official_id: Mapped[str] = mapped_column(String(64))
    appeal_id: Mapped[str] = mapped_column(ForeignKey("appeals.id"))
    event_seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))  # the document to act on
    status_update_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


_OUTBOX_COLUMNS = (
    "recipient_system",
    "appeal_id",
    "event_seq",
    "document_type",
    "document",
    "created_at",
    "status",
    "attempts",
    "next_attempt_at",
)
_INBOX_COLUMNS = (
    "official_id",
    "appeal_id",
    "event_seq",
    "kind",
    "message_id",
    "status_update_id",
    "created_at",
)
_INSERTS: dict[str, PreparedInserts] = {}


def insert_new_appeal(
    conn: Connection,
    message_pk: int,
    appeal: dict,
    first_event: dict,
    status_updates: list[dict],
    inbox: list[dict],
) -> None:
    """A new appeal's rows, in the transaction that stores its Appeal document (key `message_pk`).

    `status_updates` are outbox rows; inbox rows point at the first of them, and at the Appeal document where
    their `message_id` is None.
    """
    inserts = _INSERTS.get(conn.dialect.name)
    if inserts is None:
        inserts = _INSERTS.setdefault(conn.dialect.name, PreparedInserts(conn.dialect))
    inserts(Appeal.__table__).execute(conn, {**appeal, "message_id": message_pk})
    inserts(AppealEvent.__table__).execute(conn, {**first_event, "message_id": message_pk})
    outbox = inserts(OutboxMessage.__table__, _OUTBOX_COLUMNS, returning="id")
    outbox_ids = [outbox.execute(conn, row) for row in status_updates]
    inserts(InboxItem.__table__, _INBOX_COLUMNS).execute_many(
        conn,
        [
            {
                **row,
                "message_id": row["message_id"] or message_pk,
                "status_update_id": min(outbox_ids) if outbox_ids else None,
            }
            for row in inbox
        ],
    )
