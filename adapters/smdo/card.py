"""SMDO-style document cards (namespace `urn:zvarot:smdo-card:1`): dataclasses, reading and writing.

SMDO-style, not the official SMDO format (we do not have it): our own card that carries the facts an SMDO
document card and its service notices carry. The format, field by field, is in adapters/smdo/README.md and
card.xsd.

    card = read_card(data)   # hardened parse (gateway.xml.parsing), comments dropped, card.xsd, dataclasses
    data = write_card(card)  # dataclasses -> XML, checked against card.xsd before it is returned

Whatever is wrong raises CardError with a code (malformed-xml, forbidden-dtd, too-large, not-a-card,
schema-invalid, attachment-digest, invalid-value) and a message that names the field.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path

from lxml import etree

from gateway.errors import Rejection
from gateway.xml.parsing import ParseLimits, parse_document

NS = "urn:zvarot:smdo-card:1"
XSD_PATH = Path(__file__).resolve().with_name("card.xsd")


class CardError(Exception):
    """A card that cannot be read, written or converted; `code` names the cause, the message the field."""

    def __init__(self, code: str, message: str, *, line: int | None = None, path: str | None = None):
        self.code = code
        self.message = message
        self.line = line
        self.path = path
        where = f" (line {line})" if line else (f" (at {path})" if path else "")
        super().__init__(f"{code}: {message}{where}")


# --- the card as data ---------------------------------------------------------------------------------------


class RefusalCode(StrEnum):
    not_subject_to_registration = "not-subject-to-registration"
    registration_refused = "registration-refused"
    signature_not_trusted = "signature-not-trusted"


@dataclass(frozen=True)
class Party:
    """An SMDO participant: its code and, for people, its name."""

    code: str
    name: str | None = None


@dataclass(frozen=True)
class Registration:
    """A registration number and date (входящий / исходящий номер и дата)."""

    number: str
    date: date

    def __str__(self) -> str:
        return f"{self.number}/{self.date.isoformat()}"  # also the Zvarot ClientReference

    @property
    def label(self) -> str:
        return f"No. {self.number} of {self.date.isoformat()}"

    @classmethod
    def parse(cls, text: str) -> Registration:
        """'<number>/<YYYY-MM-DD>' (the number may itself contain '/')."""
        number, sep, day = text.rpartition("/")
        try:
            if not sep or not number.strip():
                raise ValueError
            return cls(number.strip(), date.fromisoformat(day.strip()))
        except ValueError:
            raise CardError(
                "invalid-value", f"{text!r} is not '<registration number>/<YYYY-MM-DD>'"
            ) from None


@dataclass(frozen=True)
class CardHeader:
    card_id: str
    created_at: datetime
    sender: Party
    recipient: Party | None = None

    @classmethod
    def new(cls, sender: Party, recipient: Party | None = None, *, card_id: str | None = None) -> CardHeader:
        return cls(card_id or str(uuid.uuid4()), datetime.now(UTC), sender, recipient)


@dataclass(frozen=True)
class Person:
    family_name: str
    given_name: str
    patronymic: str | None = None


@dataclass(frozen=True)
class Organisation:
    name: str
    registration_number: str  # УНП


@dataclass(frozen=True)
class Correspondent:
    who: Person | Organisation
    address: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Attachment:
    name: str
    media_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Reference:
    """What a card refers to, by every identifier its writer knows (at least one)."""

    card_id: str | None = None
    registration: Registration | None = None
    appeal_id: str | None = None
    message_id: str | None = None
    submission_sha256: str | None = None

    def __post_init__(self) -> None:
        if not any(
            (self.card_id, self.registration, self.appeal_id, self.message_id, self.submission_sha256)
        ):
            raise CardError("invalid-value", "a reference needs at least one identifier")


@dataclass(frozen=True)
class Signatory:
    official_id: str | None = None  # a Zvarot official id
    name: str | None = None
    position: str | None = None

    def __post_init__(self) -> None:
        if not (self.official_id or self.name):
            raise CardError("invalid-value", "a signatory needs an official id or a name")


@dataclass(frozen=True)
class Letter:
    """An incoming letter from a citizen or an organisation, registered at the sending agency."""

    registration: Registration
    correspondent: Correspondent
    summary: str
    text: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Answer:
    """An agency's outgoing answer to a registered letter."""

    registration: Registration
    in_reply_to: Reference
    signatory: Signatory
    summary: str
    text: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Delivered:
    """Доставлено."""


@dataclass(frozen=True)
class Registered:
    """Зарегистрирован, under the recipient's registration number and date."""

    registration: Registration


