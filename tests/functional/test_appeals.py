"""Appeals end to end over HTTP with real signatures: routing, lifecycle, rejections, inboxes, tracking."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

import pytest
from lxml import etree
from sqlalchemy import select

from gateway.ingest.closures import QuietClosures
from gateway.store.appeals import AppealEvent, InboxItem, OutboxMessage
from gateway.xml import ns
from gateway.xml.parsing import parse_document
from gateway.xml.signatures import verify_document
from tests.helpers import (
    committed_late,
    error_codes,
    example,
    new_appeal,
    post,
    receipt_of,
    signed,
    submit_at_once,
    system_token,
)

PORTAL, DMS, OTHER_DMS = "sys-portal", "sys-dms-housing", "sys-dms-minsk-region"
MINISTER, DEPT_HEAD = "off-housing-minister", "off-housing-dept-head"


def doc(document_type: str, sender: str, **body: str | list[str]) -> etree._Element:
    """An example document from `sender` with Body fields replaced (a list: repeated elements; [] removes)."""
    root = example(document_type, SenderSystem=sender)
    for field, value in body.items():
        elements = root.findall(f"zv:Body/zv:{field}", ns.NSMAP)
        values = value if isinstance(value, list) else [value]
        parent = elements[0].getparent() if elements else None
        for element, text in zip(elements, values, strict=False):
            element.text = text
        for extra in elements[len(values) :]:
            parent.remove(extra)
        for text in values[len(elements) :]:
            anchor = parent.findall(f"zv:{field}", ns.NSMAP)[-1]
            clone = etree.Element(anchor.tag)
            clone.text = text
            anchor.addnext(clone)
    return root


def appeal_to(client, signers, *officials: str):
    return new_appeal(client, signers, *officials)


def send(client, signers, signer: str, root: etree._Element, expect: int = 201):
    response = post(client, signed(signers, signer, root))
    codes = error_codes(receipt_of(response)) if response.content_type.startswith("application/xml") else []
    assert response.status_code == expect, codes
    return response, codes


def status_change(appeal_id: str, official: str, status: str) -> etree._Element:
    return doc(
        "AppealStatusChange", DMS, AppealId=appeal_id, Official=official, NewStatus=status, NewDueDate=[]
    )


def test_appeal_receipt_names_the_appeal_its_routing_and_due_date(client, signers):
    response = post(client, signed(signers, PORTAL, example("Appeal")))
    assert response.status_code == 201
    appeal = receipt_of(response).find("zv:Body/zv:Appeal", ns.NSMAP)
    assert appeal is not None
    code = appeal.findtext("zv:TrackingCode", namespaces=ns.NSMAP)
    assert len(code.replace("-", "")) == 20  # 100 bits
    routed = [o.text for o in appeal.findall("zv:RoutedTo/zv:Official", ns.NSMAP)]
    assert routed and all(o.startswith("off-") for o in routed)
    timeline = client.get(f"/api/v1/appeals/{code}").json
    assert timeline["due_date"] == appeal.findtext("zv:DueDate", namespaces=ns.NSMAP)
    assert timeline["due_date_computation"], "the citizen sees how the due date was computed"
    assert {h["official"] for h in timeline["held_by"]} == set(routed)


def test_full_lifecycle_and_tracking_without_personal_data(client, signers, gateway):
    appeal_id, code = appeal_to(client, signers, MINISTER)
    send(
        client,
        signers,
        DMS,
        doc("AppealForward", DMS, AppealId=appeal_id, FromOfficial=MINISTER, ToOfficial=[DEPT_HEAD]),
    )
    send(client, signers, DMS, status_change(appeal_id, DEPT_HEAD, "in_process"))
    send(client, signers, DMS, status_change(appeal_id, DEPT_HEAD, "more_info_required"))
    send(client, signers, PORTAL, doc("AppealSupplement", PORTAL, AppealId=appeal_id))
    send(client, signers, DEPT_HEAD, doc("AppealReply", DMS, AppealId=appeal_id, Official=DEPT_HEAD))
    send(client, signers, PORTAL, doc("ReplyReview", PORTAL, AppealId=appeal_id, Stars="4"))

    response = client.get(f"/api/v1/appeals/{code}")
    timeline = response.json
    assert timeline["status"] == "closed"
    # as a citizen types it: any case, without its dashes, spaced -- as the web page takes it
    for typed in (code.lower(), code.replace("-", ""), " ".join(code.split("-"))):
        assert client.get(f"/api/v1/appeals/{typed}").json == timeline, typed
        assert client.get(f"/api/v1/appeals/{typed}/status.xml").status_code == 200, typed
    assert [e["event"] for e in timeline["timeline"]] == [
        "received",
        "forwarded",
        "in_process",
        "more_info_required",
        "supplemented",
        "reply_sent",
        "reviewed",
    ]
    assert "Forwarded to" in timeline["timeline"][1]["text"]
    body = response.data.decode()
    applicant = example("Appeal").find("zv:Body/zv:Applicant", ns.NSMAP)
    for value in [el.text for el in applicant.iter() if el.text and el.text.strip()]:
        assert value.strip() not in body, "the tracking API must not show the applicant's personal data"
    subject = example("Appeal").findtext("zv:Body/zv:Subject", namespaces=ns.NSMAP)
    assert subject not in body

    status = client.get(f"/api/v1/appeals/{code}/status.xml")
    verified = verify_document(parse_document(status.data))
    assert gateway.certificates.verify(verified.certificate, verified.untrusted_chain).uid == "zvarot-gateway"
    assert verified.signed_root.findtext("zv:Body/zv:Status", namespaces=ns.NSMAP) == "closed"


def test_every_event_queues_a_signed_status_update_for_the_origin_and_the_assignees_dms(
    client, signers, gateway
):
    appeal_id, _ = appeal_to(client, signers, MINISTER)
    send(client, signers, DMS, status_change(appeal_id, MINISTER, "in_process"))
    with gateway.sessions() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.appeal_id == appeal_id)
            .order_by(OutboxMessage.event_seq, OutboxMessage.recipient_system, OutboxMessage.id)
        ).all()
        events = session.scalars(select(AppealEvent).where(AppealEvent.appeal_id == appeal_id)).all()
    assert [(r.event_seq, r.recipient_system, r.document_type) for r in rows] == [
        (1, DMS, "StatusUpdate"),
        (1, PORTAL, "StatusUpdate"),
        (2, DMS, "StatusUpdate"),
        (2, PORTAL, "StatusUpdate"),
        (2, PORTAL, "AppealStatusChange"),  # the official's own words, for the citizen's system only
    ]
    assert len(events) == 2
    for row in rows:
        verify_document(parse_document(row.document))


def test_forward_to_several_officials_lets_each_of_them_reply(client, signers):
    appeal_id, _ = appeal_to(client, signers, MINISTER)
    send(
        client,
        signers,
        DMS,
        doc(
            "AppealForward",
            DMS,
            AppealId=appeal_id,
            FromOfficial=MINISTER,
            ToOfficial=[DEPT_HEAD, "off-housing-first-deputy"],
        ),
    )
    send(client, signers, DEPT_HEAD, doc("AppealReply", DMS, AppealId=appeal_id, Official=DEPT_HEAD))


def test_reply_by_a_non_assignee_is_refused(client, signers, gateway):
    appeal_id, _ = appeal_to(client, signers, MINISTER)
    _, codes = send(
        client,
        signers,
        DEPT_HEAD,
        doc("AppealReply", DMS, AppealId=appeal_id, Official=DEPT_HEAD),
        expect=403,
    )
    assert codes == ["signer-not-authorized"]
    with gateway.sessions() as session:
        assert len(session.scalars(select(AppealEvent).where(AppealEvent.appeal_id == appeal_id)).all()) == 1


def test_supplement_when_not_asked_is_refused(client, signers):
    appeal_id, _ = appeal_to(client, signers, MINISTER)
    _, codes = send(client, signers, PORTAL, doc("AppealSupplement", PORTAL, AppealId=appeal_id), expect=409)
    assert codes == ["invalid-transition"]


def test_documents_about_unknown_appeals_are_refused(client, signers):
    _, codes = send(
        client, signers, PORTAL, doc("ReplyReview", PORTAL, AppealId="ap-" + "a" * 26, Stars="5"), expect=422
    )
    assert codes == ["unknown-appeal"]


def test_unknown_addressees_are_refused(client, signers):
    to_unknown_unit = example("Appeal")
    to_unknown_unit.find("zv:Body/zv:Addressee/zv:OrgUnit", ns.NSMAP).text = "ou-no-such-unit"
    _, codes = send(client, signers, PORTAL, to_unknown_unit, expect=422)
    assert codes == ["unknown-addressee"]
    root = example("Appeal")
    addressee = root.find("zv:Body/zv:Addressee", ns.NSMAP)
    for child in list(addressee):
        addressee.remove(child)
    etree.SubElement(addressee, ns.zv("Official")).text = "off-nobody"
    _, codes = send(client, signers, PORTAL, root, expect=422)
    assert codes == ["unknown-official"]


def test_a_dms_cannot_act_for_officials_of_agencies_it_does_not_serve(client, signers):
    appeal_id, _ = appeal_to(client, signers, MINISTER)
    _, codes = send(
        client,
        signers,
        OTHER_DMS,
        doc(
            "AppealStatusChange",
            OTHER_DMS,
            AppealId=appeal_id,
            Official=MINISTER,
            NewStatus="in_process",
            NewDueDate=[],
        ),
        expect=403,
    )
    assert codes == ["signer-not-authorized"]


def test_inbox_pull_ack_and_agency_isolation(client, signers, settings, gateway):
    appeal_id, _ = appeal_to(client, signers, MINISTER)
    housing = {"Authorization": f"Bearer {system_token(settings, DMS)}"}
    region = {"Authorization": f"Bearer {system_token(settings, OTHER_DMS)}"}

    first = client.get(f"/api/v1/inbox/{MINISTER}", headers=housing)
    assert first.status_code == 200
    items = first.json["items"]
    assert [i["appeal_id"] for i in items] == [appeal_id]
    assert items[0]["kind"] == "appeal"
    assert "<Appeal" in items[0]["document"] and "<StatusUpdate" in items[0]["status_update"]
    # Not acknowledged: pulled again (at-least-once).
    assert client.get(f"/api/v1/inbox/{MINISTER}", headers=housing).json["items"] == items

    assert client.get(f"/api/v1/inbox/{MINISTER}", headers=region).status_code == 403
    assert (
        client.post(
            f"/api/v1/inbox/{MINISTER}/ack", json={"cursor": items[0]["cursor"]}, headers=region
        ).status_code
        == 403
    )
    assert (
        client.get(f"/api/v1/inbox/{MINISTER}", headers={"Authorization": "Bearer zvt_wrong"}).status_code
        == 401
    )
    assert client.get(f"/api/v1/inbox/{MINISTER}").status_code == 401

    acked = client.post(f"/api/v1/inbox/{MINISTER}/ack", json={"cursor": items[0]["cursor"]}, headers=housing)
    assert acked.json["acknowledged"] == 1
    assert client.get(f"/api/v1/inbox/{MINISTER}", headers=housing).json["items"] == []
    with gateway.sessions() as session:
        assert session.scalars(select(InboxItem)).one().acked_at is not None


def test_origin_system_pulls_its_status_updates(client, signers, settings):
    appeal_to(client, signers, MINISTER)
    portal = {"Authorization": f"Bearer {system_token(settings, PORTAL)}"}
    pulled = client.get("/api/v1/outbox", headers=portal).json
    assert [i["document_type"] for i in pulled["items"]] == ["StatusUpdate"]
    assert (
        client.post("/api/v1/outbox/ack", json={"cursor": pulled["next_after"]}, headers=portal).json[
            "acknowledged"
        ]
        == 1
    )
    assert client.get("/api/v1/outbox", headers=portal).json["items"] == []


def test_two_replies_at_once_yield_one_reply_and_one_invalid_transition(gateway, signers, client):
    appeal_id, _ = appeal_to(client, signers, MINISTER)
    replies = [
        signed(signers, MINISTER, doc("AppealReply", DMS, AppealId=appeal_id, Official=MINISTER))
        for _ in range(2)
    ]
    outcomes = submit_at_once(gateway.pipeline, replies)
    assert sorted(o.outcome for o in outcomes) == ["accepted", "rejected"]
    rejected = next(o for o in outcomes if o.outcome == "rejected")
    assert rejected.problem.code == "invalid-transition"
    with gateway.sessions() as session:
        kinds = [
            e.kind for e in session.scalars(select(AppealEvent).where(AppealEvent.appeal_id == appeal_id))
        ]
    assert kinds.count("reply_sent") == 1


@pytest.mark.parametrize("status", ["withdrawn", "left_without_consideration"])
def test_terminal_states_accept_nothing_more(client, signers, status):
    appeal_id, _ = appeal_to(client, signers, MINISTER)
    send(client, signers, DMS, status_change(appeal_id, MINISTER, status))
    _, codes = send(
        client, signers, MINISTER, doc("AppealReply", DMS, AppealId=appeal_id, Official=MINISTER), expect=409
    )
    assert codes == ["invalid-transition"]


def test_an_extension_shows_its_new_date_but_not_the_official_s_free_text(client, signers):
    """Timelines are public to whoever holds the tracking code: the reason stays in the signed document and
    the event log, for the DMS and the auditor, and off the timeline."""
    appeal_id, code = appeal_to(client, signers, DEPT_HEAD)
    due = client.get(f"/api/v1/appeals/{code}").json["due_date"]
    new_due = (date.fromisoformat(due) + timedelta(days=10)).isoformat()
    reason = "Inspection of flat 34 of Ivan Ivanov, 12 Kamsamolskaja"
    send(
        client,
        signers,
        DMS,
        doc(
            "AppealStatusChange",
            DMS,
            AppealId=appeal_id,
            Official=DEPT_HEAD,
            NewStatus="extended",
            NewDueDate=new_due,
            Reason=reason,
            Note=[],
        ),
    )
    response = client.get(f"/api/v1/appeals/{code}")
    assert response.json["due_date"] >= new_due  # moved on past a weekend or holiday
    assert response.json["timeline"][-1]["text"] == f"Deadline extended to {new_due}"
    assert "Ivanov" not in response.data.decode()
    page = client.get(f"/track/{code}")
    assert page.status_code == 200 and "Ivanov" not in page.data.decode()


def test_the_reply_reaches_the_citizen_s_system_as_the_official_signed_it(client, signers, settings, gateway):
    """The portal pulls its outbox: after the StatusUpdate "Reply sent" comes the AppealReply itself, byte for
    byte, personally signed by the official, so the citizen reads the official's words and can check who
    wrote them. The assignees' DMS and the public status document get no copy."""
    appeal_id, code = appeal_to(client, signers, DEPT_HEAD)
    question = doc(
        "AppealStatusChange",
        DMS,
        AppealId=appeal_id,
        Official=DEPT_HEAD,
        NewStatus="more_info_required",
        NewDueDate=[],
        Reason=[],
        Note="Which entrance of house 12 is it?",
    )
    send(client, signers, DMS, question)
    send(client, signers, PORTAL, doc("AppealSupplement", PORTAL, AppealId=appeal_id))
    reply_bytes = signed(signers, DEPT_HEAD, doc("AppealReply", DMS, AppealId=appeal_id, Official=DEPT_HEAD))
    assert post(client, reply_bytes).status_code == 201

    token = system_token(settings, PORTAL)
    items = client.get("/api/v1/outbox?after=0&limit=50", headers={"Authorization": f"Bearer {token}"}).json[
        "items"
    ]
    mine = [i for i in items if i["appeal_id"] == appeal_id]
    assert [(i["event_seq"], i["document_type"]) for i in mine] == [
        (1, "StatusUpdate"),
        (2, "StatusUpdate"),
        (2, "AppealStatusChange"),
        (3, "StatusUpdate"),
        (4, "StatusUpdate"),
        (4, "AppealReply"),
    ]
    asked = parse_document(mine[2]["document"].encode())
    assert asked.findtext("zv:Body/zv:Note", namespaces=ns.NSMAP) == "Which entrance of house 12 is it?"
    assert mine[5]["document"].encode() == reply_bytes
    signature = verify_document(parse_document(reply_bytes))
    assert gateway.certificates.verify(signature.certificate, signature.untrusted_chain).uid == DEPT_HEAD

    with gateway.sessions() as session:
        forwarded = session.scalars(
            select(OutboxMessage.recipient_system).where(
                OutboxMessage.appeal_id == appeal_id, OutboxMessage.document_type != "StatusUpdate"
            )
        ).all()
    assert forwarded == [PORTAL, PORTAL]
    public = parse_document(client.get(f"/api/v1/appeals/{code}/status.xml").data)
    assert etree.QName(public).localname == "StatusUpdate"
    assert public.findtext("zv:Body/zv:Event", namespaces=ns.NSMAP) == "reply_sent"


