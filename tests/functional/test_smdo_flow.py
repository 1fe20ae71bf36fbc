"""SMDO-style cards through the real gateway: cards become documents that are signed and POSTed, and what the
gateway answers (receipts, status updates from its outbox) becomes cards again."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from datetime import date

import pytest
from lxml import etree
from sqlalchemy import func, select

from adapters.smdo.card import (
    Card,
    CardError,
    Delivered,
    Reference,
    RefusalCode,
    Refused,
    Registered,
    Registration,
    read_card,
    write_card,
)
from adapters.smdo.cli import main
from adapters.smdo.convert import (
    Addressee,
    TransportRejection,
    answer_to_reply,
    from_zvarot,
    letter_to_appeal,
    message_id_for,
    receipt_to_card,
    reply_to_card,
    status_update_to_card,
    to_zvarot,
)
from gateway.pki.dev_ca import cert_pem, key_pem, make_self_signed
from gateway.store.appeals import Appeal, OutboxMessage
from gateway.xml import ns
from gateway.xml.parsing import parse_document
from gateway.xml.signatures import Signer, verify_document
from tests.helpers import ROOT, error_codes, new_appeal, post, receipt_of, signed

CARDS = ROOT / "adapters" / "smdo" / "examples"
PORTAL, DMS, REGION_DMS = "sys-portal", "sys-dms-housing", "sys-dms-minsk-region"
MINISTER, DEPT_HEAD, REGION_HOUSING = (
    "off-housing-minister",
    "off-housing-dept-head",
    "off-region-deputy-housing",
)
LETTER_REGISTRATION = Registration("04-12/1187", date(2025, 3, 3))
TO_HOUSING = Addressee.unit("ou-ministry-housing", "housing")


def card(name: str) -> Card:
    return read_card((CARDS / f"{name}.xml").read_bytes())


def about(original: Card, appeal_id: str) -> Card:
    """A notice card pointed at an appeal of this test's database."""
    return dataclasses.replace(
        original, content=dataclasses.replace(original.content, reference=Reference(appeal_id=appeal_id))
    )


def gateway_signed(gateway, data: bytes) -> etree._Element:
    """The content of a document signed by the gateway, after checking the signature and the signer."""
    verified = verify_document(parse_document(data))
    assert gateway.certificates.verify(verified.certificate, verified.untrusted_chain).uid == "zvarot-gateway"
    return verified.signed_root


def submit(client, data: bytes, expect: int):
    response = post(client, data)
    assert response.status_code == expect, error_codes(receipt_of(response))
    return response


def outbox(gateway, appeal_id: str, recipient: str) -> list[OutboxMessage]:
    """The StatusUpdates queued for `recipient` (not the officials' documents forwarded to the portal)."""
    o = OutboxMessage
    with gateway.sessions() as session:
        return list(
            session.scalars(
                select(o)
                .where(
                    o.appeal_id == appeal_id,
                    o.recipient_system == recipient,
                    o.document_type == "StatusUpdate",
                )
                .order_by(o.event_seq, o.id)
            )
        )


def appeal_count(gateway) -> int:
    with gateway.sessions() as session:
        return session.scalar(select(func.count()).select_from(Appeal))


