"""SMDO-style cards <-> Zvarot documents. The tables below are the whole mapping (adapters/smdo/README.md
explains it at length).

Card -> Zvarot: what an agency's SMDO side submits. The result is unsigned and valid against
xsd/zvarot-1.xsd, for the caller to sign and POST.

    Letter                      -> Appeal (the addressee is the caller's: officials, or unit + topic)
    Answer                      -> AppealReply (the appeal from InReplyTo/AppealId or a registration
                                   lookup; the official from the caller or Signatory/OfficialId)
    Notice Delivered            -> None (Zvarot has no "delivered" event)
    Notice Registered           -> AppealStatusChange in_process, Note "Registered by … as No. N of D"
    Refused not-subject-to-registration
                                -> AppealStatusChange left_without_consideration, Note "Not subject …"
    Refused registration-refused
                                -> AppealStatusChange left_without_consideration, Note "Registration …"
    Refused signature-not-trusted
                                -> TransportRejection (no appeal event) with the Zvarot receipt code it
                                   means: ZvarotCode when it is a signature code, else certificate-untrusted

Zvarot -> card: what the gateway tells an SMDO-speaking system.

    Appeal                      -> Letter (the registration is the caller's, or ClientReference "<n>/<date>")
    AppealReply                 -> Answer (InReplyTo: the AppealId, plus the registration from a lookup)
    StatusUpdate received       -> Notice Delivered
    StatusUpdate forwarded, in_process
                                -> Notice Registered (number: the appeal id; date: the event's date)
    StatusUpdate left_without_consideration
                                -> Notice Refused registration-refused (reason: the update's text)
    StatusUpdate, other events  -> None (SMDO has no notice for them; a reply travels as an Answer)
    Receipt accepted, duplicate -> Notice Delivered (comment: appeal id, tracking code, due date)
    Receipt rejected            -> Notice Refused, code from REFUSAL_FOR_ERROR, ZvarotCode the first error

Identifiers are derived, not random, so converting the same input twice gives the same output: a Zvarot
MessageId is uuid5(CARD_UUID_NAMESPACE, "<card id>/<document type>") (`message_id_for`), and a card made
from a Zvarot document has CardId uuid5(CARD_UUID_NAMESPACE, "zvarot/<MessageId>"). Resubmitting a card
therefore never makes a second appeal: the gateway answers duplicate (same bytes) or duplicate-conflict.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from adapters.smdo.card import (
    Answer,
    Attachment,
    Card,
    CardError,
    CardHeader,
    Correspondent,
    Delivered,
    Letter,
    Notice,
    Organisation,
    Party,
    Person,
    Reference,
    RefusalCode,
    Refused,
    Registered,
    Registration,
    Signatory,
    xml_time,
)
from gateway.errors import Rejection
from gateway.xml import ns
from gateway.xml.schemas import AttachmentDigestMismatch, SchemaRegistry

CARD_UUID_NAMESPACE = uuid.UUID("6f1d3a52-0c4e-5b7a-9e21-7a3c5d0b8f14")
GATEWAY_UID = "zvarot-gateway"
COMMENT_MAX = 5000  # xsd/common.xsd Comment

_ID = re.compile(r"[a-z][a-z0-9\-]{1,63}")
_APPEAL_ID = re.compile(r"ap-[0-9a-z]{26}")

# Zvarot receipt error code -> the refusal it is for an SMDO sender.
SIGNATURE_CODES = frozenset(
    {
        "signature-missing",
        "signature-profile",
        "signature-invalid",
        "certificate-untrusted",
        "certificate-expired",
        "certificate-revoked",
        "revocation-unknown",
    }
)
REFUSAL_FOR_ERROR: Mapping[str, RefusalCode] = {
    **{code: RefusalCode.signature_not_trusted for code in SIGNATURE_CODES},
    # Nothing here to register it against: not addressed to anyone we know, or not a document we take.
    "unknown-type": RefusalCode.not_subject_to_registration,
    "unknown-addressee": RefusalCode.not_subject_to_registration,
    "unknown-official": RefusalCode.not_subject_to_registration,
    "unknown-appeal": RefusalCode.not_subject_to_registration,
    # The right kind of document, refused for what it is or says.
    "malformed-xml": RefusalCode.registration_refused,
    "forbidden-dtd": RefusalCode.registration_refused,
    "too-large": RefusalCode.registration_refused,
    "schema-invalid": RefusalCode.registration_refused,
    "signer-not-authorized": RefusalCode.registration_refused,
    "duplicate-conflict": RefusalCode.registration_refused,
    "invalid-transition": RefusalCode.registration_refused,
}

# StatusUpdate event -> the notice it becomes (events not listed: no card).
NOTICE_FOR_EVENT: Mapping[str, str] = {
    "received": "delivered",
    "forwarded": "registered",
    "in_process": "registered",
    "left_without_consideration": "refused",
}


class ConversionError(CardError):
    """A card or a Zvarot document that is valid but cannot be converted (a missing official, an unknown
    appeal, a document type without a counterpart)."""


@dataclass(frozen=True)
class Addressee:
    """Whom a Letter is for in Zvarot: explicit officials, or an org unit plus a topic."""

    officials: tuple[str, ...] = ()
    org_unit: str | None = None
    topic: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "officials", tuple(self.officials))
        if self.officials and (self.org_unit or self.topic):
            raise ConversionError("invalid-value", "an addressee is officials, or an org unit and a topic")
        if not self.officials and not (self.org_unit and self.topic):
            raise ConversionError("invalid-value", "an addressee needs officials, or an org unit and a topic")
        if len(self.officials) > 20:
            raise ConversionError("invalid-value", "an appeal names at most 20 officials")
        for value in (*self.officials, self.org_unit, self.topic):
            if value is not None:
                _check_id(value, "addressee")

    @classmethod
    def official(cls, *officials: str) -> Addressee:
        return cls(officials=officials)

    @classmethod
    def unit(cls, org_unit: str, topic: str) -> Addressee:
        return cls(org_unit=org_unit, topic=topic)


def by_recipient(
    mapping: Mapping[str, Addressee], default: Addressee | None = None
) -> Callable[[Card], Addressee]:
    """An addressee chosen by the card's Recipient/OrgCode (the agency it was registered at)."""

    def choose(card: Card) -> Addressee:
        code = card.header.recipient.code if card.header.recipient else None
        found = mapping.get(code or "", default)
        if found is None:
            raise ConversionError(
                "unknown-addressee", f"no Zvarot addressee is mapped for recipient {code!r}"
            )
        return found

    return choose


