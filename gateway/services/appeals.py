"""The appeals service: applies documents to appeals inside the caller's transaction.

Reads the event log, folds it into state (gateway.domain), decides the next event, appends it, and says whom
to tell: which systems get a StatusUpdate and which officials get an inbox item. It never signs or parses XML
(the ingest layer does) and never commits (the caller's unit of work does, together with the document).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import exists, insert, literal_column, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from gateway.domain.appeals import lifecycle
from gateway.domain.appeals.deadlines import DeadlinePolicy, DueDate, due_date
from gateway.domain.appeals.events import Actor, ActorKind, Event, EventKind
from gateway.domain.errors import DomainRejection
from gateway.domain.ids import sortable_id
from gateway.errors import Rejection
from gateway.services.directory_view import DirectoryView
from gateway.store.appeals import Appeal, AppealEvent
from gateway.store.models import DEMO_SIGNER_KIND, Message
from gateway.store.registry import RegisteredSystem


def _base32(characters: int) -> str:
    """`characters` random RFC 4648 base32 characters (A-Z, 2-7), 5 bits each."""
    return base64.b32encode(secrets.token_bytes((characters * 5 + 7) // 8)).decode()[:characters]


def new_tracking_code() -> str:
    """20 base32 characters (100 bits) in groups of four: unguessable, and easy to read out on the phone."""
    chars = _base32(20)
    return "-".join(chars[i : i + 4] for i in range(0, 20, 4))


def new_appeal_id() -> str:
    """An appeal's id: "ap-" and 26 base32 characters in creation order (gateway.domain.ids)."""
    return sortable_id("ap-")


class ConcurrentAppend(Exception):
    """Another transaction appended to this appeal's log first: decide again from the new state."""


@dataclass(frozen=True)
class InboxNotice:
    official_id: str
    kind: str
    message_pk: int | None  # the document to act on; None: the document that made this change


@dataclass
class AppealChange:
    """What one document did to one appeal, for the receipt, the outbox and the inboxes."""

    appeal_id: str
    tracking_code: str
    event: Event
    state: lifecycle.AppealState
    due: DueDate | None
    notify_systems: tuple[str, ...]
    inbox: list[InboxNotice] = field(default_factory=list)
    origin_system: str = ""  # the citizen's system, where the appeal came from
    # A new appeal, decided but not yet written: its row and its first event's row, each without the key of
    # the Appeal document (known only once that is stored; see gateway.store.appeals.NewAppeal).
    new_rows: tuple[dict, dict] | None = None


@dataclass(frozen=True)
class IntakeData:
    applicant: dict
    officials: tuple[str, ...]
    org_unit: str | None
    topic: str | None
    subject: str


@dataclass(frozen=True)
class ActionData:
    document_type: str
    appeal_id: str
    official: str | None = None
    to: tuple[str, ...] = ()
    status: str | None = None
    new_due_date: date | None = None
    reason: str | None = None
    note: str | None = None
    stars: int | None = None