def test_an_appeal_a_dms_registered_itself_gets_no_copy_of_its_own_documents_back(client, signers, gateway):
    """A letter registered at the agency comes in through its DMS: that DMS is the origin, and the status
    change it sends is not echoed back to it; its StatusUpdate is."""
    appeal = example("Appeal", SenderSystem=DMS)
    addressee = appeal.find("zv:Body/zv:Addressee", ns.NSMAP)
    for child in list(addressee):
        addressee.remove(child)
    etree.SubElement(addressee, ns.zv("Official")).text = DEPT_HEAD
    response = post(client, signed(signers, DMS, appeal))
    assert response.status_code == 201, error_codes(receipt_of(response))
    appeal_id = receipt_of(response).findtext("zv:Body/zv:Appeal/zv:AppealId", namespaces=ns.NSMAP)
    send(client, signers, DMS, status_change(appeal_id, DEPT_HEAD, "in_process"))
    with gateway.sessions() as session:
        rows = session.execute(
            select(OutboxMessage.event_seq, OutboxMessage.recipient_system, OutboxMessage.document_type)
            .where(OutboxMessage.appeal_id == appeal_id)
            .order_by(OutboxMessage.event_seq, OutboxMessage.id)
        ).all()
    assert [tuple(r) for r in rows] == [(1, DMS, "StatusUpdate"), (2, DMS, "StatusUpdate")]


