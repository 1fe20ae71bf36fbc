"""Signed receipts: what the gateway answers to every submission it could read."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from gateway.errors import Problem
from gateway.xml import ns
from gateway.xml.signatures import Signer

_B32 = "abcdefghijklmnopqrstuvwxyz234567"


def new_id(prefix: str) -> str:
    """An unguessable id: prefix + 26 base32 characters (130 bits)."""
    value = int.from_bytes(secrets.token_bytes(17), "big") >> 6
    chars = []
    for _ in range(26):
        value, index = divmod(value, 32)
        chars.append(_B32[index])
    return prefix + "".join(chars)


def xml_time(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
        E = _Maker()
        header = E(
            "Header",
            E("MessageId", str(uuid.uuid4())),
            E("SenderSystem", self._gateway_uid),
            E("SentAt", xml_time(now)),
        )
        if facts.ref_message_id:
            header.append(E("InReplyTo", facts.ref_message_id))
        body = E("Body", E("ReceiptId", facts.receipt_id))
        if facts.ref_message_id:
            body.append(E("RefToMessageId", facts.ref_message_id))
        if facts.ref_sender_system:
            body.append(E("RefSenderSystem", facts.ref_sender_system))
        body.append(E("SubmissionSha256", facts.submission_sha256))
        if facts.sender_digests:
            body.append(E("SenderDigests", *(E("DigestValue", d) for d in facts.sender_digests)))
        body.append(E("ReceivedAt", xml_time(facts.received_at)))
        body.append(E("Outcome", facts.outcome))
        if facts.errors:
            errors = E("Errors")
            for problem in facts.errors:
                error = E("Error", E("Code", problem.code), E("Message", _clip(problem.message, 2000)))
                if problem.line:
                    error.append(E("Line", str(problem.line)))
                if problem.path:
                    error.append(E("Path", _clip(problem.path, 1000)))
                errors.append(error)
            body.append(errors)
        if facts.appeal:
            a = facts.appeal
            body.append(
                E(
                    "Appeal",
                    E("AppealId", a.appeal_id),
                    E("TrackingCode", a.tracking_code),
                    E("RoutedTo", *(E("Official", o) for o in a.routed_to)),
                    E("DueDate", a.due_date),
                )
            )
        root = E("Receipt", header, body)
        return self._signer.sign_bytes(root)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Maker:
    def __call__(self, tag: str, *children, **_):
        el = etree.Element(ns.zv(tag), nsmap={None: ns.ZV})
        for child in children:
            if isinstance(child, str):
                el.text = child
            else:
                el.append(child)
        return el
