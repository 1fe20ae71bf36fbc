"""Bytes in, signed receipt out, over the HTTP API with real signatures and the real database."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from lxml import etree
from sqlalchemy import func, select, text, update

from gateway.store.appeals import Appeal, AppealEvent, InboxItem, OutboxMessage
from gateway.store.database import schema_head, writing
from gateway.store.directory import Official
from gateway.store.models import Message, RejectedDocument
from gateway.xml import ns
from gateway.xml.parsing import parse_document
from gateway.xml.schemas import SchemaRegistry
from gateway.xml.signatures import verify_document
from tests.helpers import error_codes, example, post, receipt_field, receipt_of, signed

# Which demo identity signs each example, and on behalf of which system it is sent.
SIGNED_BY = {
    "Appeal": "sys-portal",
    "AppealSupplement": "sys-portal",
    "ReplyReview": "sys-portal",
    "ReportReview": "sys-portal",
    "AppealForward": "sys-dms-housing",
    "AppealStatusChange": "sys-dms-housing",
    "AppealReply": "off-housing-dept-head",
    "WorkReport": "off-housing-dept-head",
    "DirectoryUpdate": "sys-dms-housing",
}


def _sender(root: etree._Element) -> str:
    return root.find("zv:Header/zv:SenderSystem", ns.NSMAP).text


# Documents about an existing appeal need one in the right state: tests/functional/test_appeals.py has them;
# a ReportReview needs a report: tests/functional/test_reports.py.
STANDALONE = sorted({"Appeal", "WorkReport", "DirectoryUpdate"})


@pytest.mark.parametrize("document_type", STANDALONE)
def test_document_types_that_stand_alone_are_accepted_with_a_signed_receipt(
    client, signers, gateway, document_type
):
    root = example(document_type)
    data = signed(signers, SIGNED_BY[document_type], root)

    response = post(client, data)

    assert response.status_code == 201, response.data
    assert response.headers["Zvarot-Outcome"] == "accepted"
    receipt = receipt_of(response)
    SchemaRegistry().validate(receipt)
    verified = verify_document(parse_document(response.data))
    signer = gateway.certificates.verify(verified.certificate, verified.untrusted_chain)
    assert signer.uid == "zvarot-gateway"
    assert receipt_field(receipt, "zv:Outcome") == "accepted"
    assert receipt_field(receipt, "zv:RefToMessageId") == root.find("zv:Header/zv:MessageId", ns.NSMAP).text
    assert receipt_field(receipt, "zv:SubmissionSha256") == hashlib.sha256(data).hexdigest()
    sent_digest = parse_document(data).find(".//ds:Reference/ds:DigestValue", ns.NSMAP).text
    assert receipt_field(receipt, "zv:SenderDigests/zv:DigestValue") == sent_digest


def test_accepted_document_is_kept_verbatim_with_its_receipt(client, signers, gateway):
    data = signed(signers, "sys-portal", example("Appeal"))
    response = post(client, data)
    assert response.status_code == 201
    with gateway.sessions() as session:
        row = session.scalars(select(Message)).one()
    assert row.body == data
    assert row.receipt == response.data
    assert (row.sender_system, row.signer_uid, row.signer_kind) == ("sys-portal", "sys-portal", "system")


def test_exact_retry_returns_the_original_receipt(client, signers):
    data = signed(signers, "sys-portal", example("Appeal"))
    first = post(client, data)
    again = post(client, data)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Zvarot-Outcome"] == "duplicate"
    assert again.data == first.data


def test_a_resend_gets_the_original_receipt_after_the_signer_s_certificate_expired(
    client, signers, gateway, monkeypatch
):
    """What was accepted stays accepted: the same bytes years later get the receipt of their acceptance,
    not a rejection for a certificate that has expired since. Other bytes are judged as they are now."""
    data = signed(signers, "sys-portal", example("Appeal"))
    first = post(client, data)
    assert first.status_code == 201
    later = gateway.pipeline.clock() + timedelta(days=3650)  # every dev certificate has expired by then
    monkeypatch.setattr(gateway.pipeline, "clock", lambda: later)

    again = post(client, data)
    assert (again.status_code, again.headers["Zvarot-Outcome"]) == (200, "duplicate")
    assert again.data == first.data

    other = post(client, signed(signers, "sys-portal", example("Appeal")))
    assert other.status_code == 403 and error_codes(receipt_of(other)) == ["certificate-expired"]
    altered = data.replace(b"</Appeal>", b"<!-- resent --></Appeal>")
    assert altered != data
    assert post(client, altered).status_code == 403  # same message id, other bytes: no original to give
    with gateway.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_a_wrong_attachment_digest_is_refused_with_line_and_path(client, signers, gateway):
    """The receipt points at the element at fault (SPEC: error codes with line/path where known)."""
    root = example("Appeal")
    digest = root.find("zv:Body/zv:Attachments/zv:Attachment/zv:Sha256", ns.NSMAP)
    digest.text = "0" * 64
    data = signed(signers, "sys-portal", root)
    response = post(client, data)
    assert response.status_code == 400
    error = receipt_of(response).find("zv:Body/zv:Errors/zv:Error", ns.NSMAP)
    assert error.findtext("zv:Code", namespaces=ns.NSMAP) == "schema-invalid"
    assert "akt-osmotra-krovli.txt" in error.findtext("zv:Message", namespaces=ns.NSMAP)
    assert error.findtext("zv:Path", namespaces=ns.NSMAP) == "/*/*[2]/*[5]/*/*[3]"  # Body/…/Sha256
    at_fault = parse_document(data).find("zv:Body/zv:Attachments/zv:Attachment/zv:Sha256", ns.NSMAP)
    assert int(error.findtext("zv:Line", namespaces=ns.NSMAP)) == at_fault.sourceline
    with gateway.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0


def test_an_attachment_split_by_a_comment_is_judged_on_all_its_text(client, signers):
    """The honest twin of the attack fixture schema-invalid__attachment_digest_split_by_comment."""
    root = example("Appeal")
    attachment = root.find("zv:Body/zv:Attachments/zv:Attachment", ns.NSMAP)
    attachment.find("zv:Sha256", ns.NSMAP).text = hashlib.sha256(b"ABCDEF").hexdigest()
    content = attachment.find("zv:Content", ns.NSMAP)
    content.text = "QUJD"
    comment = etree.Comment("scanned in two parts")
    comment.tail = "REVG"
    content.append(comment)
    assert post(client, signed(signers, "sys-portal", root)).status_code == 201


def test_an_attachment_the_schema_allows_is_accepted_past_libxml2s_text_node_cap(client, signers, gateway):
    """7.25 MiB (the XSD allows 8) is 10.1 million base64 characters in one text node, past libxml2's default
    cap of 10 million, in a document under the 10 MiB limit: the parser lifts that cap (huge_tree), since
    our own size and depth limits bound the input."""
    raw = bytes(range(256)) * (7_600_000 // 256)
    root = example("Appeal")
    attachment = root.find("zv:Body/zv:Attachments/zv:Attachment", ns.NSMAP)
    attachment.find("zv:Sha256", ns.NSMAP).text = hashlib.sha256(raw).hexdigest()
    attachment.find("zv:Content", ns.NSMAP).text = base64.b64encode(raw).decode()
    data = signed(signers, "sys-portal", root)
    assert len(base64.b64encode(raw)) > 10_000_000 and len(data) <= gateway.settings.max_document_bytes

    response = post(client, data)

    assert response.status_code == 201, error_codes(receipt_of(response))
    with gateway.sessions() as session:
        assert session.scalars(select(Message.body)).one() == data


def _appeal_rows(gateway) -> tuple[int, ...]:
    with gateway.sessions() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table))
            for table in (Message, Appeal, AppealEvent, OutboxMessage, InboxItem)
        )


def test_retried_appeal_is_not_routed_twice(client, signers, gateway):
    data = signed(signers, "sys-portal", example("Appeal"))
    assert post(client, data).status_code == 201
    after_first = _appeal_rows(gateway)
    assert after_first[:3] == (1, 1, 1) and after_first[3] > 0 and after_first[4] > 0

    assert post(client, data).status_code == 200
    assert _appeal_rows(gateway) == after_first


def test_a_new_appeal_s_rows_point_at_its_document_and_first_status_update(client, signers, gateway):
    """Written statement by statement on SQLite and as one statement on PostgreSQL: the same rows."""
    response = post(client, signed(signers, "sys-portal", example("Appeal")))
    assert response.status_code == 201
    appeal_id = receipt_field(receipt_of(response), "zv:Appeal/zv:AppealId")
    with gateway.sessions() as session:
        message = session.scalars(select(Message)).one()
        appeal = session.get(Appeal, appeal_id)
        event = session.scalars(select(AppealEvent).where(AppealEvent.appeal_id == appeal_id)).one()
        outbox = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        inbox = session.scalars(select(InboxItem)).all()
    assert (appeal.message_id, event.message_id, event.seq, event.kind) == (
        message.id,
        message.id,
        1,
        "received",
    )
    assert appeal.origin_system == "sys-portal" and appeal.applicant["kind"] == "individual"
    assert {o.recipient_system for o in outbox} >= {"sys-portal"} and len(outbox) >= 2
    assert {(o.appeal_id, o.event_seq, o.status, o.attempts) for o in outbox} == {
        (appeal_id, 1, "pending", 0)
    }
    assert len({o.document for o in outbox}) == 1  # one signed StatusUpdate, queued for each system
    routed = receipt_of(response).findall("zv:Body/zv:Appeal/zv:RoutedTo/zv:Official", ns.NSMAP)
    assert inbox and sorted(i.official_id for i in inbox) == sorted(o.text for o in routed)
    for item in inbox:
        assert (item.appeal_id, item.event_seq, item.kind) == (appeal_id, 1, "appeal")
        assert (item.message_id, item.status_update_id) == (message.id, outbox[0].id)


def test_retry_after_the_addressee_left_still_gets_the_original_receipt(client, signers, gateway):
    """An appeal is decided before its transaction; a retry must not be decided again (idempotency)."""
    root = example("Appeal")
    addressee = root.find("zv:Body/zv:Addressee", ns.NSMAP)
    for child in list(addressee):
        addressee.remove(child)
    etree.SubElement(addressee, ns.zv("Official")).text = "off-housing-dept-head"
    data = signed(signers, "sys-portal", root)
    first = post(client, data)
    assert first.status_code == 201
    with writing(gateway.sessions) as session:
        # As a DirectoryUpdate with an EndDate leaves it: no current post.
        session.execute(update(Official).where(Official.id == "off-housing-dept-head").values(post_id=None))
        session.commit()
    gateway.pipeline.effects.appeals.directory.invalidate()

    again = post(client, data)
    assert (again.status_code, again.headers["Zvarot-Outcome"]) == (200, "duplicate")
    assert again.data == first.data
    # A new appeal to them is refused now: the retry above was answered from the store, not re-routed.
    root.find("zv:Header/zv:MessageId", ns.NSMAP).text = "7b0c4b51-1c7e-4c1e-9f0e-2f4c2a8d9e11"
    fresh = post(client, signed(signers, "sys-portal", root))
    assert error_codes(receipt_of(fresh)) == ["unknown-official"]


def test_same_message_id_with_other_bytes_is_a_conflict(client, signers, gateway):
    root = example("Appeal")
    first = post(client, signed(signers, "sys-portal", root))
    root.find("zv:Body/zv:Subject", ns.NSMAP).text = "Something else entirely"
    second = post(client, signed(signers, "sys-portal", root))
    assert first.status_code == 201
    assert second.status_code == 409
    receipt = receipt_of(second)
    assert receipt_field(receipt, "zv:Outcome") == "rejected"
    assert error_codes(receipt) == ["duplicate-conflict"]
    with gateway.sessions() as session:
        assert len(session.scalars(select(Message)).all()) == 1  # the original is untouched


def test_unsigned_document_gets_a_signed_rejection_receipt(client, gateway):
    data = etree.tostring(example("Appeal"), xml_declaration=True, encoding="UTF-8")
    response = post(client, data)
    assert response.status_code == 400
    receipt = receipt_of(response)
    assert error_codes(receipt) == ["signature-missing"]
    verify_document(parse_document(response.data))  # the rejection itself is signed
    with gateway.sessions() as session:
        rejected = session.scalars(select(RejectedDocument)).one()
    assert (rejected.error_code, rejected.body, rejected.receipt) == (
        "signature-missing",
        data,
        response.data,
    )


def test_non_xml_gets_a_problem_document(client):
    response = post(client, b"this is not XML at all")
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    assert response.json["title"] == "malformed-xml"


def test_wrong_media_type_is_refused(client, signers):
    response = post(client, signed(signers, "sys-portal", example("Appeal")), content_type="text/plain")
    assert response.status_code == 415
    assert response.json["title"] == "malformed-xml"


def test_oversize_document_is_refused_before_reading(client, gateway):
    limit = gateway.settings.max_document_bytes
    response = post(client, b"<a>" + b"x" * limit + b"</a>")
    assert response.status_code == 413
    assert response.json["title"] == "too-large"


@pytest.mark.parametrize(
    ("method", "path", "status", "title"),
    [
        ("GET", "/api/v1/nowhere", 404, "not-found"),
        ("DELETE", "/api/v1/officials", 405, "method-not-allowed"),
        ("POST", "/healthz", 405, "method-not-allowed"),
    ],
)
def test_the_api_refuses_an_unknown_path_or_method_with_a_problem_document(
    client, method, path, status, title
):
    response = client.open(path, method=method)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert response.json["title"] == title and response.json["status"] == status
    if status == 405:
        assert "GET" in response.headers["Allow"]


def test_a_web_page_that_does_not_exist_is_still_a_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_an_oversize_acknowledgement_is_a_problem_document(client, gateway):
    body = b"{" + b" " * (gateway.settings.max_document_bytes + 1) + b"}"
    response = client.post("/api/v1/outbox/ack", data=body, content_type="application/json")
    assert response.status_code == 413 and response.mimetype == "application/problem+json"


def test_health(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_health_is_a_503_while_the_database_is_not_migrated_or_behind_this_version(client, gateway):
    with gateway.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))  # an older one's schema
    try:
        behind = client.get("/healthz")
        assert behind.status_code == 503 and behind.mimetype == "application/problem+json"
        assert behind.json["title"] == "unavailable"
        assert "behind this version's" in behind.json["detail"] and "zvarot migrate" in behind.json["detail"]
        with gateway.engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))  # never migrated
        assert "has not been migrated" in client.get("/healthz").json["detail"]
        with gateway.engine.begin() as conn:  # a newer version migrated it (a rolling deploy): still serves
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('9999_newer')"))
        assert client.get("/healthz").status_code == 200
    finally:
        with gateway.engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
            restore = text("INSERT INTO alembic_version (version_num) VALUES (:head)")
            conn.execute(restore, {"head": schema_head()})
    assert client.get("/healthz").status_code == 200


EC_KEY_VALUE = (
    '<ds:KeyValue xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><dsig11:ECKeyValue '
    'xmlns:dsig11="http://www.w3.org/2009/xmldsig11#"><dsig11:NamedCurve URI="urn:oid:1.2.840.10045.3.1.7"/>'
    "<dsig11:PublicKey>BAAA</dsig11:PublicKey>{inside}</dsig11:ECKeyValue></ds:KeyValue>"
)


def _with_key_value(data: bytes, inside: str = "") -> bytes:
    """KeyInfo is outside what is signed: the sender's signature still verifies with this added."""
    root = etree.fromstring(data)
    key_info = root.find("ds:Signature/ds:KeyInfo", ns.NSMAP)
    key_info.insert(0, etree.fromstring(EC_KEY_VALUE.format(inside=inside)))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_an_ec_key_value_of_xmldsig_1_1_is_ignored_like_any_key_value(client, signers):
    """SPEC: KeyValue is ignored; an EC one is written in XMLDSig 1.1's namespace (dsig11:ECKeyValue)."""
    data = _with_key_value(signed(signers, "sys-portal", example("Appeal")))
    response = post(client, data)
    assert response.status_code == 201, error_codes(receipt_of(response))


def test_unsigned_content_inside_an_ec_key_value_is_refused(client, signers):
    body = '<zv:Subject xmlns:zv="urn:zvarot:1">not what was signed</zv:Subject>'
    response = post(client, _with_key_value(signed(signers, "sys-portal", example("Appeal")), inside=body))
    assert response.status_code == 400
    assert error_codes(receipt_of(response)) == ["signature-profile"]