def test_a_system_token_is_stored_only_as_its_hash(client, settings, gateway):
    """SPEC: tokens are stored hashed. Whoever reads the database cannot pull anyone's inbox with it."""
    import hashlib

    from gateway.store.directory import System

    token = system_token(settings, DMS)
    with gateway.sessions() as session:
        stored = session.scalar(select(System.token_hash).where(System.id == DMS))
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    headers = {"Authorization": f"Bearer {stored}"}
    assert client.get(f"/api/v1/inbox/{DEPT_HEAD}?after=0", headers=headers).status_code == 401
    good = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/inbox/{DEPT_HEAD}?after=0", headers=good).status_code == 200


def test_the_gateway_closes_a_quiet_appeal_and_tells_the_systems(client, signers, gateway):
    """SPEC: closed after the quiet period, and every event produces a signed StatusUpdate. The worker's
    housekeeping writes the `closed` event (actor: the gateway) once, with StatusUpdates for the portal and
    the DMS; a reviewed appeal is left alone."""
    from datetime import UTC, datetime

    from gateway.app import quiet_closures

    quiet_id, quiet_code = appeal_to(client, signers, DEPT_HEAD)
    reviewed_id, _ = appeal_to(client, signers, DEPT_HEAD)
    for appeal_id in (quiet_id, reviewed_id):
        send(client, signers, DEPT_HEAD, doc("AppealReply", DMS, AppealId=appeal_id, Official=DEPT_HEAD))
    send(client, signers, PORTAL, doc("ReplyReview", PORTAL, AppealId=reviewed_id, Stars="5"))

    closures = quiet_closures(gateway)
    assert closures.run() == 0  # the quiet period has not ended
    later = datetime.now(UTC) + timedelta(days=31)
    closures._clock = lambda: later
    assert closures.run() == 1
    assert closures.run() == 0  # once

    with gateway.sessions() as session:
        last = session.scalars(
            select(AppealEvent).where(AppealEvent.appeal_id == quiet_id).order_by(AppealEvent.seq.desc())
        ).first()
        updates = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.appeal_id == quiet_id, OutboxMessage.event_seq == last.seq
            )
        ).all()
        reviewed_last = session.scalars(
            select(AppealEvent.kind)
            .where(AppealEvent.appeal_id == reviewed_id)
            .order_by(AppealEvent.seq.desc())
        ).first()
    assert (last.kind, last.actor_kind, last.actor_id, last.message_id) == ("closed", "gateway", None, None)
    assert reviewed_last == "reviewed"
    with gateway.sessions() as session:  # nothing is due any more: closed, or reviewed
        assert gateway.appeals.quiet_replies_due(session, later) == []
    assert sorted(u.recipient_system for u in updates) == [DMS, PORTAL]
    for update in updates:
        signed_update = verify_document(parse_document(update.document)).signed_root
        assert signed_update.findtext("zv:Body/zv:Event", namespaces=ns.NSMAP) == "closed"
        assert signed_update.findtext("zv:Body/zv:Status", namespaces=ns.NSMAP) == "closed"
    timeline = client.get(f"/api/v1/appeals/{quiet_code}").json
    assert timeline["status"] == "closed"
    assert timeline["timeline"][-1]["text"] == "Closed: no review within 30 days of the reply"
    # the citizen may still review: the closure does not take that away
    send(client, signers, PORTAL, doc("ReplyReview", PORTAL, AppealId=quiet_id, Stars="3"))


