"""Signed receipts: what the gateway answers to every submission it could read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from gateway.errors import Problem
from gateway.xml.compose import Composer, xml_time
from gateway.xml.signatures import Signer


@dataclass(frozen=True)
class AppealRouting:
    appeal_id: str
    tracking_code: str
    routed_to: tuple[str, ...]
    due_date: str


@dataclass(frozen=True)
class ReceiptFacts:
    receipt_id: str
    received_at: datetime
    submission_sha256: str
    outcome: str  # accepted | duplicate | rejected
    ref_message_id: str | None = None
    ref_sender_system: str | None = None
    sender_digests: tuple[str, ...] = ()
    errors: tuple[Problem, ...] = ()
    appeal: AppealRouting | None = None


class ReceiptIssuer:
    def __init__(self, signer: Signer, gateway_uid: str):
        self._signer = signer
        self._gateway_uid = gateway_uid

    def issue(self, facts: ReceiptFacts, now: datetime) -> bytes:
        doc = Composer("Receipt").open("Header")
        doc.leaf("MessageId", str(uuid.uuid4()))
        doc.leaf("SenderSystem", self._gateway_uid)
        doc.leaf("SentAt", xml_time(now))
        if facts.ref_message_id:
            doc.leaf("InReplyTo", facts.ref_message_id)
        doc.close().open("Body").leaf("ReceiptId", facts.receipt_id)
        if facts.ref_message_id:
            doc.leaf("RefToMessageId", facts.ref_message_id)
        if facts.ref_sender_system:
            doc.leaf("RefSenderSystem", facts.ref_sender_system)
        doc.leaf("SubmissionSha256", facts.submission_sha256)
        if facts.sender_digests:
            doc.open("SenderDigests")
            for digest in facts.sender_digests:
                doc.leaf("DigestValue", digest)
            doc.close()
        doc.leaf("ReceivedAt", xml_time(facts.received_at))
        doc.leaf("Outcome", facts.outcome)
        if facts.errors:
            doc.open("Errors")
            for problem in facts.errors:
                doc.open("Error").leaf("Code", problem.code).leaf("Message", _clip(problem.message, 2000))
                if problem.line:
                    doc.leaf("Line", str(problem.line))
                if problem.path:
                    doc.leaf("Path", _clip(problem.path, 1000))
                doc.close()
            doc.close()
        if facts.appeal:
            a = facts.appeal
            doc.open("Appeal").leaf("AppealId", a.appeal_id).leaf("TrackingCode", a.tracking_code)
            doc.open("RoutedTo")
            for official in a.routed_to:
                doc.leaf("Official", official)
            doc.close().leaf("DueDate", a.due_date).close()
        return self._signer.sign_canonical(doc.canonical())


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