@dataclass(frozen=True)
class TransportRejection:
    """The recipient refused the document's signature: not an appeal event. The sender has to fix the
    signature (or the trust) and send again; `code` is the Zvarot receipt error code it corresponds to."""

    code: str
    message: str
    reference: Reference


AppealLookup = Callable[[Registration], str | None] | Mapping[Registration, str]
RegistrationLookup = Callable[[str], Registration | None] | Mapping[str, Registration]


def message_id_for(card_id: str, document_type: str) -> str:
    """The MessageId of the Zvarot document made from a card (to match receipts with cards)."""
    return str(uuid.uuid5(CARD_UUID_NAMESPACE, f"{card_id}/{document_type}"))


def card_id_for(message_id: str) -> str:
    """The CardId of the card made from a Zvarot document."""
    return str(uuid.uuid5(CARD_UUID_NAMESPACE, f"zvarot/{message_id}"))


# =============================================================================== card -> Zvarot


def to_zvarot(
    card: Card,
    *,
    addressee: Addressee | Callable[[Card], Addressee] | None = None,
    appeal_for: AppealLookup | None = None,
    official: str | None = None,
    sender_system: str | None = None,
    sent_at: datetime | None = None,
) -> etree._Element | TransportRejection | None:
    """Any card in Zvarot terms: an unsigned Appeal, AppealReply or AppealStatusChange; a TransportRejection
    for a signature refusal; None for a delivery notice."""
    if isinstance(card.content, Letter):
        if addressee is None:
            raise ConversionError(
                "missing-addressee", "a Letter needs an addressee: officials, or unit + topic"
            )
        return letter_to_appeal(card, addressee=addressee, sender_system=sender_system, sent_at=sent_at)
    if isinstance(card.content, Answer):
        return answer_to_reply(
            card, appeal_for=appeal_for, official=official, sender_system=sender_system, sent_at=sent_at
        )
    return notice_to_zvarot(
        card, appeal_for=appeal_for, official=official, sender_system=sender_system, sent_at=sent_at
    )