def test_an_official_may_personally_sign_what_names_them(client, signers):
    """The rule against acting as another leaves an official's own acts alone: a status change and a forward
    personally signed by the official they name are taken, as sealed ones are."""
    appeal_id, _ = appeal_to(client, signers, MINISTER)
    send(client, signers, MINISTER, status_change(appeal_id, MINISTER, "in_process"))
    forward = doc("AppealForward", DMS, AppealId=appeal_id, FromOfficial=MINISTER, ToOfficial=[DEPT_HEAD])
    send(client, signers, MINISTER, forward)
    _, codes = send(client, signers, MINISTER, status_change(appeal_id, DEPT_HEAD, "more_info_required"), 403)
    assert codes == ["signer-not-authorized"]


def test_an_official_s_document_in_another_encoding_reaches_the_portal_byte_for_byte(
    client, signers, settings
):
    """XML may name any encoding; the signature is over the canonical (UTF-8) form, so a windows-1251 copy
    verifies the same. Forwarded as received, it comes out of the pull API as base64, its text null."""
    appeal_id, _ = appeal_to(client, signers, DEPT_HEAD)
    utf8 = signed(signers, DEPT_HEAD, doc("AppealReply", DMS, AppealId=appeal_id, Official=DEPT_HEAD))
    cp1251 = etree.tostring(etree.fromstring(utf8), encoding="windows-1251", xml_declaration=True)
    assert cp1251 != utf8 and b"windows-1251" in cp1251[:60]
    assert post(client, cp1251).status_code == 201

    token = system_token(settings, PORTAL)
    page = client.get("/api/v1/outbox?after=0&limit=50", headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 200
    [reply] = [
        i for i in page.json["items"] if i["appeal_id"] == appeal_id and i["document_type"] == "AppealReply"
    ]
    assert reply["document"] is None and base64.b64decode(reply["document_base64"]) == cp1251
    statuses = [
        i for i in page.json["items"] if i["appeal_id"] == appeal_id and i["document_type"] == "StatusUpdate"
    ]
    assert all(base64.b64decode(i["document_base64"]).decode() == i["document"] for i in statuses)


def test_pages_end_by_bytes_as_well_as_by_count_and_lose_nothing(client, signers, settings, monkeypatch):
    from gateway.services import inbox as inbox_service

    for _ in range(3):
        appeal_to(client, signers, DEPT_HEAD)
    token = system_token(settings, PORTAL)
    headers = {"Authorization": f"Bearer {token}"}
    everything = client.get("/api/v1/outbox?after=0&limit=200", headers=headers).json["items"]
    assert len(everything) == 3
    size = len(base64.b64decode(everything[0]["document_base64"]))
    monkeypatch.setattr(inbox_service, "MAX_PAGE_BYTES", size + size // 2)  # room for one and a half

    cursors, after = [], 0
    for _ in range(5):
        page = client.get(f"/api/v1/outbox?after={after}&limit=200", headers=headers).json
        if not page["items"]:
            break
        assert len(page["items"]) == 1  # the second would pass the bytes
        cursors += [i["cursor"] for i in page["items"]]
        after = page["next_after"]
    assert cursors == [i["cursor"] for i in everything]

    monkeypatch.setattr(inbox_service, "MAX_PAGE_BYTES", 1)  # smaller than any document: one item still
    dms = {"Authorization": f"Bearer {system_token(settings, DMS)}"}
    assert len(client.get(f"/api/v1/inbox/{DEPT_HEAD}?after=0", headers=dms).json["items"]) == 1


def test_an_appeal_in_another_encoding_reaches_the_official_s_inbox_byte_for_byte(client, signers, settings):
    appeal = example("Appeal")
    addressee = appeal.find("zv:Body/zv:Addressee", ns.NSMAP)
    for child in list(addressee):
        addressee.remove(child)
    etree.SubElement(addressee, ns.zv("Official")).text = DEPT_HEAD
    utf8 = signed(signers, PORTAL, appeal)
    cp1251 = etree.tostring(etree.fromstring(utf8), encoding="windows-1251", xml_declaration=True)
    assert post(client, cp1251).status_code == 201
    dms = {"Authorization": f"Bearer {system_token(settings, DMS)}"}
    page = client.get(f"/api/v1/inbox/{DEPT_HEAD}?after=0", headers=dms)
    assert page.status_code == 200
    [item] = page.json["items"]
    assert item["document"] is None and base64.b64decode(item["document_base64"]) == cp1251
    assert item["status_update"].startswith("<?xml")


def test_tracking_says_by_when_the_appeal_must_reach_the_competent_official(client, signers, gateway):
    """SPEC: forwarding to the competent official within 5 working days. Until someone acts on the appeal
    (forwards it or takes it in process), the citizen sees that day, and whether it has passed."""
    from datetime import UTC, datetime

    from gateway.domain.appeals.deadlines import forward_due
    from gateway.services import tracking

    appeal_id, code = appeal_to(client, signers, MINISTER)
    view = client.get(f"/api/v1/appeals/{code}").json
    received = datetime.fromisoformat(view["received_at"])
    expected = forward_due(received, gateway.appeals.policy)
    assert (view["forward_by"], view["forward_late"]) == (expected.isoformat(), False)
    assert "To reach the competent official by" in client.get(f"/track/{code}").data.decode()
    with gateway.sessions() as session:
        later = tracking.track(session, gateway.appeals, code, now=datetime.now(UTC) + timedelta(days=14))
    assert later.forward_by == expected and later.forward_late

    send(client, signers, DMS, status_change(appeal_id, MINISTER, "in_process"))
    view = client.get(f"/api/v1/appeals/{code}").json
    assert (view["forward_by"], view["forward_late"]) == (None, False)


def test_quiet_closures_with_a_zero_period_and_one_failing_appeal(client, signers, gateway, monkeypatch):
    """A quiet period of 0 days is a valid setting; and one appeal that cannot be closed is logged and
    skipped, never holding up the others."""
    from datetime import UTC, datetime

    from gateway.app import build_gateway, quiet_closures

    immediate = build_gateway(gateway.settings.with_(quiet_period_days=0), engine=gateway.engine)
    ids = [appeal_to(client, signers, DEPT_HEAD)[0] for _ in range(3)]
    for appeal_id in ids:
        send(client, signers, DEPT_HEAD, doc("AppealReply", DMS, AppealId=appeal_id, Official=DEPT_HEAD))
    logged: list[str] = []
    closures = quiet_closures(immediate, logged.append)
    closures._clock = lambda: datetime.now(UTC) + timedelta(seconds=1)
    real = immediate.appeals.close_quietly

    def close_quietly(session, appeal_id, at):
        if appeal_id == ids[1]:
            raise RuntimeError("disk on fire")
        return real(session, appeal_id, at)

    monkeypatch.setattr(immediate.appeals, "close_quietly", close_quietly)
    assert closures.run() == 2
    assert logged == [f"quiet closure of {ids[1]} failed: RuntimeError: disk on fire"]
    monkeypatch.undo()
    assert closures.run() == 1  # the next run closes it
    with gateway.sessions() as session:
        kinds = session.scalars(
            select(AppealEvent.kind).where(AppealEvent.appeal_id.in_(ids), AppealEvent.kind == "closed")
        ).all()
    assert len(kinds) == 3


def replied(client, signers, gateway) -> tuple[str, datetime]:
    """A new appeal the official has replied to, and the time of the reply."""
    appeal_id, _ = appeal_to(client, signers, DEPT_HEAD)
    send(client, signers, DEPT_HEAD, doc("AppealReply", DMS, AppealId=appeal_id, Official=DEPT_HEAD))
    return appeal_id, _reply_at(gateway, appeal_id)


def _reply_at(gateway, appeal_id: str) -> datetime:
    with gateway.sessions() as session:
        at = session.scalar(
            select(AppealEvent.at).where(AppealEvent.appeal_id == appeal_id, AppealEvent.kind == "reply_sent")
        )
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _the_reply(appeal_id: str) -> tuple:
    return AppealEvent.appeal_id == appeal_id, AppealEvent.kind == "reply_sent"


def test_due_quiet_closures_are_read_from_a_window_of_replies(client, signers, gateway):
    """Due: a reply older than the quiet period that is still the appeal's last event; with a watermark, only
    the replies made since it; superseded replies never."""
    from sqlalchemy import update

    service = gateway.appeals
    old, _ = replied(client, signers, gateway)
    recent, at = replied(client, signers, gateway)
    reviewed, _ = replied(client, signers, gateway)
    send(client, signers, PORTAL, doc("ReplyReview", PORTAL, AppealId=reviewed, Stars="4"))
    young, _ = replied(client, signers, gateway)
    now = at + timedelta(days=30, minutes=5)
    with gateway.sessions() as session:
        session.execute(update(AppealEvent).where(*_the_reply(old)).values(at=at - timedelta(hours=3)))
        session.execute(update(AppealEvent).where(*_the_reply(young)).values(at=at + timedelta(minutes=10)))
        session.commit()
        assert service.quiet_replies_due(session, now) == [(old, at - timedelta(hours=3)), (recent, at)]
        assert service.quiet_replies_due(session, now, since=at - timedelta(hours=1)) == [(recent, at)]
        assert service.quiet_replies_due(session, now, since=at + timedelta(seconds=1)) == []


def test_the_worker_s_watermark_keeps_late_replies_and_a_restart_reads_every_reply(
    client, signers, gateway, monkeypatch
):
    """Each run reads the replies since the last complete run's cutoff less an hour: a reply whose time is a
    little older than that cutoff, committed after the run, is closed by the next run; one committed more
    than the margin late waits for a restart (a new QuietClosures reads every reply). A run in which an
    appeal failed moves the watermark only up to that appeal's reply, so it is tried again however long it
    takes, and the window does not grow meanwhile."""
    from gateway.app import quiet_closures

    first, _ = replied(client, signers, gateway)
    late, at = replied(client, signers, gateway)
    later, _ = replied(client, signers, gateway)
    closures = quiet_closures(gateway)
    run_at = at + timedelta(days=30, minutes=10)  # cutoff: 10 minutes after the late reply
    closures._clock = lambda: run_at
    with (
        committed_late(gateway, AppealEvent, *_the_reply(late)),
        committed_late(gateway, AppealEvent, *_the_reply(later), at=at - timedelta(hours=2)),
    ):
        assert closures.run() == 1  # `first`; the other two replies are not committed yet
    closures._clock = lambda: run_at + timedelta(minutes=5)
    assert closures.run() == 1  # `late`, 10 minutes older than the last cutoff: within the margin
    assert _last_kind(gateway, late) == "closed" and _last_kind(gateway, later) == "reply_sent"
    restarted = quiet_closures(gateway)
    restarted._clock = lambda: run_at + timedelta(minutes=5)
    assert restarted.run() == 1 and _last_kind(gateway, later) == "closed"

    failing, failing_at = replied(client, signers, gateway)
    fresh = quiet_closures(gateway)
    real = fresh._effects.appeals.close_quietly

    def close_quietly(session, appeal_id, at):
        if appeal_id == failing:
            raise RuntimeError("disk on fire")
        return real(session, appeal_id, at)

    monkeypatch.setattr(fresh._effects.appeals, "close_quietly", close_quietly)
    for hours in (0, 2):
        fresh._clock = lambda hours=hours: failing_at + timedelta(days=30, hours=hours, minutes=1)
        assert fresh.run() == 0
        # The window moved on, but not past the failing appeal's reply: it is read again, and nothing older.
        assert fresh._since == failing_at - QuietClosures.MARGIN
    monkeypatch.undo()
    fresh._clock = lambda: failing_at + timedelta(days=30, hours=3)
    assert fresh.run() == 1 and _last_kind(gateway, failing) == "closed"
    assert fresh._since == fresh._effects.appeals.quiet_cutoff(fresh._clock()) - QuietClosures.MARGIN


def _last_kind(gateway, appeal_id: str) -> str:
    with gateway.sessions() as session:
        return session.scalars(
            select(AppealEvent.kind)
            .where(AppealEvent.appeal_id == appeal_id)
            .order_by(AppealEvent.seq.desc())
        ).first()


def test_the_due_query_reads_the_replies_index(gateway):
    """What keeps the housekeeping flat as the log grows: the window comes from ix_appeal_events_replies,
    never from a scan of every event (PostgreSQL is told to avoid sequential scans: test tables are small)."""
    from sqlalchemy import event

    statements = []

    def grab(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    now = datetime.now(UTC)
    event.listen(gateway.engine, "before_cursor_execute", grab)
    try:
        with gateway.sessions() as session:
            gateway.appeals.quiet_replies_due(session, now, since=now - timedelta(days=31))
    finally:
        event.remove(gateway.engine, "before_cursor_execute", grab)
    ((statement, parameters),) = [s for s in statements if s[0].lstrip().upper().startswith("SELECT")]
    with gateway.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = [row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]
        else:
            plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    assert any("ix_appeal_events_replies" in line for line in plan), plan
