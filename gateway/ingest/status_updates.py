"""Signed StatusUpdate documents: what the gateway tells systems after every event of an appeal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from gateway.xml.compose import Composer, xml_time
from gateway.xml.signatures import Signer


@dataclass(frozen=True)
class StatusFacts:
    appeal_id: str
    tracking_code: str
    event_seq: int
    event: str
    status: str
    text: str
    due_date: date | None
    at: datetime


class StatusUpdateIssuer:
    def __init__(self, signer: Signer, gateway_uid: str):
        self._signer = signer
        self._gateway_uid = gateway_uid

    def issue(self, facts: StatusFacts, now: datetime) -> bytes:
        doc = Composer("StatusUpdate").open("Header")
        doc.leaf("MessageId", str(uuid.uuid4()))
        doc.leaf("SenderSystem", self._gateway_uid)
        doc.leaf("SentAt", xml_time(now))
        doc.close().open("Body")
        doc.leaf("AppealId", facts.appeal_id)
        doc.leaf("TrackingCode", facts.tracking_code)
        doc.leaf("EventSeq", str(facts.event_seq))
        doc.leaf("Event", facts.event)
        doc.leaf("Status", facts.status)
        doc.leaf("Text", facts.text)
        if facts.due_date:
            doc.leaf("DueDate", facts.due_date.isoformat())
        doc.leaf("At", xml_time(facts.at))
        return self._signer.sign_canonical(doc.canonical())