# --- Letter -> Appeal ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seal", [PORTAL, DMS])
def test_a_letter_card_becomes_an_accepted_appeal(client, signers, gateway, seal):
    letter = card("letter")
    data = signed(signers, seal, letter_to_appeal(letter, addressee=TO_HOUSING, sender_system=seal))
    response = submit(client, data, 201)

    receipt = gateway_signed(gateway, response.data)
    notice_card = receipt_to_card(receipt, ref_card_id=letter.header.card_id)
    notice = notice_card.content
    assert notice.outcome == Delivered()
    assert notice.reference.card_id == letter.header.card_id
    assert notice.reference.message_id == message_id_for(letter.header.card_id, "Appeal")
    assert notice.reference.submission_sha256 == hashlib.sha256(data).hexdigest()
    appeal_id = notice.reference.appeal_id
    assert appeal_id and f"Accepted by Zvarot as appeal {appeal_id}, tracking code " in notice.comment
    assert notice_card.header.recipient.code == seal
    assert read_card(write_card(notice_card)) == notice_card

    routed = receipt.findall("zv:Body/zv:Appeal/zv:RoutedTo/zv:Official", ns.NSMAP)
    assert {o.text for o in routed} == {MINISTER, DEPT_HEAD}  # unit + topic routing
    with gateway.sessions() as session:
        stored = session.get(Appeal, appeal_id)
        assert stored.subject == letter.content.summary
        assert stored.origin_system == seal

    # The letter's registration travels as the ClientReference, so the Letter comes back whole.
    accepted = parse_document(data)
    assert from_zvarot(verify_document(accepted).signed_root).content == letter.content

    # The same card again never makes a second appeal: the same signed bytes are a duplicate; converted and
    # signed anew (ECDSA signatures differ each time) it is the same MessageId with other bytes.
    assert submit(client, data, 200).status_code == 200
    resigned = signed(signers, seal, letter_to_appeal(letter, addressee=TO_HOUSING, sender_system=seal))
    again = post(client, resigned)
    if resigned != data:
        assert again.status_code == 409
        assert error_codes(receipt_of(again)) == ["duplicate-conflict"]
    assert appeal_count(gateway) == 1


def test_a_status_update_from_the_outbox_becomes_delivery_and_registration_notices(client, signers, gateway):
    letter = card("letter")
    submit(
        client, signed(signers, DMS, letter_to_appeal(letter, addressee=Addressee.official(MINISTER))), 201
    )
    with gateway.sessions() as session:
        appeal_id = session.scalars(select(Appeal.id)).one()
    forward = etree.fromstring((ROOT / "xsd" / "examples" / "AppealForward.xml").read_bytes())
    forward.find("zv:Header/zv:MessageId", ns.NSMAP).text = message_id_for(
        letter.header.card_id, "test-forward"
    )
    forward.find("zv:Body/zv:AppealId", ns.NSMAP).text = appeal_id
    forward.find("zv:Body/zv:FromOfficial", ns.NSMAP).text = MINISTER
    forward.find("zv:Body/zv:ToOfficial", ns.NSMAP).text = DEPT_HEAD
    submit(client, signed(signers, DMS, forward), 201)

    rows = outbox(gateway, appeal_id, DMS)
    assert [r.event_seq for r in rows] == [1, 2]
    registered_by = {appeal_id: LETTER_REGISTRATION}
    received, forwarded = (
        status_update_to_card(gateway_signed(gateway, r.document), registration_of=registered_by)
        for r in rows
    )
    assert received.content.outcome == Delivered()
    assert received.content.reference == Reference(registration=LETTER_REGISTRATION, appeal_id=appeal_id)
    assert received.header.sender.code == "zvarot-gateway"
    outcome = forwarded.content.outcome
    assert isinstance(outcome, Registered)
    assert outcome.registration.number == appeal_id
    assert outcome.registration.date == forwarded.content.at.date()
    assert forwarded.content.comment.startswith("Forwarded to Maryna Kavalionak")
    for notice_card in (received, forwarded):
        assert read_card(write_card(notice_card)) == notice_card


def test_the_cli_verifies_an_outbox_status_update_before_making_its_card(
    client, signers, gateway, settings, tmp_path
):
    appeal_id, _ = new_appeal(client, signers, MINISTER)
    [row] = outbox(gateway, appeal_id, PORTAL)
    document, out = tmp_path / "update.xml", tmp_path / "notice.xml"
    document.write_bytes(row.document)
    args = ["from-zvarot", str(document), "--trust-dir", str(settings.trust_dir), "--to-org", PORTAL]
    assert main([*args, "-o", str(out)]) == 0
    notice = read_card(out.read_bytes())
    assert notice.content.outcome == Delivered()
    assert notice.content.reference.appeal_id == appeal_id

    document.write_bytes(row.document.replace(b"<Text>Received</Text>", b"<Text>Forwarded</Text>"))
    assert b"Forwarded" in document.read_bytes()
    out.unlink()
    assert main([*args, "-o", str(out)]) == 1
    assert not out.exists()


