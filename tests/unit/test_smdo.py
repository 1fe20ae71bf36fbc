"""The SMDO-style card adapter without a gateway: the card format, the mappings, bad cards, the CLI."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from adapters.smdo.card import (
    NS,
    Answer,
    Attachment,
    Card,
    CardError,
    CardHeader,
    Correspondent,
    Delivered,
    Letter,
    Organisation,
    Party,
    Reference,
    RefusalCode,
    Refused,
    Registered,
    Registration,
    Signatory,
    read_card,
    write_card,
)
from adapters.smdo.cli import main
from adapters.smdo.convert import (
    NOTICE_FOR_EVENT,
    REFUSAL_FOR_ERROR,
    SIGNATURE_CODES,
    Addressee,
    ConversionError,
    TransportRejection,
    answer_to_reply,
    appeal_to_card,
    by_recipient,
    card_id_for,
    from_zvarot,
    letter_to_appeal,
    message_id_for,
    notice_to_zvarot,
    receipt_to_card,
    reply_to_card,
    status_update_to_card,
    to_zvarot,
)
from gateway.errors import ERROR_CODES
from gateway.xml import ns
from gateway.xml.schemas import SchemaRegistry
from tests.helpers import ROOT, example

CARDS = ROOT / "adapters" / "smdo" / "examples"
APPEAL_ID = "ap-7m2kq4xw9r3tz8b5n6c1d0fhj2"
REGISTRATION = Registration("04-12/1187", date(2025, 3, 3))


def card_file(name: str) -> bytes:
    return (CARDS / f"{name}.xml").read_bytes()


def card(name: str) -> Card:
    return read_card(card_file(name))


def field(root: etree._Element, path: str) -> str | None:
    return root.findtext(f"zv:Body/{path}", namespaces=ns.NSMAP)


@pytest.fixture(scope="module")
def zvarot_schema() -> SchemaRegistry:
    return SchemaRegistry()


def with_content(original: Card, **changes) -> Card:
    return dataclasses.replace(original, content=dataclasses.replace(original.content, **changes))


# --- the card format ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CARDS.glob("*.xml")), ids=lambda p: p.stem)
def test_every_example_reads_and_writes_back_to_the_same_card(path: Path):
    original = read_card(path.read_bytes())
    assert read_card(write_card(original)) == original


def test_the_letter_example_carries_every_field():
    letter = card("letter")
    assert letter.kind == "letter"
    assert letter.header.sender == Party("sys-dms-housing", "Ministry of Housing and Utilities")
    assert letter.header.created_at == datetime(2025, 3, 3, 9, 40, tzinfo=timezone(timedelta(hours=3)))
    content = letter.content
    assert content.registration == REGISTRATION
    assert content.correspondent.who.family_name == "Навумчык"
    assert content.correspondent.email == "alena.navumchyk@example.by"
    assert content.summary.startswith("Протекает кровля")
    assert content.text.startswith("Уважаемые") and "\n\n" in content.text  # multi-line text kept verbatim
    [attachment] = content.attachments
    assert attachment.sha256 == "075d75d5e78bda0613f90a02746a37068e8f803142ea0c3ecbbd65921550db2c"


def test_card_schema_knows_exactly_the_zvarot_error_codes():
    schema = etree.parse(str(ROOT / "adapters" / "smdo" / "card.xsd"))
    xs = "http://www.w3.org/2001/XMLSchema"
    codes = schema.xpath(
        "//xs:simpleType[@name='ZvarotErrorCode']//xs:enumeration/@value", namespaces={"xs": xs}
    )
    assert set(codes) == ERROR_CODES
    assert set(REFUSAL_FOR_ERROR) == ERROR_CODES  # every rejection has a refusal code


def test_tokens_are_read_as_the_validator_saw_them_and_comments_are_dropped():
    data = (
        card_file("letter")
        .replace(b"<Summary>\xd0\x9f", b"<Summary>  \n  \xd0\x9f")
        .replace(b"<FamilyName>", b"<FamilyName><!-- a comment -->")
    )
    letter = read_card(data).content
    assert letter.summary.startswith("Протекает")
    assert letter.correspondent.who.family_name == "Навумчык"


def test_writing_an_invalid_card_is_refused_naming_the_field():
    bad = with_content(card("letter"), summary="x" * 501)
    with pytest.raises(CardError) as caught:
        write_card(bad)
    assert caught.value.code == "schema-invalid" and "Summary" in str(caught.value)
    naive = dataclasses.replace(
        card("letter"), header=dataclasses.replace(card("letter").header, created_at=datetime(2025, 3, 3))
    )
    with pytest.raises(CardError, match="invalid-value: .* has no time zone"):
        write_card(naive)
    with pytest.raises(CardError, match="at least one identifier"):
        Reference()
    with pytest.raises(CardError, match="official id or a name"):
        Signatory()


# --- malformed cards ----------------------------------------------------------------------------------------


def _swap(old: bytes, new: bytes, name: str = "letter") -> bytes:
    data = card_file(name)
    assert old in data
    return data.replace(old, new, 1)


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"<Card xmlns='urn:zvarot:smdo-card:1'><Header>", "malformed-xml", "line 1"),
        (b"", "malformed-xml", ""),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE Card [<!ENTITY x "boom">]>\n'
            b"<Card xmlns='urn:zvarot:smdo-card:1'>&x;</Card>",
            "forbidden-dtd",
            "DOCTYPE",
        ),
        (b'<!DOCTYPE Card SYSTEM "http://example.invalid/card.dtd"><Card/>', "forbidden-dtd", "DOCTYPE"),
        (
            b"<Appeal xmlns='urn:zvarot:1'/>",
            "not-a-card",
            "expected {urn:zvarot:smdo-card:1}Card as the root element, found {urn:zvarot:1}Appeal",
        ),
        (
            _swap(b"<Summary>", b"<Subject>").replace(b"</Summary>", b"</Subject>"),
            "schema-invalid",
            "Subject",
        ),
        (
            re.sub(rb"<Text>.*?</Text>", b"<Text> \n </Text>", card_file("letter"), flags=re.S),
            "schema-invalid",
            "Text",
        ),
        (_swap(b"<Date>2025-03-03</Date>", b"<Date>03.03.2025</Date>"), "schema-invalid", "Date"),
        (_swap(b"<CardId>0b7e", b"<CardId>0B7E"), "schema-invalid", "CardId"),
        (_swap(b"2025-03-03T09:40:00+03:00", b"2025-03-03T09:40:00"), "schema-invalid", "CreatedAt"),
        (_swap(b"<Sha256>075d", b"<Sha256>175d"), "attachment-digest", "Sha256 says 175d"),
        (
            _swap(
                b"<Delivered/>",
                b"<Delivered/><Registered><Number>1</Number><Date>2025-03-03</Date></Registered>",
                "notice-delivered",
            ),
            "schema-invalid",
            "Registered",
        ),
        (
            _swap(
                b"<MessageId>c9e2f4a8-1b7d-4c53-9e26-8a0d5f1b3c74</MessageId>",
                b"",
                "notice-signature-refused",
            ),
            "schema-invalid",
            "Reference",
        ),
        (
            _swap(b"<Code>registration-refused</Code>", b"<Code>refused</Code>", "notice-refused"),
            "schema-invalid",
            "Code",
        ),
        (_swap(b"<Letter>", b"<Letter foo='1'>"), "schema-invalid", "foo"),
    ],
    ids=[
        "not-well-formed",
        "empty",
        "doctype-with-entity",
        "external-doctype",
        "a-zvarot-document",
        "unknown-element",
        "blank-text",
        "date-not-iso",
        "card-id-uppercase",
        "time-without-zone",
        "attachment-digest-mismatch",
        "two-outcomes",
        "empty-reference",
        "unknown-refusal-code",
        "attribute",
    ],
)
def test_malformed_cards_are_refused_with_a_clear_error(data: bytes, code: str, words: str):
    with pytest.raises(CardError) as caught:
        read_card(data)
    assert caught.value.code == code, str(caught.value)
    assert words in str(caught.value)


def test_an_oversized_card_is_refused_before_parsing():
    from gateway.xml.parsing import ParseLimits

    with pytest.raises(CardError) as caught:
        read_card(card_file("letter"), ParseLimits(max_bytes=1000))
    assert caught.value.code == "too-large"


# --- Letter <-> Appeal --------------------------------------------------------------------------------------


def test_a_letter_becomes_a_valid_unsigned_appeal(zvarot_schema):
    letter = card("letter")
    appeal = letter_to_appeal(letter, addressee=Addressee.unit("ou-ministry-housing", "housing"))
    zvarot_schema.validate(appeal)
    assert etree.QName(appeal).localname == "Appeal"
    assert appeal.find(ns.ds("Signature")) is None
    header = appeal.find("zv:Header", ns.NSMAP)
    assert header.findtext("zv:MessageId", namespaces=ns.NSMAP) == message_id_for(
        letter.header.card_id, "Appeal"
    )
    assert header.findtext("zv:SenderSystem", namespaces=ns.NSMAP) == "sys-dms-housing"
    assert field(appeal, "zv:Applicant/zv:Individual/zv:Patronymic") == "Сяргееўна"
    assert field(appeal, "zv:Applicant/zv:PostalAddress").startswith("223050")
    assert field(appeal, "zv:Applicant/zv:Phone") == "+375 (29) 123-45-67"
    assert field(appeal, "zv:Addressee/zv:OrgUnit") == "ou-ministry-housing"
    assert field(appeal, "zv:Addressee/zv:Topic") == "housing"
    assert field(appeal, "zv:Subject") == letter.content.summary
    assert field(appeal, "zv:Text") == letter.content.text
    assert field(appeal, "zv:ClientReference") == "04-12/1187/2025-03-03"
    attachment = appeal.find("zv:Body/zv:Attachments/zv:Attachment", ns.NSMAP)
    content = base64.b64decode(attachment.findtext("zv:Content", namespaces=ns.NSMAP))
    assert attachment.findtext("zv:Sha256", namespaces=ns.NSMAP) == hashlib.sha256(content).hexdigest()
    # Deterministic: the same card gives the same bytes (a resubmission is a duplicate, not a new appeal).
    again = letter_to_appeal(letter, addressee=Addressee.unit("ou-ministry-housing", "housing"))
    assert etree.tostring(again) == etree.tostring(appeal)


def test_an_organisation_becomes_a_legal_entity_addressed_to_officials(zvarot_schema):
    appeal = letter_to_appeal(
        card("letter-organisation"),
        addressee=Addressee.official("off-housing-minister", "off-housing-dept-head"),
        sender_system="sys-portal",
        sent_at=datetime(2025, 3, 5, 12, 0, tzinfo=UTC),
    )
    zvarot_schema.validate(appeal)
    assert field(appeal, "zv:Applicant/zv:LegalEntity/zv:RegistrationNumber") == "691234567"
    assert [o.text for o in appeal.findall("zv:Body/zv:Addressee/zv:Official", ns.NSMAP)] == [
        "off-housing-minister",
        "off-housing-dept-head",
    ]
    assert appeal.findtext("zv:Header/zv:SentAt", namespaces=ns.NSMAP) == "2025-03-05T12:00:00Z"
    assert appeal.findtext("zv:Header/zv:SenderSystem", namespaces=ns.NSMAP) == "sys-portal"
    assert appeal.find("zv:Body/zv:Attachments", ns.NSMAP) is None


def test_the_addressee_can_be_chosen_by_the_cards_recipient():
    choose = by_recipient({"zvarot-gateway": Addressee.official("off-housing-minister")})
    appeal = letter_to_appeal(card("letter"), addressee=choose)
    assert field(appeal, "zv:Addressee/zv:Official") == "off-housing-minister"
    with pytest.raises(ConversionError, match="no Zvarot addressee is mapped for recipient None"):
        letter_to_appeal(card("letter-organisation"), addressee=choose)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"officials": ("off-a",), "org_unit": "ou-x", "topic": "t"},
            "officials, or an org unit and a topic",
        ),
        ({"org_unit": "ou-x"}, "needs officials, or an org unit and a topic"),
        ({"officials": ("Off A",)}, "'Off A' is not a Zvarot id"),
        ({"officials": tuple(f"off-{i}" for i in range(21))}, "at most 20"),
    ],
)
def test_bad_addressees_are_refused(kwargs, message):
    with pytest.raises(ConversionError, match=message):
        Addressee(**kwargs)


def test_a_sender_that_is_not_a_zvarot_system_must_be_named():
    letter = dataclasses.replace(
        card("letter"), header=dataclasses.replace(card("letter").header, sender=Party("BY.190123456"))
    )
    with pytest.raises(ConversionError, match="'BY.190123456' is not a Zvarot system id"):
        letter_to_appeal(letter, addressee=Addressee.official("off-housing-minister"))
    made = letter_to_appeal(
        letter, addressee=Addressee.official("off-housing-minister"), sender_system="sys-portal"
    )
    assert made.findtext("zv:Header/zv:SenderSystem", namespaces=ns.NSMAP) == "sys-portal"


def test_appeal_to_letter_and_back_keeps_every_field():
    appeal = letter_to_appeal(card("letter"), addressee=Addressee.unit("ou-ministry-housing", "housing"))
    letter = appeal_to_card(appeal)
    assert letter.content == card("letter").content
    assert letter.header.card_id == card_id_for(
        appeal.findtext("zv:Header/zv:MessageId", namespaces=ns.NSMAP)
    )
    back = letter_to_appeal(letter, addressee=Addressee.unit("ou-ministry-housing", "housing"))
    assert etree.tostring(back.find("zv:Body", ns.NSMAP)) == etree.tostring(appeal.find("zv:Body", ns.NSMAP))


def test_the_example_appeal_needs_a_registration_as_its_client_reference_is_not_one():
    with pytest.raises(ConversionError) as caught:
        appeal_to_card(example("Appeal"))
    assert caught.value.code == "missing-registration"
    letter = appeal_to_card(example("Appeal"), registration=REGISTRATION, recipient=Party("BY-MINZHKH"))
    assert letter.content.registration == REGISTRATION
    assert letter.content.attachments[0].name == "akt-osmotra-krovli.txt"
    assert read_card(write_card(letter)) == letter


def test_an_appeal_whose_attachment_digest_lies_is_refused():
    appeal = example("Appeal")
    appeal.find("zv:Body/zv:Attachments/zv:Attachment/zv:Sha256", ns.NSMAP).text = "0" * 64
    with pytest.raises(ConversionError) as caught:
        appeal_to_card(appeal, registration=REGISTRATION)
    assert caught.value.code == "attachment-digest"


# --- Answer <-> AppealReply ---------------------------------------------------------------------------------


def test_an_answer_becomes_an_appeal_reply_through_the_registration_lookup(zvarot_schema):
    answer = card("answer")
    reply = answer_to_reply(answer, appeal_for={REGISTRATION: APPEAL_ID})
    zvarot_schema.validate(reply)
    assert etree.QName(reply).localname == "AppealReply"
    assert field(reply, "zv:AppealId") == APPEAL_ID
    assert field(reply, "zv:Official") == "off-housing-dept-head"
    assert field(reply, "zv:Text") == answer.content.text
    seen = []
    assert field(answer_to_reply(answer, appeal_for=lambda r: seen.append(r) or APPEAL_ID), "zv:AppealId")
    assert seen == [REGISTRATION]


def test_an_answer_naming_its_appeal_needs_no_lookup_and_the_official_can_be_given():
    answer = with_content(
        card("answer"),
        in_reply_to=Reference(appeal_id=APPEAL_ID),
        signatory=Signatory(name="М. Кавалёнак"),
    )
    with pytest.raises(ConversionError) as caught:
        answer_to_reply(answer)
    assert caught.value.code == "missing-official"
    reply = answer_to_reply(answer, official="off-housing-minister")
    assert field(reply, "zv:Official") == "off-housing-minister"
    assert field(reply, "zv:AppealId") == APPEAL_ID


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        (None, "names registration No. 04-12/1187 of 2025-03-03 but no AppealId, and no lookup was given"),
        ({}, "no appeal is known for registration No. 04-12/1187 of 2025-03-03"),
        (lambda _r: "not-an-appeal", "'not-an-appeal' is not a Zvarot id"),
    ],
)
def test_an_answer_whose_appeal_cannot_be_found_is_refused(lookup, message):
    with pytest.raises(ConversionError, match=message):
        answer_to_reply(card("answer"), appeal_for=lookup)


def test_a_reply_becomes_an_answer_and_back(zvarot_schema):
    reply = example("AppealReply")
    answer = reply_to_card(reply, registration_of={APPEAL_ID: REGISTRATION})
    content = answer.content
    assert isinstance(content, Answer)
    assert content.in_reply_to == Reference(registration=REGISTRATION, appeal_id=APPEAL_ID)
    assert content.signatory == Signatory(official_id="off-housing-dept-head")
    assert content.registration == Registration(
        reply.findtext("zv:Header/zv:MessageId", namespaces=ns.NSMAP), date(2025, 3, 31)
    )
    assert content.summary == f"Reply to appeal {APPEAL_ID}"
    assert answer.header.sender == Party("sys-dms-housing")
    back = answer_to_reply(read_card(write_card(answer)))
    zvarot_schema.validate(back)
    for path in ("zv:AppealId", "zv:Official", "zv:Text"):
        assert field(back, path) == field(reply, path)


# --- StatusUpdate -> notices --------------------------------------------------------------------------------


EVENTS = [
    "received",
    "forwarded",
    "in_process",
    "more_info_required",
    "supplemented",
    "extended",
    "reply_sent",
    "reviewed",
    "closed",
    "withdrawn",
    "left_without_consideration",
]


def status_update(event: str, status: str | None = None) -> etree._Element:
    root = example("StatusUpdate")
    root.find("zv:Body/zv:Event", ns.NSMAP).text = event
    root.find("zv:Body/zv:Status", ns.NSMAP).text = status or ("closed" if event == "reviewed" else event)
    if event in ("supplemented", "extended"):
        root.find("zv:Body/zv:Status", ns.NSMAP).text = "in_process"
    return root


@pytest.mark.parametrize("event", EVENTS)
def test_each_status_update_event_becomes_the_notice_it_means(event: str):
    notice_card = status_update_to_card(status_update(event), registration_of={APPEAL_ID: REGISTRATION})
    expected = NOTICE_FOR_EVENT.get(event)
    if expected is None:
        assert notice_card is None
        return
    assert read_card(write_card(notice_card)) == notice_card
    notice = notice_card.content
    assert notice.reference == Reference(registration=REGISTRATION, appeal_id=APPEAL_ID)
    assert notice.at == datetime(2025, 3, 4, 11, 2, 11, 312000, tzinfo=timezone(timedelta(hours=3)))
    assert notice_card.header.sender == Party("zvarot-gateway")
    if expected == "delivered":
        assert notice.outcome == Delivered()
    elif expected == "registered":
        assert notice.outcome == Registered(Registration(APPEAL_ID, date(2025, 3, 4)))
        assert notice.comment.endswith("(due 2025-03-18)")
    else:
        assert notice.outcome == Refused(
            RefusalCode.registration_refused, "Forwarded to Maryna Kavalionak, Head of Housing Department"
        )


def test_a_status_update_without_a_lookup_refers_to_the_appeal_alone():
    update = status_update("received")
    notice_card = status_update_to_card(update, recipient=Party("sys-dms-housing"))
    assert notice_card.content.reference == Reference(appeal_id=APPEAL_ID)
    assert notice_card.header.recipient == Party("sys-dms-housing")
    assert notice_card.header.card_id == card_id_for(
        update.findtext("zv:Header/zv:MessageId", namespaces=ns.NSMAP)
    )
    assert status_update_to_card(update) == status_update_to_card(update)  # derived, not random


# --- notices and refusals -> Zvarot -------------------------------------------------------------------------


def test_a_delivery_notice_means_nothing_to_submit():
    assert notice_to_zvarot(card("notice-delivered")) is None
    assert to_zvarot(card("notice-delivered")) is None


def test_a_registration_notice_becomes_in_process(zvarot_schema):
    change = to_zvarot(card("notice-registered"))
    zvarot_schema.validate(change)
    assert etree.QName(change).localname == "AppealStatusChange"
    assert field(change, "zv:AppealId") == APPEAL_ID
    assert field(change, "zv:Official") == "off-region-deputy-housing"
    assert field(change, "zv:NewStatus") == "in_process"
    assert field(change, "zv:Note") == (
        "Registered by Minsk Region Executive Committee as No. 01-18/2231 of 2025-03-04"
    )


@pytest.mark.parametrize(
    ("code", "note"),
    [
        ("not-subject-to-registration", "Not subject to registration at Ministry of Housing and Utilities: "),
        ("registration-refused", "Registration refused by Ministry of Housing and Utilities: "),
    ],
)
def test_refusals_leave_the_appeal_without_consideration(zvarot_schema, code, note):
    refusal = card("notice-refused")
    refusal = with_content(
        refusal, outcome=dataclasses.replace(refusal.content.outcome, code=RefusalCode(code))
    )
    change = notice_to_zvarot(refusal)
    zvarot_schema.validate(change)
    assert field(change, "zv:NewStatus") == "left_without_consideration"
    assert field(change, "zv:Note") == note + refusal.content.outcome.reason
    assert field(change, "zv:Official") == "off-housing-dept-head"


def test_a_refusal_needs_an_official_and_an_appeal():
    refusal = with_content(card("notice-refused"), signatory=None)
    with pytest.raises(ConversionError, match="needs a Zvarot official"):
        notice_to_zvarot(refusal)
    assert field(notice_to_zvarot(refusal, official="off-housing-minister"), "zv:Official") == (
        "off-housing-minister"
    )
    unknown = with_content(card("notice-refused"), reference=Reference(message_id=str(uuid.uuid4())))
    with pytest.raises(ConversionError, match="neither an AppealId nor a registration"):
        notice_to_zvarot(unknown)


@pytest.mark.parametrize(
    ("zvarot_code", "expected"),
    [
        ("certificate-untrusted", "certificate-untrusted"),
        ("signature-invalid", "signature-invalid"),
        ("certificate-revoked", "certificate-revoked"),
        (None, "certificate-untrusted"),
        ("schema-invalid", "certificate-untrusted"),  # not a signature cause: the code says what it is
    ],
)
def test_a_signature_refusal_is_a_rejection_notice_not_an_appeal_event(zvarot_code, expected):
    refusal = card("notice-signature-refused")
    refusal = with_content(
        refusal, outcome=dataclasses.replace(refusal.content.outcome, zvarot_code=zvarot_code)
    )
    result = to_zvarot(refusal)
    assert isinstance(result, TransportRejection)
    assert result.code == expected
    assert result.message == refusal.content.outcome.reason
    assert result.reference == Reference(message_id="c9e2f4a8-1b7d-4c53-9e26-8a0d5f1b3c74")


# --- receipts -> notices ------------------------------------------------------------------------------------


def rejected_receipt(*errors: tuple[str, str]) -> etree._Element:
    root = example("Receipt")
    body = root.find("zv:Body", ns.NSMAP)
    body.find("zv:Outcome", ns.NSMAP).text = "rejected"
    body.remove(body.find("zv:Appeal", ns.NSMAP))
    holder = etree.SubElement(body, ns.zv("Errors"))
    for code, message in errors:
        error = etree.SubElement(holder, ns.zv("Error"))
        etree.SubElement(error, ns.zv("Code")).text = code
        etree.SubElement(error, ns.zv("Message")).text = message
    return root


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_every_rejection_receipt_becomes_a_refusal_with_its_code(code):
    refusal_card = receipt_to_card(
        rejected_receipt((code, "what went wrong")), ref_card_id=str(uuid.UUID(int=7))
    )
    assert read_card(write_card(refusal_card)) == refusal_card
    notice = refusal_card.content
    assert notice.outcome == Refused(REFUSAL_FOR_ERROR[code], "what went wrong", code)
    expected = (
        RefusalCode.signature_not_trusted
        if code in SIGNATURE_CODES
        else RefusalCode.not_subject_to_registration
        if code.startswith("unknown-")
        else RefusalCode.registration_refused
    )
    assert notice.outcome.code == expected
    assert notice.reference.card_id == str(uuid.UUID(int=7))
    assert notice.reference.message_id == "3f6c2a1e-8b4d-4e7a-9c15-2d8e0b7f4a61"
    assert notice.reference.submission_sha256 == (
        "23aeb837f9c65a436afe58f1734829947a1bcf7aad1ce422f4732cb15d2827dc"
    )
    assert refusal_card.header.recipient == Party("sys-portal")


def test_further_errors_of_a_receipt_go_to_the_comment():
    refusal = receipt_to_card(
        rejected_receipt(
            ("schema-invalid", "first"), ("schema-invalid", "second"), ("schema-invalid", "third")
        )
    ).content
    assert refusal.outcome.reason == "first"
    assert refusal.comment == "schema-invalid: second\nschema-invalid: third"


def test_an_accepted_receipt_is_a_delivery_notice_naming_the_appeal():
    delivered = from_zvarot(example("Receipt"))
    assert delivered.content.outcome == Delivered()
    assert delivered.content.reference.appeal_id == APPEAL_ID
    assert "tracking code K7QD-2MXA-P4RZ-W6NB-H3TC" in delivered.content.comment


def test_documents_without_a_card_and_invalid_documents_are_refused():
    with pytest.raises(ConversionError) as caught:
        from_zvarot(example("AppealForward"))
    assert caught.value.code == "unsupported-document"
    broken = example("StatusUpdate")
    broken.find("zv:Body/zv:Event", ns.NSMAP).text = "teleported"
    with pytest.raises(ConversionError) as caught:
        from_zvarot(broken)
    assert caught.value.code == "schema-invalid" and "teleported" in str(caught.value)
    with pytest.raises(ConversionError, match="not a Zvarot document"):
        from_zvarot(etree.fromstring(card_file("letter")))
    with pytest.raises(ConversionError, match="expected a Letter card, got a Notice"):
        letter_to_appeal(card("notice-delivered"), addressee=Addressee.official("off-housing-minister"))


def test_a_card_built_in_code_round_trips():
    made = Card(
        CardHeader.new(Party("sys-portal", "Portal"), Party("BY-001")),
        Letter(
            registration=Registration("7", date(2025, 1, 2)),
            correspondent=Correspondent(Organisation("ОАО «Тест»", "100000001"), "Минск"),
            summary="Тема",
            text="Текст",
            attachments=(Attachment("a.pdf", "application/pdf", b"%PDF-1.4 tiny"),),
        ),
    )
    assert read_card(write_card(made)) == made
    assert Registration.parse("01/2/3/2025-01-02") == Registration("01/2/3", date(2025, 1, 2))
    with pytest.raises(CardError):
        Registration.parse("no date")


# --- the command line ---------------------------------------------------------------------------------------


def test_cli_converts_a_letter_and_an_answer(tmp_path, zvarot_schema):
    out = tmp_path / "appeal.xml"
    assert (
        main(
            [
                "to-zvarot",
                str(CARDS / "letter.xml"),
                "--unit",
                "ou-ministry-housing",
                "--topic",
                "housing",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    zvarot_schema.validate(etree.fromstring(out.read_bytes()))
    reply = tmp_path / "reply.xml"
    assert main(["to-zvarot", str(CARDS / "answer.xml"), "--appeal", APPEAL_ID, "-o", str(reply)]) == 0
    assert field(etree.fromstring(reply.read_bytes()), "zv:AppealId") == APPEAL_ID
    back = tmp_path / "letter.xml"
    assert main(["from-zvarot", str(out), "-o", str(back), "--to-org", "BY-MINZHKH"]) == 0
    assert read_card(back.read_bytes()).content == card("letter").content


def test_cli_says_when_there_is_nothing_to_write(tmp_path, capsys):
    out = tmp_path / "out.xml"
    assert main(["to-zvarot", str(CARDS / "notice-delivered.xml"), "-o", str(out)]) == 3
    assert "nothing to submit" in capsys.readouterr().err
    assert main(["to-zvarot", str(CARDS / "notice-signature-refused.xml"), "-o", str(out)]) == 3
    assert "Zvarot certificate-untrusted" in capsys.readouterr().err
    update = tmp_path / "update.xml"
    update.write_bytes(etree.tostring(status_update("reply_sent")))
    assert main(["from-zvarot", str(update), "-o", str(out)]) == 3
    assert "'reply_sent'" in capsys.readouterr().err
    assert not out.exists()


def test_cli_refuses_bad_input_with_the_reason(tmp_path, capsys):
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b'<!DOCTYPE Card [<!ENTITY e "x">]><Card xmlns="urn:zvarot:smdo-card:1">&e;</Card>')
    assert main(["to-zvarot", str(bad), "--official", "off-housing-minister"]) == 1
    assert capsys.readouterr().err.startswith("forbidden-dtd: ")
    assert main(["to-zvarot", str(CARDS / "letter.xml")]) == 1
    assert "needs an addressee" in capsys.readouterr().err
    other = "ap-" + "z" * 26
    assert main(["to-zvarot", str(CARDS / "notice-registered.xml"), "--appeal", other]) == 1
    assert f"the card names appeal {APPEAL_ID}; --appeal says {other}" in capsys.readouterr().err
    assert main(["check", str(tmp_path / "missing.xml")]) == 1
    with pytest.raises(SystemExit):
        main(["to-zvarot", str(CARDS / "letter.xml"), "--unit", "ou-ministry-housing"])
    with pytest.raises(SystemExit):
        main(
            ["to-zvarot", str(CARDS / "letter.xml"), "--official", "off-housing-minister", "--appeal", other]
        )
    with pytest.raises(SystemExit):
        main(["to-zvarot", str(CARDS / "answer.xml"), "--unit", "ou-ministry-housing", "--topic", "housing"])


def test_python_dash_m_runs_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "adapters.smdo", "check", str(CARDS / "answer.xml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "a valid answer card" in done.stdout


def test_the_namespace_is_our_own():
    assert NS == "urn:zvarot:smdo-card:1"
    assert etree.QName(etree.fromstring(card_file("letter"))).namespace == NS