def letter_to_appeal(
    card: Card,
    *,
    addressee: Addressee | Callable[[Card], Addressee],
    sender_system: str | None = None,
    sent_at: datetime | None = None,
) -> etree._Element:
    """An unsigned Appeal: applicant from the correspondent, subject from the summary, the text, the
    attachments with their SHA-256, ClientReference '<registration number>/<registration date>'."""
    letter = _expect(card, Letter)
    chosen = addressee(card) if callable(addressee) else addressee
    root, body = _zvarot_document("Appeal", card, sender_system, sent_at)
    applicant = _sub(body, "Applicant")
    who = letter.correspondent.who
    if isinstance(who, Person):
        individual = _sub(applicant, "Individual")
        _sub(individual, "FamilyName", who.family_name)
        _sub(individual, "GivenName", who.given_name)
        _sub(individual, "Patronymic", who.patronymic)
    else:
        entity = _sub(applicant, "LegalEntity")
        _sub(entity, "Name", who.name)
        _sub(entity, "RegistrationNumber", who.registration_number)
    _sub(applicant, "PostalAddress", letter.correspondent.address)
    _sub(applicant, "Email", letter.correspondent.email)
    _sub(applicant, "Phone", letter.correspondent.phone)
    target = _sub(body, "Addressee")
    for official_id in chosen.officials:
        _sub(target, "Official", official_id)
    if not chosen.officials:
        _sub(target, "OrgUnit", chosen.org_unit)
        _sub(target, "Topic", chosen.topic)
    _sub(body, "Subject", letter.summary)
    _sub(body, "Text", letter.text)
    _zvarot_attachments(body, letter.attachments)
    _sub(body, "ClientReference", str(letter.registration))
    return _valid(root)


def answer_to_reply(
    card: Card,
    *,
    appeal_for: AppealLookup | None = None,
    official: str | None = None,
    sender_system: str | None = None,
    sent_at: datetime | None = None,
) -> etree._Element:
    """An unsigned AppealReply, to be signed personally by the official it names. The summary and the
    answer's own registration have no place in an AppealReply and are dropped."""
    answer = _expect(card, Answer)
    appeal_id = _appeal_id(answer.in_reply_to, appeal_for)
    official_id = _official(official, answer.signatory, "an Answer")
    root, body = _zvarot_document("AppealReply", card, sender_system, sent_at)
    _sub(body, "AppealId", appeal_id)
    _sub(body, "Official", official_id)
    _sub(body, "Text", answer.text)
    _zvarot_attachments(body, answer.attachments)
    return _valid(root)