@dataclass(frozen=True)
class Refused:
    code: RefusalCode
    reason: str
    zvarot_code: str | None = None  # the Zvarot receipt error code behind it, when known


@dataclass(frozen=True)
class Notice:
    reference: Reference
    at: datetime
    outcome: Delivered | Registered | Refused
    signatory: Signatory | None = None
    comment: str | None = None


@dataclass(frozen=True)
class Card:
    header: CardHeader
    content: Letter | Answer | Notice

    @property
    def kind(self) -> str:
        return type(self.content).__name__.lower()  # letter | answer | notice


# --- the schema ---------------------------------------------------------------------------------------------


class _CardSchema:
    """card.xsd parsed once; lxml schema objects are not thread-safe, so each thread compiles its own copy."""

    def __init__(self, path: Path = XSD_PATH):
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        self._document = etree.parse(str(path), parser)
        self._local = threading.local()
        self.schema()  # a broken schema fails at import, not on the first card

    def schema(self) -> etree.XMLSchema:
        schema = getattr(self._local, "schema", None)
        if schema is None:
            schema = self._local.schema = etree.XMLSchema(self._document)
        return schema


_SCHEMA = _CardSchema()


def validate_card(root: etree._Element) -> None:
    """Check an element against card.xsd; CardError('schema-invalid') names the first problem."""
    schema = _SCHEMA.schema()
    if schema.validate(root):
        return
    first = schema.error_log[0]
    more = len(schema.error_log) - 1
    message = first.message + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")
    raise CardError("schema-invalid", message, line=first.line or None, path=first.path or None)


# --- reading ------------------------------------------------------------------------------------------------


def _q(local: str) -> str:
    return f"{{{NS}}}{local}"


def read_card(data: bytes, limits: ParseLimits = ParseLimits()) -> Card:
    """Parse untrusted bytes into a Card (DOCTYPEs, entities, oversize and deep nesting are refused)."""
    try:
        # card_from_element drops processing instructions, as the card schema ignores them
        root = parse_document(data, replace(limits, allow_processing_instructions=True))
    except Rejection as exc:
        raise CardError(exc.code, exc.message, line=exc.problems[0].line) from None
    return card_from_element(root)


def card_from_element(root: etree._Element) -> Card:
    if not isinstance(root.tag, str) or root.tag != _q("Card"):
        found = etree.QName(root).text if isinstance(root.tag, str) else repr(root)
        raise CardError("not-a-card", f"expected {{{NS}}}Card as the root element, found {found}")
    # What the schema validates ignores comments and processing instructions; so must what we read.
    if root.xpath("boolean(//comment() | //processing-instruction())"):
        root = copy.deepcopy(root)  # the caller's tree stays as it was
        etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)
    validate_card(root)
    header = root.find(_q("Header"))
    content_el = header.getnext()
    name = etree.QName(content_el).localname
    reader = {"Letter": _read_letter, "Answer": _read_answer, "Notice": _read_notice}[name]
    return Card(_read_header(header), reader(content_el))


def _child(parent: etree._Element, local: str) -> etree._Element | None:
    return parent.find(_q(local))


def _raw(parent: etree._Element, local: str) -> str | None:
    el = _child(parent, local)
    return None if el is None else (el.text or "")


def _token(parent: etree._Element, local: str) -> str | None:
    """An xs:token value as the validator saw it: whitespace collapsed."""
    text = _raw(parent, local)
    return None if text is None else " ".join(text.split())


def _required(value: str | None) -> str:
    assert value is not None  # the schema has checked it is there
    return value


def _read_time(text: str) -> datetime:
    return datetime.fromisoformat(text.strip())


def _read_header(el: etree._Element) -> CardHeader:
    recipient = _child(el, "Recipient")
    return CardHeader(
        card_id=_required(_raw(el, "CardId")),
        created_at=_read_time(_required(_raw(el, "CreatedAt"))),
        sender=_read_party(_child(el, "Sender")),
        recipient=None if recipient is None else _read_party(recipient),
    )


def _read_party(el: etree._Element) -> Party:
    return Party(_required(_raw(el, "OrgCode")), _token(el, "OrgName"))


def _read_registration(el: etree._Element) -> Registration:
    return Registration(
        _required(_raw(el, "Number")), date.fromisoformat(_required(_raw(el, "Date")).strip())
    )