# --- Answer -> AppealReply ----------------------------------------------------------------------------------


def test_an_answer_card_becomes_a_reply_signed_by_the_official(client, signers, gateway):
    appeal_id, code = new_appeal(client, signers, DEPT_HEAD)
    answer = card("answer")  # InReplyTo: the letter's registration only
    reply = answer_to_reply(answer, appeal_for={LETTER_REGISTRATION: appeal_id})
    submit(client, signed(signers, DEPT_HEAD, reply), 201)
    assert client.get(f"/api/v1/appeals/{code}").json["status"] == "reply_sent"

    rows = outbox(gateway, appeal_id, DMS)
    assert status_update_to_card(gateway_signed(gateway, rows[-1].document)) is None  # reply_sent: no notice
    back = reply_to_card(
        reply, registration=answer.content.registration, registration_of={appeal_id: LETTER_REGISTRATION}
    )
    assert back.content.in_reply_to == Reference(registration=LETTER_REGISTRATION, appeal_id=appeal_id)
    assert back.content.text == answer.content.text
    assert back.content.signatory.official_id == DEPT_HEAD


def test_an_answer_signed_by_someone_else_is_refused_and_the_refusal_becomes_a_card(client, signers, gateway):
    appeal_id, _ = new_appeal(client, signers, DEPT_HEAD)
    reply = answer_to_reply(card("answer"), appeal_for={LETTER_REGISTRATION: appeal_id})
    response = submit(client, signed(signers, MINISTER, reply), 403)
    refusal = receipt_to_card(
        gateway_signed(gateway, response.data), ref_card_id=card("answer").header.card_id
    )
    assert refusal.content.outcome.code == RefusalCode.registration_refused
    assert refusal.content.outcome.zvarot_code == "signer-not-authorized"
    assert "signed by 'off-housing-minister'" in refusal.content.outcome.reason


# --- notices and refusals from an agency -> status changes -------------------------------------------------


def test_a_registration_notice_puts_the_appeal_in_process(client, signers, gateway):
    appeal_id, code = new_appeal(client, signers, REGION_HOUSING)
    change = to_zvarot(about(card("notice-registered"), appeal_id))
    submit(client, signed(signers, REGION_DMS, change), 201)
    timeline = client.get(f"/api/v1/appeals/{code}").json
    assert timeline["status"] == "in_process"
    [update] = [r for r in outbox(gateway, appeal_id, REGION_DMS) if r.event_seq == 2]
    notice = status_update_to_card(gateway_signed(gateway, update.document))
    assert notice.content.outcome == Registered(Registration(appeal_id, notice.content.at.date()))


@pytest.mark.parametrize(
    "refusal", [RefusalCode.not_subject_to_registration, RefusalCode.registration_refused]
)
def test_a_refusal_leaves_the_appeal_without_consideration(client, signers, gateway, refusal):
    appeal_id, code = new_appeal(client, signers, DEPT_HEAD)
    refused = about(card("notice-refused"), appeal_id)
    refused = dataclasses.replace(
        refused,
        content=dataclasses.replace(
            refused.content, outcome=dataclasses.replace(refused.content.outcome, code=refusal)
        ),
    )
    change = to_zvarot(refused)
    assert change.findtext("zv:Body/zv:NewStatus", namespaces=ns.NSMAP) == "left_without_consideration"
    submit(client, signed(signers, DMS, change), 201)
    assert client.get(f"/api/v1/appeals/{code}").json["status"] == "left_without_consideration"

    # ... which the origin system hears as a registration refusal.
    update = outbox(gateway, appeal_id, PORTAL)[-1]
    notice = status_update_to_card(gateway_signed(gateway, update.document)).content
    assert notice.outcome == Refused(RefusalCode.registration_refused, "Left without consideration")

    # Refusing the same appeal again: invalid-transition, which is a registration refusal in turn.
    again = dataclasses.replace(
        refused, header=dataclasses.replace(refused.header, card_id=str(uuid.uuid4()))
    )
    response = submit(client, signed(signers, DMS, to_zvarot(again)), 409)
    card_back = receipt_to_card(gateway_signed(gateway, response.data)).content
    assert card_back.outcome.code == RefusalCode.registration_refused
    assert card_back.outcome.zvarot_code == "invalid-transition"