def notice_to_zvarot(
    card: Card,
    *,
    appeal_for: AppealLookup | None = None,
    official: str | None = None,
    sender_system: str | None = None,
    sent_at: datetime | None = None,
) -> etree._Element | TransportRejection | None:
    """What a notice from an agency means for Zvarot (the table at the top of this module)."""
    notice = _expect(card, Notice)
    outcome = notice.outcome
    if isinstance(outcome, Delivered):
        return None
    if isinstance(outcome, Refused) and outcome.code == RefusalCode.signature_not_trusted:
        code = outcome.zvarot_code if outcome.zvarot_code in SIGNATURE_CODES else "certificate-untrusted"
        return TransportRejection(code, outcome.reason, notice.reference)
    agency = card.header.sender.name or card.header.sender.code
    if isinstance(outcome, Registered):
        status = "in_process"
        note = f"Registered by {agency} as {outcome.registration.label}"
    else:
        assert isinstance(outcome, Refused)
        status = "left_without_consideration"
        if outcome.code == RefusalCode.not_subject_to_registration:
            note = f"Not subject to registration at {agency}: {outcome.reason}"
        else:
            note = f"Registration refused by {agency}: {outcome.reason}"
    if notice.comment:
        note += f"\n{notice.comment}"
    appeal_id = _appeal_id(notice.reference, appeal_for)
    official_id = _official(official, notice.signatory, "a notice")
    root, body = _zvarot_document("AppealStatusChange", card, sender_system, sent_at)
    _sub(body, "AppealId", appeal_id)
    _sub(body, "Official", official_id)
    _sub(body, "NewStatus", status)
    _sub(body, "Note", _clip(note))
    return _valid(root)


def _expect(card: Card, kind: type):
    if not isinstance(card.content, kind):
        raise ConversionError(
            "wrong-card", f"expected a {kind.__name__} card, got a {type(card.content).__name__}"
        )
    return card.content


def _check_id(value: str, what: str, pattern: re.Pattern = _ID) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ConversionError("invalid-value", f"{what} {value!r} is not a Zvarot id ({pattern.pattern})")
    return value


def _lookup(table, key):
    return table.get(key) if isinstance(table, Mapping) else table(key)


def _appeal_id(reference: Reference, appeal_for: AppealLookup | None) -> str:
    if reference.appeal_id:
        return reference.appeal_id
    if reference.registration is None:
        raise ConversionError("unknown-appeal", "the card names neither an AppealId nor a registration")
    if appeal_for is None:
        raise ConversionError(
            "unknown-appeal",
            f"the card names registration {reference.registration.label} but no AppealId, and no lookup "
            "was given",
        )
    found = _lookup(appeal_for, reference.registration)
    if not found:
        raise ConversionError(
            "unknown-appeal", f"no appeal is known for registration {reference.registration.label}"
        )
    return _check_id(found, "the looked-up appeal id", _APPEAL_ID)


def _official(explicit: str | None, signatory: Signatory | None, what: str) -> str:
    official = explicit or (signatory.official_id if signatory else None)
    if not official:
        raise ConversionError(
            "missing-official",
            f"{what} needs a Zvarot official: give one, or a Signatory/OfficialId in the card",
        )
    return _check_id(official, "official")


def _zvarot_document(
    document_type: str, card: Card, sender_system: str | None, sent_at: datetime | None
) -> tuple[etree._Element, etree._Element]:
    sender = sender_system or card.header.sender.code
    if not _ID.fullmatch(sender):
        raise ConversionError(
            "invalid-value",
            f"the card's sender {sender!r} is not a Zvarot system id; give the system that submits it",
        )
    root = etree.Element(ns.zv(document_type), nsmap={None: ns.ZV})
    header = _sub(root, "Header")
    _sub(header, "MessageId", message_id_for(card.header.card_id, document_type))
    _sub(header, "SenderSystem", sender)
    _sub(header, "SentAt", xml_time(sent_at or card.header.created_at))
    return root, _sub(root, "Body")


def _sub(parent: etree._Element, local: str, text: str | None = "") -> etree._Element | None:
    if text is None:
        return None
    el = etree.SubElement(parent, ns.zv(local))
    if text:
        el.text = text
    return el