def _read_attachments(el: etree._Element | None) -> tuple[Attachment, ...]:
    if el is None:
        return ()
    out = []
    for index, item in enumerate(el.findall(_q("Attachment")), start=1):
        name = _required(_raw(item, "Name"))
        try:
            content = base64.b64decode("".join(_required(_raw(item, "Content")).split()), validate=True)
        except (binascii.Error, ValueError):
            raise CardError("schema-invalid", f"attachment {index} ({name}): Content is not base64") from None
        attachment = Attachment(name, _required(_raw(item, "MediaType")), content)
        declared = _raw(item, "Sha256")
        if declared is not None and declared != attachment.sha256:
            raise CardError(
                "attachment-digest",
                f"attachment {index} ({name}): Sha256 says {declared} but the content's SHA-256 is "
                f"{attachment.sha256}",
                line=item.sourceline,
            )
        out.append(attachment)
    return tuple(out)


def _read_reference(el: etree._Element) -> Reference:
    registration = _child(el, "Registration")
    return Reference(
        card_id=_raw(el, "CardId"),
        registration=None if registration is None else _read_registration(registration),
        appeal_id=_raw(el, "AppealId"),
        message_id=_raw(el, "MessageId"),
        submission_sha256=_raw(el, "SubmissionSha256"),
    )


def _read_signatory(el: etree._Element | None) -> Signatory | None:
    if el is None:
        return None
    return Signatory(_raw(el, "OfficialId"), _token(el, "Name"), _token(el, "Position"))


def _read_correspondent(el: etree._Element) -> Correspondent:
    person = _child(el, "Person")
    if person is not None:
        who: Person | Organisation = Person(
            _required(_token(person, "FamilyName")),
            _required(_token(person, "GivenName")),
            _token(person, "Patronymic"),
        )
    else:
        org = _child(el, "Organisation")
        who = Organisation(_required(_token(org, "Name")), _required(_token(org, "RegistrationNumber")))
    return Correspondent(who, _required(_raw(el, "Address")), _raw(el, "Email"), _raw(el, "Phone"))


def _read_letter(el: etree._Element) -> Letter:
    return Letter(
        registration=_read_registration(_child(el, "Registration")),
        correspondent=_read_correspondent(_child(el, "Correspondent")),
        summary=_required(_token(el, "Summary")),
        text=_required(_raw(el, "Text")),
        attachments=_read_attachments(_child(el, "Attachments")),
    )


def _read_answer(el: etree._Element) -> Answer:
    signatory = _read_signatory(_child(el, "Signatory"))
    assert signatory is not None
    return Answer(
        registration=_read_registration(_child(el, "Registration")),
        in_reply_to=_read_reference(_child(el, "InReplyTo")),
        signatory=signatory,
        summary=_required(_token(el, "Summary")),
        text=_required(_raw(el, "Text")),
        attachments=_read_attachments(_child(el, "Attachments")),
    )


def _read_notice(el: etree._Element) -> Notice:
    outcome: Delivered | Registered | Refused
    if (registered := _child(el, "Registered")) is not None:
        outcome = Registered(_read_registration(registered))
    elif (refused := _child(el, "Refused")) is not None:
        outcome = Refused(
            RefusalCode(_raw(refused, "Code")),
            _required(_raw(refused, "Reason")),
            _raw(refused, "ZvarotCode"),
        )
    else:
        outcome = Delivered()
    return Notice(
        reference=_read_reference(_child(el, "Reference")),
        at=_read_time(_required(_raw(el, "At"))),
        outcome=outcome,
        signatory=_read_signatory(_child(el, "Signatory")),
        comment=_raw(el, "Comment"),
    )


# --- writing ------------------------------------------------------------------------------------------------


