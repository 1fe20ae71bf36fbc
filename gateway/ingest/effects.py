"""What an accepted document does beyond being kept, applied inside the transaction that stores the document:
the document types that change appeals (then published as signed StatusUpdates), the directory, and work
reports with their reviews."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from gateway.directory.service import apply_directory_update, check_scope
from gateway.domain.appeals.lifecycle import status_text
from gateway.ingest.appeal_documents import read_action, read_appeal
from gateway.ingest.directory_xml import read_directory_update
from gateway.ingest.receipts import AppealRouting
from gateway.ingest.report_documents import read_report_review, read_work_report
from gateway.ingest.status_updates import StatusFacts, StatusUpdateIssuer
from gateway.services.appeals import AppealChange, AppealsService
from gateway.services.reports import ReportsService
from gateway.store.appeals import InboxItem, NewAppeal, OutboxMessage
from gateway.store.directory import System
from gateway.store.registry import RegisteredSystem

# (session, signed root, sender, stored document's key, received at) -> the change, if any
Effect = Callable[[Session, etree._Element, RegisteredSystem, int, datetime], AppealChange | None]

# After these commit, this process's cached view of who may sign for whom is out of date.
CHANGES_DIRECTORY = frozenset({"DirectoryUpdate"})
# Decided before the transaction and written with the document (DocumentEffects.plan_intake).
PLANNED = frozenset({"Appeal"})
APPEAL_ACTIONS = ("AppealForward", "AppealStatusChange", "AppealSupplement", "AppealReply", "ReplyReview")


@dataclass(frozen=True)
class PlannedIntake:
    """A new appeal, decided and its StatusUpdate signed: `routing` for the receipt, `rows` to store with the
    Appeal document."""

    change: AppealChange
    rows: NewAppeal

    @property
    def routing(self) -> AppealRouting:
        return DocumentEffects.routing(self.change)


# The officials' documents about an appeal whose words are for the citizen: forwarded as they were signed.
FOR_THE_CITIZEN = frozenset({"AppealReply", "AppealStatusChange"})


@dataclass(frozen=True)
class SourceDocument:
    """The accepted document that caused an event, as received."""

    document_type: str
    document: bytes
    sender_system: str


def _forwards_documents(session: Session, system_id: str) -> bool:
    """Whether the system opted in to the officials' own documents (systems.forward_documents)."""
    return bool(session.scalar(select(System.forward_documents).where(System.id == system_id)))


class DocumentEffects:
    def __init__(
        self,
        appeals: AppealsService,
        status_updates: StatusUpdateIssuer,
        reports: ReportsService | None = None,
    ):
        self.appeals = appeals
        self.status_updates = status_updates
        self.reports = reports
        self._effects: dict[str, Effect] = {"DirectoryUpdate": self._directory}
        for document_type in APPEAL_ACTIONS:
            self._effects[document_type] = self._action(document_type)
        if reports is not None:
            self._effects["WorkReport"] = self._work_report
            self._effects["ReportReview"] = self._report_review

    def for_type(self, document_type: str) -> Effect | None:
        return self._effects.get(document_type)

    def plan_intake(self, session: Session, root: etree._Element, sender: RegisteredSystem, at: datetime):
        """An Appeal, decided and its StatusUpdate signed before the transaction (nothing to read first), so
        that the write lock is held only for the INSERTs."""
        change = self.appeals.plan_intake(session, read_appeal(root), origin=sender, at=at)
        appeal, first_event = change.new_rows
        status_updates, inbox = self._status_rows(session, change, at)
        return PlannedIntake(change, NewAppeal(appeal, first_event, tuple(status_updates), tuple(inbox)))

    @staticmethod
    def _directory(session, root, sender, message_pk, at) -> None:
        update = read_directory_update(root)
        check_scope(session, update, sender.serves, sender.id)
        apply_directory_update(session, update)
        return None

    def _work_report(self, session, root, sender, message_pk, at) -> None:
        # Authorization has checked that the official it names signed it personally and that `sender`
        # serves their agency. The receipt needs nothing more: the report's id is in the public API.
        self.reports.record_report(session, read_work_report(root), message_pk=message_pk, at=at)
        return None

    def _report_review(self, session, root, sender, message_pk, at) -> None:
        self.reports.record_review(
            session, read_report_review(root), sender=sender, message_pk=message_pk, at=at
        )
        return None

    def _action(self, document_type: str) -> Effect:
        def apply(session, root, sender, message_pk, at) -> AppealChange:
            return self.appeals.act(
                session, read_action(document_type, root), sender=sender, message_pk=message_pk, at=at
            )

        return apply

    @staticmethod
    def routing(change: AppealChange | None) -> AppealRouting | None:
        """For the receipt of an Appeal: where it went and when the reply is due."""
        if change is None or change.event.seq != 1:
            return None
        return AppealRouting(
            change.appeal_id,
            change.tracking_code,
            tuple(change.state.assignees),
            change.due.date.isoformat(),
        )

    def publish(
        self, session: Session, change: AppealChange, now: datetime, source: SourceDocument | None = None
    ) -> None:
        """One signed StatusUpdate per event, queued for every system concerned; inbox items for officials.
        An official's own document (`source`: a reply, a status change with its note) also goes, byte for
        byte with its signature, to the citizen's system: what the citizen is told is what the official
        signed, and nobody else's words."""
        status_updates, inbox = self._status_rows(session, change, now)
        if (
            source is not None
            and source.document_type in FOR_THE_CITIZEN
            and change.origin_system not in ("", source.sender_system)  # not back to where it came from
            and _forwards_documents(session, change.origin_system)
        ):
            status_updates.append(
                {
                    **status_updates[0],
                    "recipient_system": change.origin_system,
                    "document_type": source.document_type,
                    "document": source.document,
                }
            )
        # Core INSERTs: these rows are written and never read back in this transaction (ORM flushes cost more
        # than the rest of an appeal's storage).
        outbox_ids = [
            session.execute(
                insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id), row
            ).scalar_one()
            for row in status_updates
        ]
        if inbox:
            first = min(outbox_ids) if outbox_ids else None
            rows = [{**row, "status_update_id": first} for row in inbox]
            session.execute(insert(InboxItem.__table__), rows)

    def _status_rows(
        self, session: Session, change: AppealChange, now: datetime
    ) -> tuple[list[dict], list[dict]]:
        """The event's StatusUpdate, signed, as outbox rows (one per system concerned), and inbox rows."""
        event, state = change.event, change.state
        document = self.status_updates.issue(
            StatusFacts(
                appeal_id=change.appeal_id,
                tracking_code=change.tracking_code,
                event_seq=event.seq,
                event=str(event.kind),
                status=str(state.status),
                text=status_text(event, self.appeals.official_names(session)),
                due_date=change.due.date if change.due else None,
                at=event.at,
            ),
            now,
        )
        status_updates = [
            {
                "recipient_system": system,
                "appeal_id": change.appeal_id,
                "event_seq": event.seq,
                "document_type": "StatusUpdate",
                "document": document,
                "created_at": now,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
            }
            for system in change.notify_systems
        ]
        inbox = [
            {
                "official_id": notice.official_id,
                "appeal_id": change.appeal_id,
                "event_seq": event.seq,
                "kind": notice.kind,
                "message_id": notice.message_pk,
                "created_at": now,
            }
            for notice in change.inbox
        ]
        return status_updates, inbox