def _zvarot_attachments(body: etree._Element, attachments: tuple[Attachment, ...]) -> None:
    if not attachments:
        return
    holder = _sub(body, "Attachments")
    for attachment in attachments:
        item = _sub(holder, "Attachment")
        _sub(item, "Name", attachment.name)
        _sub(item, "MediaType", attachment.media_type)
        _sub(item, "Sha256", attachment.sha256)
        _sub(item, "Content", base64.encodebytes(attachment.content).decode("ascii").strip())


def _clip(text: str, limit: int = COMMENT_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@functools.cache
def _zvarot_schema() -> SchemaRegistry:
    return SchemaRegistry()  # xsd/zvarot-1.xsd, compiled once


def _valid(root: etree._Element) -> etree._Element:
    try:
        _zvarot_schema().validate(root)
    except Rejection as exc:
        raise ConversionError(
            "schema-invalid",
            f"the {etree.QName(root).localname} made from the card is not valid: {exc.message}",
        ) from None
    return root


# =============================================================================== Zvarot -> card


def from_zvarot(
    root: etree._Element,
    *,
    registration: Registration | None = None,
    registration_of: RegistrationLookup | None = None,
    ref_card_id: str | None = None,
    sender: Party | None = None,
    recipient: Party | None = None,
) -> Card | None:
    """The card for a Zvarot Appeal, AppealReply, StatusUpdate or Receipt (None: no counterpart). Give the
    signed content a verifier returned, not a document whose signature nobody checked."""
    kind = _zvarot_type(root)
    if kind == "Appeal":
        return appeal_to_card(root, registration=registration, sender=sender, recipient=recipient)
    if kind == "AppealReply":
        return reply_to_card(
            root,
            registration=registration,
            registration_of=registration_of,
            sender=sender,
            recipient=recipient,
        )
    if kind == "StatusUpdate":
        return status_update_to_card(
            root, registration_of=registration_of, sender=sender, recipient=recipient
        )
    if kind == "Receipt":
        return receipt_to_card(root, ref_card_id=ref_card_id, sender=sender, recipient=recipient)
    raise ConversionError(
        "unsupported-document",
        f"a {kind} has no SMDO card; Appeal, AppealReply, StatusUpdate and Receipt have",
    )


class _Doc:
    """A Zvarot document's fields, read after checking it against xsd/zvarot-1.xsd."""

    def __init__(self, root: etree._Element, expected: str):
        kind = _zvarot_type(root)
        if kind != expected:
            raise ConversionError("wrong-document", f"expected a {expected}, got a {kind}")
        root = copy.deepcopy(root)
        # Read what the validator saw: text without comments and processing instructions.
        etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)
        try:
            _zvarot_schema().validate(root)  # attachments' digests included
        except AttachmentDigestMismatch as exc:
            raise ConversionError("attachment-digest", exc.message) from None
        except Rejection as exc:
            raise ConversionError(
                "schema-invalid", f"the {kind} is not valid Zvarot 1: {exc.message}"
            ) from None
        self.root = root
        self.body = root.find("zv:Body", ns.NSMAP)

    def text(self, path: str, base: etree._Element | None = None) -> str | None:
        el = (self.body if base is None else base).find(path, ns.NSMAP)
        return None if el is None else (el.text or "")

    def token(self, path: str, base: etree._Element | None = None) -> str | None:
        text = self.text(path, base)
        return None if text is None else " ".join(text.split())

    def header(self, field: str) -> str | None:
        return self.text(f"zv:Header/zv:{field}", self.root)

    def moment(self, path: str, base: etree._Element | None = None) -> datetime:
        return _parse_time(self.text(path, base) or "")

    def card_header(self, sender: Party | None, recipient: Party | None) -> CardHeader:
        message_id = self.header("MessageId") or ""
        return CardHeader(
            card_id=card_id_for(message_id),
            created_at=_parse_time(self.header("SentAt") or ""),
            sender=sender or Party(self.header("SenderSystem") or GATEWAY_UID),
            recipient=recipient,
        )

    def attachments(self) -> tuple[Attachment, ...]:
        out = []
        for index, item in enumerate(self.body.findall("zv:Attachments/zv:Attachment", ns.NSMAP), start=1):
            name = self.text("zv:Name", item) or ""
            try:
                content = base64.b64decode(
                    "".join((self.text("zv:Content", item) or "").split()), validate=True
                )
            except (binascii.Error, ValueError):
                raise ConversionError("schema-invalid", f"attachment {index} ({name}): not base64") from None
            out.append(Attachment(name, self.text("zv:MediaType", item) or "", content))
        return tuple(out)


