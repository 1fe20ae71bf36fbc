"""Officials' inboxes and systems' outboxes: pulled with a cursor, acknowledged explicitly (at-least-once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.store.appeals import Appeal, InboxItem, OutboxMessage
from gateway.store.models import Message

MAX_PAGE = 200


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
    rows = session.execute(
        select(InboxItem, Appeal.tracking_code, Message.body, OutboxMessage.document)
        .join(Appeal, Appeal.id == InboxItem.appeal_id)
        .outerjoin(Message, Message.id == InboxItem.message_id)
        .outerjoin(OutboxMessage, OutboxMessage.id == InboxItem.status_update_id)
        .where(InboxItem.official_id == official_id, InboxItem.id > after, InboxItem.acked_at.is_(None))
        .order_by(InboxItem.id)
        .limit(min(max(limit, 1), MAX_PAGE))
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
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.recipient_system == system_id,
                OutboxMessage.id > after,
                OutboxMessage.acked_at.is_(None),
            )
            .order_by(OutboxMessage.id)
            .limit(min(max(limit, 1), MAX_PAGE))
        )
    )


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