def test_a_signature_refusal_from_an_agency_is_no_appeal_event(client, signers, gateway):
    appeal_id, _ = new_appeal(client, signers, DEPT_HEAD)
    result = to_zvarot(about(card("notice-signature-refused"), appeal_id))
    assert isinstance(result, TransportRejection)
    assert result.code == "certificate-untrusted"
    assert len(outbox(gateway, appeal_id, DMS)) == 1  # nothing happened to the appeal


# --- rejection receipts -> refusal cards --------------------------------------------------------------------


def _tampered(signers, root) -> bytes:
    data = signed(signers, PORTAL, root)
    assert "Протекает".encode() in data
    return data.replace("Протекает".encode(), "Протекла".encode(), 1)


def _self_signed(signers, root) -> bytes:
    selfie = make_self_signed(PORTAL, "National e-services portal")
    return Signer(key_pem(selfie.key), [cert_pem(selfie.cert)]).sign_bytes(root)


@pytest.mark.parametrize(
    ("make", "addressee", "status", "zvarot_code", "refusal"),
    [
        (_tampered, TO_HOUSING, 403, "signature-invalid", RefusalCode.signature_not_trusted),
        (_self_signed, TO_HOUSING, 403, "certificate-untrusted", RefusalCode.signature_not_trusted),
        (
            lambda s, root: signed(s, PORTAL, root),
            Addressee.official("off-nobody-here"),
            422,
            "unknown-official",
            RefusalCode.not_subject_to_registration,
        ),
    ],
    ids=["tampered", "self-signed", "unknown-official"],
)
def test_a_rejection_receipt_becomes_a_refusal_card_with_the_right_code(
    client, signers, gateway, make, addressee, status, zvarot_code, refusal
):
    letter = card("letter")
    data = make(signers, letter_to_appeal(letter, addressee=addressee, sender_system=PORTAL))
    response = post(client, data)
    assert response.status_code == status, error_codes(receipt_of(response))
    refusal_card = receipt_to_card(gateway_signed(gateway, response.data), ref_card_id=letter.header.card_id)
    notice = refusal_card.content
    assert notice.outcome.code == refusal
    assert notice.outcome.zvarot_code == zvarot_code
    assert notice.reference.card_id == letter.header.card_id
    assert notice.reference.submission_sha256 == hashlib.sha256(data).hexdigest()
    assert refusal_card.header.recipient.code == PORTAL
    assert read_card(write_card(refusal_card)) == refusal_card
    # Sent back to the SMDO side and read there, a signature refusal keeps its Zvarot cause.
    if refusal == RefusalCode.signature_not_trusted:
        assert to_zvarot(refusal_card) == TransportRejection(
            zvarot_code, notice.outcome.reason, notice.reference
        )
    assert appeal_count(gateway) == 0


def test_a_card_with_a_doctype_never_reaches_the_gateway(client, gateway):
    data = (
        (CARDS / "letter.xml")
        .read_bytes()
        .replace(b"<Card ", b'<!DOCTYPE Card [<!ENTITY who "x">]>\n<Card ', 1)
    )
    with pytest.raises(CardError) as caught:
        read_card(data)
    assert caught.value.code == "forbidden-dtd"
    assert appeal_count(gateway) == 0