def write_card(card: Card) -> bytes:
    """The card as UTF-8 XML, checked against card.xsd (CardError if a field does not fit)."""
    root = card_to_element(card)
    validate_card(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def card_to_element(card: Card) -> etree._Element:
    root = etree.Element(_q("Card"), nsmap={None: NS})
    _write_header(root, card.header)
    content = card.content
    if isinstance(content, Letter):
        _write_letter(root, content)
    elif isinstance(content, Answer):
        _write_answer(root, content)
    elif isinstance(content, Notice):
        _write_notice(root, content)
    else:
        raise CardError("invalid-value", f"a card holds a Letter, an Answer or a Notice, not {content!r}")
    return root


def xml_time(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CardError("invalid-value", f"{moment.isoformat()} has no time zone")
    precision = "milliseconds" if moment.microsecond % 1000 == 0 else "microseconds"
    text = moment.isoformat(timespec=precision if moment.microsecond else "seconds")
    return (text.removesuffix("+00:00") + "Z") if text.endswith("+00:00") else text


def _add(parent: etree._Element, local: str, value: str | None) -> etree._Element | None:
    if value is None:
        return None
    el = etree.SubElement(parent, _q(local))
    el.text = value
    return el


def _write_header(root: etree._Element, header: CardHeader) -> None:
    el = etree.SubElement(root, _q("Header"))
    _add(el, "CardId", header.card_id)
    _add(el, "CreatedAt", xml_time(header.created_at))
    _write_party(el, "Sender", header.sender)
    if header.recipient is not None:
        _write_party(el, "Recipient", header.recipient)


def _write_party(parent: etree._Element, local: str, party: Party) -> None:
    el = etree.SubElement(parent, _q(local))
    _add(el, "OrgCode", party.code)
    _add(el, "OrgName", party.name)


def _write_registration(parent: etree._Element, local: str, registration: Registration) -> None:
    el = etree.SubElement(parent, _q(local))
    _add(el, "Number", registration.number)
    _add(el, "Date", registration.date.isoformat())


def _write_attachments(parent: etree._Element, attachments: tuple[Attachment, ...]) -> None:
    if not attachments:
        return
    el = etree.SubElement(parent, _q("Attachments"))
    for attachment in attachments:
        item = etree.SubElement(el, _q("Attachment"))
        _add(item, "Name", attachment.name)
        _add(item, "MediaType", attachment.media_type)
        _add(item, "Sha256", attachment.sha256)
        _add(item, "Content", base64.encodebytes(attachment.content).decode("ascii").strip())


def _write_reference(parent: etree._Element, local: str, reference: Reference) -> None:
    el = etree.SubElement(parent, _q(local))
    _add(el, "CardId", reference.card_id)
    if reference.registration is not None:
        _write_registration(el, "Registration", reference.registration)
    _add(el, "AppealId", reference.appeal_id)
    _add(el, "MessageId", reference.message_id)
    _add(el, "SubmissionSha256", reference.submission_sha256)


def _write_signatory(parent: etree._Element, signatory: Signatory | None) -> None:
    if signatory is None:
        return
    el = etree.SubElement(parent, _q("Signatory"))
    _add(el, "OfficialId", signatory.official_id)
    _add(el, "Name", signatory.name)
    _add(el, "Position", signatory.position)


def _write_letter(root: etree._Element, letter: Letter) -> None:
    el = etree.SubElement(root, _q("Letter"))
    _write_registration(el, "Registration", letter.registration)
    correspondent = etree.SubElement(el, _q("Correspondent"))
    who = letter.correspondent.who
    if isinstance(who, Person):
        person = etree.SubElement(correspondent, _q("Person"))
        _add(person, "FamilyName", who.family_name)
        _add(person, "GivenName", who.given_name)
        _add(person, "Patronymic", who.patronymic)
    else:
        org = etree.SubElement(correspondent, _q("Organisation"))
        _add(org, "Name", who.name)
        _add(org, "RegistrationNumber", who.registration_number)
    _add(correspondent, "Address", letter.correspondent.address)
    _add(correspondent, "Email", letter.correspondent.email)
    _add(correspondent, "Phone", letter.correspondent.phone)
    _add(el, "Summary", letter.summary)
    _add(el, "Text", letter.text)
    _write_attachments(el, letter.attachments)


def _write_answer(root: etree._Element, answer: Answer) -> None:
    el = etree.SubElement(root, _q("Answer"))
    _write_registration(el, "Registration", answer.registration)
    _write_reference(el, "InReplyTo", answer.in_reply_to)
    _write_signatory(el, answer.signatory)
    _add(el, "Summary", answer.summary)
    _add(el, "Text", answer.text)
    _write_attachments(el, answer.attachments)


def _write_notice(root: etree._Element, notice: Notice) -> None:
    el = etree.SubElement(root, _q("Notice"))
    _write_reference(el, "Reference", notice.reference)
    _add(el, "At", xml_time(notice.at))
    outcome = notice.outcome
    if isinstance(outcome, Registered):
        _write_registration(el, "Registered", outcome.registration)
    elif isinstance(outcome, Refused):
        refused = etree.SubElement(el, _q("Refused"))
        _add(refused, "Code", RefusalCode(outcome.code).value)
        _add(refused, "Reason", outcome.reason)
        _add(refused, "ZvarotCode", outcome.zvarot_code)
    else:
        etree.SubElement(el, _q("Delivered"))
    _write_signatory(el, notice.signatory)
    _add(el, "Comment", notice.comment)