class AppealsService:
    def __init__(self, policy: DeadlinePolicy, directory: DirectoryView, router):
        self.policy = policy
        self.directory = directory
        self._route = router

    # --- intake ------------------------------------------------------------------------------------------

    def plan_intake(
        self, session: Session, data: IntakeData, *, origin: RegisteredSystem, at: datetime
    ) -> AppealChange:
        """A new appeal decided from the document and the directory alone, before anything is written.

        Nothing needs reading from the log (the appeal is new), so routing, the first event, the state and
        the due date are known before the transaction: the caller signs the receipt and the StatusUpdate
        outside it and writes `new_rows` with the document. `session` only reloads a stale directory view.
        """
        from gateway.domain.directory.routing import Addressee

        addressee = Addressee(officials=data.officials, org_unit=data.org_unit, topic=data.topic)
        try:
            assignees = self._route(addressee, self.directory.snapshot(session))
        except DomainRejection as exc:
            raise Rejection(exc.code, exc.message) from None
        appeal_id = new_appeal_id()
        appeal = {
            "id": appeal_id,
            "tracking_code": new_tracking_code(),
            "received_at": at,
            "origin_system": origin.id,
            "subject": data.subject[:500],
            "applicant": data.applicant,
            "addressee": {"officials": list(data.officials), "org_unit": data.org_unit, "topic": data.topic},
        }
        event = lifecycle.receive(assignees, origin.id, at=at)
        change = self._change(
            session,
            appeal_id,
            appeal["tracking_code"],
            origin.id,
            [event],
            [InboxNotice(o, "appeal", None) for o in assignees],
        )
        change.new_rows = (appeal, event_row(appeal_id, event, None))
        return change

    # --- the quiet period ----------------------------------------------------------------------------------

    def quiet_cutoff(self, now: datetime) -> datetime:
        """Replies before this are past the quiet period at `now`."""
        return (now - timedelta(days=self.policy.quiet_period_days)).astimezone(UTC)  # stored times are UTC

    def quiet_replies_due(
        self, session: Session, now: datetime, limit: int = 100, since: datetime | None = None
    ) -> list[tuple[str, datetime]]:
        """(appeal, reply time) of the appeals whose last event is a reply older than the quiet period: the
        gateway closes them. `since` (the caller's watermark) reads only the replies made from then on; None
        reads all of them.

        Events are only ever appended, so a reply followed by another event is never due again: the replies
        of the window come from ix_appeal_events_replies, each with one primary-key probe for a later event.
        """
        e, later = AppealEvent, aliased(AppealEvent)
        query = (
            select(e.appeal_id, e.at)
            .where(
                e.kind == literal_column(f"'{EventKind.reply_sent}'"),  # the literal of the partial index
                e.at < self.quiet_cutoff(now),
                ~exists().where(later.appeal_id == e.appeal_id, later.seq > e.seq),
            )
            .order_by(e.at)
            .limit(limit)
        )
        if since is not None:
            query = query.where(e.at >= since.astimezone(UTC))
        # SQLite hands back the stored UTC time without its zone.
        return [
            (appeal_id, at if at.tzinfo else at.replace(tzinfo=UTC))
            for appeal_id, at in session.execute(query)
        ]

    @staticmethod
    def is_demo_history(session: Session, appeal_id: str) -> bool:
        """Made up by gateway.demo.history, not received: nobody is told of its events (docs/reports.md)."""
        kind = session.scalar(
            select(Message.signer_kind)
            .join(Appeal, Appeal.message_id == Message.id)
            .where(Appeal.id == appeal_id)
        )
        return kind == DEMO_SIGNER_KIND

    def close_quietly(self, session: Session, appeal_id: str, at: datetime) -> AppealChange | None:
        """The `closed` event, written by the gateway, for an appeal replied to and not reviewed within the
        quiet period; None if it is not (or no longer) due -- a review came, or another worker closed it."""
        appeal = session.get(Appeal, appeal_id)
        if appeal is None:
            return None
        events = self.events(session, appeal_id)
        try:  # decided on what the log says: read with `now`, the closure would already be derived
            event = lifecycle.decide(
                lifecycle.fold(events), lifecycle.CloseQuietly(), at=at, actor=Actor(ActorKind.gateway),
                policy=self.policy,
            )  # fmt: skip
        except DomainRejection:
            return None
        return self._append(session, appeal, events, event, None, [])

    # --- everything after intake ---------------------------------------------------------------------------

    def act(
        self, session: Session, data: ActionData, *, sender: RegisteredSystem, message_pk: int, at: datetime
    ) -> AppealChange:
        appeal = session.get(Appeal, data.appeal_id)
        if appeal is None:
            raise Rejection("unknown-appeal", f"no appeal {data.appeal_id!r}")
        events = self.events(session, appeal.id)
        command, actor = self._command(session, data, appeal, sender)
        state = lifecycle.fold(events, now=at, policy=self.policy)
        try:
            event = lifecycle.decide(state, command, at=at, actor=actor, policy=self.policy)
        except DomainRejection as exc:
            raise Rejection(exc.code, exc.message) from None
        return self._append(
            session, appeal, events, event, message_pk, self._inbox_for(event, state, message_pk, appeal)
        )

    def _command(self, session: Session, data: ActionData, appeal: Appeal, sender: RegisteredSystem):
        kind = data.document_type
        if kind in ("AppealSupplement", "ReplyReview"):
            # The citizen speaks through the system the appeal came from, and through no other.
            if sender.id != appeal.origin_system:
                raise Rejection(
                    "signer-not-authorized",
                    f"{kind} for appeal {appeal.id} must come from {appeal.origin_system}, its origin",
                )
            actor = Actor(ActorKind.citizen, None)
            if kind == "AppealSupplement":
                return lifecycle.Supplement(), actor
            return lifecycle.Review(stars=data.stars or 0), actor
        official = data.official or ""
        self._check_served(session, official, sender)
        actor = Actor(ActorKind.official, official)
        if kind == "AppealForward":
            for target in data.to:
                if not self.directory.units_up(session, target):
                    raise Rejection("unknown-official", f"no official {target!r} to forward to")
            return lifecycle.Forward(by=official, to=tuple(data.to), reason=data.reason or ""), actor
        if kind == "AppealReply":
            return lifecycle.Reply(by=official), actor
        return lifecycle.ChangeStatus(
            by=official,
            status=data.status,
            note=data.note,
            new_due_date=data.new_due_date,
            reason=data.reason,
        ), actor

    def _check_served(self, session: Session, official_id: str, sender: RegisteredSystem) -> None:
        units_up = self.directory.units_up(session, official_id)
        if not units_up:
            raise Rejection("unknown-official", f"no official {official_id!r} in post")
        if not sender.serves.intersection(units_up):
            raise Rejection(
                "signer-not-authorized", f"{sender.id} does not serve official {official_id}'s agency"
            )

    @staticmethod
    def _inbox_for(
        event: Event, before: lifecycle.AppealState, message_pk: int, appeal: Appeal
    ) -> list[InboxNotice]:
        if event.kind == EventKind.forwarded:
            return [InboxNotice(o, "appeal", appeal.message_id) for o in event.data["to"]]
        if event.kind == EventKind.supplemented:
            return [InboxNotice(o, "supplement", message_pk) for o in before.assignees]
        if event.kind == EventKind.reviewed and before.reply_official:
            return [InboxNotice(before.reply_official, "review", message_pk)]
        if event.kind == EventKind.withdrawn and event.actor.kind == ActorKind.citizen:
            return [InboxNotice(o, "withdrawn", message_pk) for o in before.assignees]
        return []

    # --- the log -----------------------------------------------------------------------------------------

    @staticmethod
    def events(session: Session, appeal_id: str) -> list[Event]:
        rows = session.scalars(
            select(AppealEvent).where(AppealEvent.appeal_id == appeal_id).order_by(AppealEvent.seq)
        )
        return [
            Event(
                seq=r.seq,
                kind=EventKind(r.kind),
                at=r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC),
                actor=Actor(ActorKind(r.actor_kind), r.actor_id),
                data=r.data,
            )
            for r in rows
        ]

    def _append(
        self,
        session: Session,
        appeal: Appeal,
        events: list[Event],
        event: Event,
        message_pk: int | None,
        inbox: list[InboxNotice],
    ) -> AppealChange:
        # Read first: after a failed statement the object can no longer be loaded.
        appeal_id, tracking_code, origin = appeal.id, appeal.tracking_code, appeal.origin_system
        try:
            session.execute(insert(AppealEvent.__table__), event_row(appeal_id, event, message_pk))
        except IntegrityError:
            raise ConcurrentAppend(appeal_id) from None
        return self._change(session, appeal_id, tracking_code, origin, [*events, event], inbox)

    def _change(
        self,
        session: Session,
        appeal_id: str,
        tracking_code: str,
        origin_system: str,
        all_events: list[Event],
        inbox: list[InboxNotice],
    ) -> AppealChange:
        event = all_events[-1]
        state = lifecycle.fold(all_events, now=event.at, policy=self.policy)
        # The state just folded, not the events: folding them again cost as much as the rest of the due date.
        due = due_date(state, self.policy, now=event.at) if state.status not in _FINISHED else None
        systems = {origin_system} | self.directory.systems_serving(session, state.assignees)
        return AppealChange(
            appeal_id, tracking_code, event, state, due, tuple(sorted(systems)), inbox, origin_system
        )

    # --- reading -----------------------------------------------------------------------------------------

    def official_names(self, session: Session) -> Callable[[str], str]:
        return self.directory.label(session)


def event_row(appeal_id: str, event: Event, message_pk: int | None) -> dict:
    return {
        "appeal_id": appeal_id,
        "seq": event.seq,
        "kind": str(event.kind),
        "at": event.at,
        "actor_kind": str(event.actor.kind),
        "actor_id": event.actor.id,
        "data": event.to_json()["data"],
        "message_id": message_pk,
    }


_FINISHED = frozenset({"reply_sent", "closed", "withdrawn", "left_without_consideration"})
