"""Signed StatusUpdate documents: what the gateway tells systems after every event of an appeal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree

from gateway.ingest.receipts import xml_time
from gateway.xml import ns
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
        root = etree.Element(ns.zv("StatusUpdate"), nsmap={None: ns.ZV})
        header = etree.SubElement(root, ns.zv("Header"))
        etree.SubElement(header, ns.zv("MessageId")).text = str(uuid.uuid4())
        etree.SubElement(header, ns.zv("SenderSystem")).text = self._gateway_uid
        etree.SubElement(header, ns.zv("SentAt")).text = xml_time(now)
        body = etree.SubElement(root, ns.zv("Body"))
        for tag, value in (
            ("AppealId", facts.appeal_id),
            ("TrackingCode", facts.tracking_code),
            ("EventSeq", str(facts.event_seq)),
            ("Event", facts.event),
            ("Status", facts.status),
            ("Text", facts.text),
        ):
            etree.SubElement(body, ns.zv(tag)).text = value
        if facts.due_date:
            etree.SubElement(body, ns.zv("DueDate")).text = facts.due_date.isoformat()
        etree.SubElement(body, ns.zv("At")).text = xml_time(facts.at)
        return self._signer.sign_bytes(root)