def _zvarot_type(root: etree._Element) -> str:
    if not isinstance(root.tag, str):
        raise ConversionError("unsupported-document", "not an element")
    qname = etree.QName(root)
    if qname.namespace != ns.ZV:
        raise ConversionError(
            "unsupported-document",
            f"{{{qname.namespace}}}{qname.localname} is not a Zvarot document ({ns.ZV})",
        )
    return qname.localname


def _parse_time(text: str) -> datetime:
    text = text.strip()
    # Zvarot allows nanoseconds; Python and the card keep microseconds.
    match = re.fullmatch(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)", text)
    if match and match.group(2) and len(match.group(2)) > 6:
        text = f"{match.group(1)}.{match.group(2)[:6]}{match.group(3)}"
    return datetime.fromisoformat(text)


def appeal_to_card(
    root: etree._Element,
    *,
    registration: Registration | None = None,
    sender: Party | None = None,
    recipient: Party | None = None,
) -> Card:
    """A Letter for an Appeal. The registration is the caller's, or read back from a ClientReference of the
    form '<number>/<YYYY-MM-DD>' (what letter_to_appeal writes). The Zvarot addressee has no card field."""
    doc = _Doc(root, "Appeal")
    if registration is None:
        reference = doc.text("zv:ClientReference")
        if reference is None:
            raise ConversionError(
                "missing-registration", "the Appeal has no ClientReference; give the letter's registration"
            )
        try:
            registration = Registration.parse(reference)
        except CardError:
            raise ConversionError(
                "missing-registration",
                f"ClientReference {reference!r} is not '<number>/<YYYY-MM-DD>'; "
                "give the letter's registration",
            ) from None
    applicant = doc.body.find("zv:Applicant", ns.NSMAP)
    individual = applicant.find("zv:Individual", ns.NSMAP)
    if individual is not None:
        who: Person | Organisation = Person(
            doc.token("zv:FamilyName", individual) or "",
            doc.token("zv:GivenName", individual) or "",
            doc.token("zv:Patronymic", individual),
        )
    else:
        entity = applicant.find("zv:LegalEntity", ns.NSMAP)
        who = Organisation(
            doc.token("zv:Name", entity) or "", doc.token("zv:RegistrationNumber", entity) or ""
        )
    letter = Letter(
        registration=registration,
        correspondent=Correspondent(
            who,
            doc.text("zv:PostalAddress", applicant) or "",
            doc.text("zv:Email", applicant),
            doc.text("zv:Phone", applicant),
        ),
        summary=doc.token("zv:Subject") or "",
        text=doc.text("zv:Text") or "",
        attachments=doc.attachments(),
    )
    return Card(doc.card_header(sender, recipient), letter)


def reply_to_card(
    root: etree._Element,
    *,
    registration: Registration | None = None,
    registration_of: RegistrationLookup | None = None,
    signatory: Signatory | None = None,
    summary: str | None = None,
    sender: Party | None = None,
    recipient: Party | None = None,
) -> Card:
    """An Answer for an AppealReply. Its own registration is the caller's, else the reply's MessageId and
    date; InReplyTo carries the AppealId and, with `registration_of`, the letter's registration."""
    doc = _Doc(root, "AppealReply")
    appeal_id = doc.text("zv:AppealId") or ""
    official = doc.text("zv:Official") or ""
    if registration is None:
        registration = Registration(
            doc.header("MessageId") or "", _parse_time(doc.header("SentAt") or "").date()
        )
    answer = Answer(
        registration=registration,
        in_reply_to=Reference(
            registration=_lookup(registration_of, appeal_id) if registration_of else None, appeal_id=appeal_id
        ),
        signatory=signatory or Signatory(official_id=official),
        summary=summary or f"Reply to appeal {appeal_id}",
        text=doc.text("zv:Text") or "",
        attachments=doc.attachments(),
    )
    return Card(doc.card_header(sender, recipient), answer)


