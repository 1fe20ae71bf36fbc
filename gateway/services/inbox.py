"""Officials' inboxes and systems' outboxes: pulled with a cursor, acknowledged explicitly (at-least-once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gateway.store.appeals import Appeal, InboxItem, OutboxMessage
from gateway.store.models import Message

MAX_PAGE = 200
# A page also ends once its documents pass this many bytes (always at least one item): a document may be
# 10 MiB, and 200 of them would be gigabytes of JSON built in memory.
MAX_PAGE_BYTES = 16 * 1024 * 1024


def _last_within_bytes(sizes: list[tuple[int, int | None]]) -> int | None:
    """The id of the last (id, bytes) row that keeps the page within MAX_PAGE_BYTES; None for no rows."""
    total, last = 0, None
    for row_id, size in sizes:
        total += size or 0
        if last is not None and total > MAX_PAGE_BYTES:
            break
        last = row_id
    return last


@dataclass(frozen=True)
class InboxEntry:
    cursor: int
    appeal_id: str
    tracking_code: str
    kind: str
    event_seq: int
    created_at: datetime
    document: bytes | None  # the signed document to act on (the appeal, a supplement, a review)
    status_update: bytes | None


def pull_inbox(session: Session, official_id: str, after: int, limit: int) -> list[InboxEntry]:
    pending = (InboxItem.official_id == official_id, InboxItem.id > after, InboxItem.acked_at.is_(None))
    sizes = session.execute(
        select(
            InboxItem.id,
            func.coalesce(func.length(Message.body), 0)
            + func.coalesce(func.length(OutboxMessage.document), 0),
        )
        .outerjoin(Message, Message.id == InboxItem.message_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == InboxItem.status_update_id)
        .where(*pending)
        .order_by(InboxItem.id)
        .limit(min(max(limit, 1), MAX_PAGE))
    ).all()
    last = _last_within_bytes([tuple(r) for r in sizes])
    if last is None:
        return []
    rows = session.execute(
        select(InboxItem, Appeal.tracking_code, Message.body, OutboxMessage.document)
        .join(Appeal, Appeal.id == InboxItem.appeal_id)
        .outerjoin(Message, Message.id == InboxItem.message_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == InboxItem.status_update_id)
        .where(*pending, InboxItem.id <= last)
        .order_by(InboxItem.id)
    )
    return [
        InboxEntry(item.id, item.appeal_id, code, item.kind, item.event_seq, item.created_at, body, status)
        for item, code, body, status in rows
    ]


def ack_inbox(session: Session, official_id: str, up_to: int, at: datetime) -> int:
    """Acknowledge every item up to and including cursor `up_to`; returns how many were newly acknowledged."""
    result = session.execute(
        update(InboxItem)
        .where(InboxItem.official_id == official_id, InboxItem.id <= up_to, InboxItem.acked_at.is_(None))
        .values(acked_at=at)
    )
    return result.rowcount


def pull_outbox(session: Session, system_id: str, after: int, limit: int) -> list[OutboxMessage]:
    o = OutboxMessage
    pending = (o.recipient_system == system_id, o.id > after, o.acked_at.is_(None))
    sizes = session.execute(
        select(o.id, func.length(o.document))
        .where(*pending)
        .order_by(o.id)
        .limit(min(max(limit, 1), MAX_PAGE))
    ).all()
    last = _last_within_bytes([tuple(r) for r in sizes])
    if last is None:
        return []
    return list(session.scalars(select(o).where(*pending, o.id <= last).order_by(o.id)))


def ack_outbox(session: Session, system_id: str, up_to: int, at: datetime) -> int:
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.recipient_system == system_id,
            OutboxMessage.id <= up_to,
            OutboxMessage.acked_at.is_(None),
        )
        .values(acked_at=at)
    )
    return result.rowcount
