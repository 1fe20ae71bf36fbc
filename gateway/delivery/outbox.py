"""The operator's view of push delivery: list outbox rows by status and system, requeue dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from gateway.store.appeals import OutboxMessage

STATUSES = ("pending", "delivered", "dead")


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    recipient: str
    appeal_id: str
    event_seq: int
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    delivered_at: datetime | None
    claimed_by: str | None
    document_type: str = "StatusUpdate"  # or an official's document forwarded to the citizen's system


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; every stored time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def list_outbox(
    session: Session, *, status: str | None = None, system: str | None = None, limit: int = 100
) -> tuple[list[OutboxEntry], int]:
    """The oldest `limit` rows matching the filters, and how many match in all."""
    o = OutboxMessage
    conditions = []
    if status:
        conditions.append(o.status == status)
    if system:
        conditions.append(o.recipient_system == system)
    total = session.scalar(select(func.count()).select_from(o).where(*conditions)) or 0
    rows = session.execute(
        select(
            o.id,
            o.recipient_system,
            o.appeal_id,
            o.event_seq,
            o.status,
            o.attempts,
            o.next_attempt_at,
            o.last_error,
            o.delivered_at,
            o.claimed_by,
            o.document_type,
        )
        .where(*conditions)
        .order_by(o.id)
        .limit(max(limit, 1))
    )
    entries = [
        OutboxEntry(r[0], r[1], r[2], r[3], r[4], r[5], _utc(r[6]), r[7], _utc(r[8]), r[9], r[10])
        for r in rows
    ]
    return entries, total


def requeue(
    session: Session, now: datetime, *, ids: Sequence[int] = (), all_dead: bool = False
) -> tuple[int, list[int]]:
    """Make rows due again from scratch (status pending, attempts 0, next attempt now, no lease): the given
    ids whatever their status (a delivered row is pushed again), or every dead letter. Returns how many rows
    were requeued and which of the given ids do not exist."""
    o = OutboxMessage
    values = {
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_until": None,
        "claimed_by": None,
        "delivered_at": None,
    }
    count = 0
    missing: list[int] = []
    if ids:
        found = set(session.scalars(select(o.id).where(o.id.in_(ids))))
        missing = sorted(set(ids) - found)
        if found:
            count += session.execute(
                update(o).where(o.id.in_(found)).values(**values),
                execution_options={"synchronize_session": False},
            ).rowcount
    if all_dead:
        count += session.execute(
            update(o).where(o.status == "dead").values(**values),
            execution_options={"synchronize_session": False},
        ).rowcount
    return count, missing
