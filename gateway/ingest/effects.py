"""What an accepted document does beyond being kept, applied inside the transaction that stores the document:
the document types that change appeals (then published as signed StatusUpdates), the directory, and work
reports with their reviews."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from lxml import etree
from sqlalchemy import insert
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
from gateway.store.appeals import InboxItem, OutboxMessage
from gateway.store.registry import RegisteredSystem

# (session, signed root, sender, stored document's key, received at) -> the change, if any
Effect = Callable[[Session, etree._Element, RegisteredSystem, int, datetime], AppealChange | None]

# After these commit, this process's cached view of who may sign for whom is out of date.
CHANGES_DIRECTORY = frozenset({"DirectoryUpdate"})
APPEAL_ACTIONS = ("AppealForward", "AppealStatusChange", "AppealSupplement", "AppealReply", "ReplyReview")


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
        self._effects: dict[str, Effect] = {"Appeal": self._intake, "DirectoryUpdate": self._directory}
        for document_type in APPEAL_ACTIONS:
            self._effects[document_type] = self._action(document_type)
        if reports is not None:
            self._effects["WorkReport"] = self._work_report
            self._effects["ReportReview"] = self._report_review

    def for_type(self, document_type: str) -> Effect | None:
        return self._effects.get(document_type)

    def _intake(self, session, root, sender, message_pk, at) -> AppealChange:
        return self.appeals.intake(session, read_appeal(root), origin=sender, message_pk=message_pk, at=at)

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
            change.appeal.id,
            change.appeal.tracking_code,
            tuple(change.state.assignees),
            change.due.date.isoformat(),
        )

    def publish(self, session: Session, change: AppealChange, now: datetime) -> None:
        """One signed StatusUpdate per event, queued for every system concerned; inbox items for officials."""
        event, state = change.event, change.state
        document = self.status_updates.issue(
            StatusFacts(
                appeal_id=change.appeal.id,
                tracking_code=change.appeal.tracking_code,
                event_seq=event.seq,
                event=str(event.kind),
                status=str(state.status),
                text=status_text(event, self.appeals.official_names(session)),
                due_date=change.due.date if change.due else None,
                at=event.at,
            ),
            now,
        )
        # Core INSERTs: these rows are written and never read back in this transaction (ORM flushes cost more
        # than the rest of an appeal's storage).
        outbox_ids = session.scalars(
            insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id),
            [
                {
                    "recipient_system": system,
                    "appeal_id": change.appeal.id,
                    "event_seq": event.seq,
                    "document_type": "StatusUpdate",
                    "document": document,
                    "created_at": now,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                }
                for system in change.notify_systems
            ],
        ).all()
        if change.inbox:
            session.execute(
                insert(InboxItem.__table__),
                [
                    {
                        "official_id": notice.official_id,
                        "appeal_id": change.appeal.id,
                        "event_seq": event.seq,
                        "kind": notice.kind,
                        "message_id": notice.message_pk,
                        "status_update_id": min(outbox_ids) if outbox_ids else None,
                        "created_at": now,
                    }
                    for notice in change.inbox
                ],
            )