def status_update_to_card(
    root: etree._Element,
    *,
    registration_of: RegistrationLookup | None = None,
    sender: Party | None = None,
    recipient: Party | None = None,
) -> Card | None:
    """A notice for a StatusUpdate (NOTICE_FOR_EVENT), or None for events SMDO has no notice for."""
    doc = _Doc(root, "StatusUpdate")
    event = doc.text("zv:Event") or ""
    kind = NOTICE_FOR_EVENT.get(event)
    if kind is None:
        return None
    appeal_id = doc.text("zv:AppealId") or ""
    at = doc.moment("zv:At")
    text = doc.text("zv:Text") or ""
    outcome: Delivered | Registered | Refused
    if kind == "delivered":
        outcome = Delivered()
    elif kind == "registered":
        outcome = Registered(Registration(appeal_id, at.date()))
    else:
        outcome = Refused(RefusalCode.registration_refused, text)
    due = doc.text("zv:DueDate")
    comment = text if kind != "refused" else None
    if due and comment is not None:
        comment += f" (due {due})"
    notice = Notice(
        reference=Reference(
            registration=_lookup(registration_of, appeal_id) if registration_of else None, appeal_id=appeal_id
        ),
        at=at,
        outcome=outcome,
        comment=comment,
    )
    return Card(doc.card_header(sender, recipient), notice)


def receipt_to_card(
    root: etree._Element,
    *,
    ref_card_id: str | None = None,
    sender: Party | None = None,
    recipient: Party | None = None,
) -> Card:
    """A notice for a Receipt: Delivered when accepted (or a duplicate), Refused with the code of
    REFUSAL_FOR_ERROR when rejected. The reference is the submission's MessageId and SHA-256 (and
    `ref_card_id`, the card it was made from, when the caller knows it)."""
    doc = _Doc(root, "Receipt")
    appeal_id = doc.text("zv:Appeal/zv:AppealId")
    reference = Reference(
        card_id=ref_card_id,
        appeal_id=appeal_id,
        message_id=doc.text("zv:RefToMessageId"),
        submission_sha256=doc.text("zv:SubmissionSha256"),
    )
    outcome: Delivered | Refused
    if doc.text("zv:Outcome") == "rejected":
        errors = [
            (doc.text("zv:Code", e) or "", doc.text("zv:Message", e) or "")
            for e in doc.body.findall("zv:Errors/zv:Error", ns.NSMAP)
        ]
        code, message = errors[0] if errors else ("schema-invalid", "rejected without an error")
        outcome = Refused(REFUSAL_FOR_ERROR[code], _clip(message), code)
        comment = _clip("\n".join(f"{c}: {m}" for c, m in errors[1:])) if len(errors) > 1 else None
    else:
        outcome = Delivered()
        comment = "Accepted by Zvarot" + (
            f" as appeal {appeal_id}, tracking code {doc.text('zv:Appeal/zv:TrackingCode')}, "
            f"due {doc.text('zv:Appeal/zv:DueDate')}"
            if appeal_id
            else ""
        )
        if doc.text("zv:Outcome") == "duplicate":
            comment += " (a repeat of a document it already had)"
    if recipient is None and (ref_sender := doc.text("zv:RefSenderSystem")):
        recipient = Party(ref_sender)
    notice = Notice(reference=reference, at=doc.moment("zv:ReceivedAt"), outcome=outcome, comment=comment)
    return Card(doc.card_header(sender, recipient), notice)
