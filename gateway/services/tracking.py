"""What a citizen sees by tracking code: statuses, who holds the appeal, the due date and how it was computed.

No personal data of the applicant, and not the subject or texts either: only what the appeal went through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.domain.appeals import lifecycle
from gateway.domain.appeals.deadlines import DueDate, due_date, forward_due, overdue
from gateway.services.appeals import AppealsService
from gateway.store.appeals import Appeal, OutboxMessage
from gateway.store.directory import Official


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    event: str
    text: str
    at: datetime
    actor: str  # citizen | official | system | gateway


@dataclass(frozen=True)
class Holder:
    id: str
    name: str
    post: str


@dataclass(frozen=True)
class TrackingView:
    tracking_code: str
    appeal_id: str
    status: str
    received_at: datetime
    due: DueDate | None
    timeliness: str  # on_time | overdue | very_overdue
    holders: tuple[Holder, ...]
    timeline: tuple[TimelineEntry, ...]
    # While nobody has acted on it yet: the day by which it must reach the competent official (SPEC: within
    # 5 working days), and whether that day has passed.
    forward_by: date | None = None
    forward_late: bool = False


_CODE_CHARS = re.compile(r"[^A-Z0-9-]")


def normalise_code(raw: str) -> str:
    """A tracking code as a citizen types it: any case, spaces, with or without the dashes."""
    code = _CODE_CHARS.sub("", raw.upper())[:64]
    if "-" not in code and len(code) == 20:
        code = "-".join(code[i : i + 4] for i in range(0, 20, 4))
    return code


def track(
    session: Session, appeals: AppealsService, tracking_code: str, now: datetime
) -> TrackingView | None:
    appeal = session.scalars(select(Appeal).where(Appeal.tracking_code == tracking_code)).first()
    if appeal is None:
        return None
    events = appeals.events(session, appeal.id)
    state = lifecycle.fold(events, now=now, policy=appeals.policy)
    names = appeals.official_names(session)
    holders = []
    for official_id in state.assignees:
        row = session.get(Official, official_id)
        holders.append(Holder(official_id, row.name if row else official_id, row.post_title if row else ""))
    forward_by = (
        forward_due(events[0].at, appeals.policy) if state.status is lifecycle.Status.received else None
    )
    return TrackingView(
        forward_by=forward_by,
        forward_late=forward_by is not None and appeals.policy.local_date(now) > forward_by,
        tracking_code=appeal.tracking_code,
        appeal_id=appeal.id,
        status=str(state.status),
        received_at=events[0].at,
        due=due_date(events, appeals.policy, now=now),
        timeliness=overdue(state, now, appeals.policy),
        holders=tuple(holders),
        timeline=tuple(
            TimelineEntry(e.seq, str(e.kind), lifecycle.status_text(e, names), e.at, str(e.actor.kind))
            for e in events
        ),
    )


def latest_status_update(session: Session, tracking_code: str) -> bytes | None:
    return session.scalars(
        select(OutboxMessage.document)
        .join(Appeal, Appeal.id == OutboxMessage.appeal_id)
        .where(Appeal.tracking_code == tracking_code, OutboxMessage.document_type == "StatusUpdate")
        .order_by(OutboxMessage.event_seq.desc(), OutboxMessage.id.desc())
        .limit(1)
    ).first()
