"""The SOAP 1.1 endpoint driven by zeep against a running `zvarot serve`; envelope handling in process."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

from gateway.app import build_gateway, create_app
from gateway.interfaces.soap.endpoint import _OPERATIONS_BY_NAME
from gateway.interfaces.soap.envelope import SOAP12_ENV, SOAP_ENV, ZS
from gateway.interfaces.soap.wsdl import OPERATIONS
from gateway.xml import ns
from gateway.xml.parsing import parse_document
from gateway.xml.signatures import verify_document
from tests.helpers import committed_late, error_codes, example, running_gateway, signed, system_token

PORTAL, DMS, OTHER_DMS = "sys-portal", "sys-dms-housing", "sys-dms-minsk-region"
MINISTER = "off-housing-minister"
PROBLEM = f"{{{ZS}}}Problem"


# --- a running gateway --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory, pki_dir, database_url, engine) -> Iterator[str]:
    """`python -m gateway serve` on a free loopback port, on the tests' database and PKI (the same URL that
    the `settings` fixture gives: each test's `clean_db` re-seeds it under the running server)."""
    with running_gateway(tmp_path_factory.mktemp("soap-server"), database_url, pki_dir) as base:
        yield base


@pytest.fixture
def base(server, clean_db) -> str:
    return server


def soap_client(base: str, token: str | None = None) -> zeep.Client:
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment: loopback only
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return zeep.Client(f"{base}/soap?wsdl", transport=Transport(session=session))


def appeal_to(signers, official: str) -> bytes:
    root = example("Appeal")
    addressee = root.find("zv:Body/zv:Addressee", ns.NSMAP)
    for element in list(addressee):
        addressee.remove(element)
    etree.SubElement(addressee, ns.zv("Official")).text = official
    return signed(signers, PORTAL, root)


def status_change(signers, appeal_id: str, status: str) -> bytes:
    root = example("AppealStatusChange", SenderSystem=DMS)
    body = root.find("zv:Body", ns.NSMAP)
    body.find("zv:AppealId", ns.NSMAP).text = appeal_id
    body.find("zv:Official", ns.NSMAP).text = MINISTER
    body.find("zv:NewStatus", ns.NSMAP).text = status
    for due in body.findall("zv:NewDueDate", ns.NSMAP):
        body.remove(due)
    return signed(signers, DMS, root)


def verified_by_gateway(gateway, data: bytes) -> etree._Element:
    """The signed content of a document the gateway issued, after checking its signature and chain."""
    verified = verify_document(parse_document(data))
    assert gateway.certificates.verify(verified.certificate, verified.untrusted_chain).uid == "zvarot-gateway"
    return verified.signed_root


def receipt_text(receipt: etree._Element, path: str) -> str | None:
    return receipt.findtext(f"zv:Body/{path}", namespaces=ns.NSMAP)


def fault_problem(fault: zeep.exceptions.Fault) -> dict:
    problem = fault.detail.find(PROBLEM)
    assert problem is not None, etree.tostring(fault.detail)
    return {etree.QName(child).localname: child.text for child in problem}


# --- zeep against the running server ------------------------------------------------------------------------


@pytest.mark.slow
def test_the_wsdl_loads_in_zeep_with_the_four_operations_at_the_address_it_was_fetched_from(base):
    client = soap_client(base)
    service = client.wsdl.services["ZvarotService"]
    port = service.ports["ZvarotPort"]
    assert set(port.binding._operations) == {"Submit", "FetchInbox", "Acknowledge", "GetAppealStatus"}
    assert port.binding_options["address"] == f"{base}/soap"


@pytest.mark.slow
def test_submit_accepts_a_signed_appeal_and_answers_a_resend_with_the_same_receipt(base, signers, gateway):
    client = soap_client(base)
    document = appeal_to(signers, MINISTER)

    first = client.service.Submit(document=document)
    assert first.outcome == "accepted"
    receipt = verified_by_gateway(gateway, first.receipt)
    assert receipt_text(receipt, "zv:Outcome") == "accepted"
    assert receipt_text(receipt, "zv:ReceiptId") == first.receiptId
    assert receipt_text(receipt, "zv:Appeal/zv:TrackingCode")

    again = client.service.Submit(document=document)
    assert again.outcome == "duplicate"
    assert again.receiptId == first.receiptId
    assert again.receipt == first.receipt, "a resend gets the original receipt, byte for byte"


def _unsigned(signers) -> bytes:
    return etree.tostring(example("Appeal"), xml_declaration=True, encoding="utf-8")


def _tampered(signers) -> bytes:
    document = appeal_to(signers, MINISTER)
    return document.replace(b"<Subject>", b"<Subject>Not what was signed: ", 1)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("make", "code"), [(_unsigned, "signature-missing"), (_tampered, "signature-invalid")]
)
def test_a_rejected_submission_is_a_client_fault_carrying_the_code_and_the_signed_rejection_receipt(
    base, signers, gateway, make, code
):
    document = make(signers)
    assert code != "signature-invalid" or b"Not what was signed" in document
    with pytest.raises(zeep.exceptions.Fault) as raised:
        soap_client(base).service.Submit(document=document)
    fault = raised.value
    assert fault.code == "soap:Client"
    assert fault.message.startswith(f"{code}: ")
    problem = fault_problem(fault)
    assert problem["code"] == code and problem["message"]
    receipt = verified_by_gateway(gateway, base64.b64decode(problem["receipt"]))
    assert receipt_text(receipt, "zv:Outcome") == "rejected"
    assert receipt_text(receipt, "zv:ReceiptId") == problem["receiptId"]
    assert error_codes(receipt) == [code]


@pytest.mark.slow
def test_the_whole_flow_over_soap_submit_inbox_acknowledge_status(base, signers, gateway, settings):
    portal = soap_client(base)
    dms = soap_client(base, system_token(settings, DMS))
    document = appeal_to(signers, MINISTER)
    submitted = portal.service.Submit(document=document)
    receipt = verified_by_gateway(gateway, submitted.receipt)
    appeal_id = receipt_text(receipt, "zv:Appeal/zv:AppealId")
    tracking_code = receipt_text(receipt, "zv:Appeal/zv:TrackingCode")

    inbox = dms.service.FetchInbox(official=MINISTER)
    assert [(i.appealId, i.trackingCode, i.kind) for i in inbox.item] == [
        (appeal_id, tracking_code, "appeal")
    ]
    item = inbox.item[0]
    assert item.document == document, "the official gets the citizen's signed appeal verbatim"
    update = verified_by_gateway(gateway, item.statusUpdate)
    assert update.findtext("zv:Body/zv:AppealId", namespaces=ns.NSMAP) == appeal_id
    assert inbox.nextAfter == item.cursor
    # Not acknowledged: pulled again (at-least-once); then acknowledged, gone.
    assert [i.cursor for i in dms.service.FetchInbox(official=MINISTER, after=0, limit=10).item] == [
        item.cursor
    ]
    assert dms.service.Acknowledge(official=MINISTER, cursor=item.cursor) == 1
    after_ack = dms.service.FetchInbox(official=MINISTER)
    assert after_ack.item == [] and after_ack.nextAfter == 0
    assert dms.service.Acknowledge(official=MINISTER, cursor=item.cursor) == 0

    assert dms.service.Submit(document=status_change(signers, appeal_id, "in_process")).outcome == "accepted"
    status = portal.service.GetAppealStatus(trackingCode=tracking_code)
    assert (status.trackingCode, status.appealId, status.status) == (tracking_code, appeal_id, "in_process")
    assert [(e.seq, e.event) for e in status.entry] == [(1, "received"), (2, "in_process")]
    assert all(e.text and e.at.tzinfo is not None and e.by for e in status.entry)
    assert status.dueDate is not None and status.dueDateStep
    assert [h.official for h in status.holder] == [MINISTER]
    latest = verified_by_gateway(gateway, status.statusUpdate)
    assert latest.findtext("zv:Body/zv:Status", namespaces=ns.NSMAP) == "in_process"


@pytest.mark.slow
def test_inbox_refuses_other_agencies_bad_tokens_and_unknown_officials(base, signers, settings):
    soap_client(base).service.Submit(document=appeal_to(signers, MINISTER))
    cases = [
        (
            soap_client(base, system_token(settings, OTHER_DMS)),
            MINISTER,
            "soap:Client.Forbidden",
            "forbidden",
        ),
        (soap_client(base, "zvt_wrong"), MINISTER, "soap:Client.Unauthorized", "unauthorized"),
        (soap_client(base), MINISTER, "soap:Client.Unauthorized", "unauthorized"),
        (soap_client(base, system_token(settings, DMS)), "off-nobody", "soap:Client.NotFound", "not-found"),
    ]
    for client, official, faultcode, code in cases:
        for operation, extra in (("FetchInbox", {}), ("Acknowledge", {"cursor": 10**6})):
            with pytest.raises(zeep.exceptions.Fault) as raised:
                getattr(client.service, operation)(official=official, **extra)
            assert (raised.value.code, fault_problem(raised.value)["code"]) == (faultcode, code)
    # Nothing was acknowledged by the refused calls.
    items = soap_client(base, system_token(settings, DMS)).service.FetchInbox(official=MINISTER).item
    assert len(items) == 1


@pytest.mark.slow
def test_an_item_committed_late_comes_again_and_ids_are_acknowledged_exactly(
    base, signers, gateway, settings
):
    """The JSON inbox's hand-out rules hold over SOAP (tests/functional/test_pull_ack.py), and Acknowledge
    takes exact ids (the WSDL's choice of cursor or id) of the official's own items only."""
    from sqlalchemy import select

    from gateway.store.appeals import InboxItem

    portal, dms = soap_client(base), soap_client(base, system_token(settings, DMS))
    for official in (MINISTER, MINISTER, "off-housing-dept-head"):
        portal.service.Submit(document=appeal_to(signers, official))
    with gateway.sessions() as session:
        rows = session.execute(select(InboxItem.id, InboxItem.official_id).order_by(InboxItem.id)).all()
    (early, later), other = [i for i, o in rows if o == MINISTER], [i for i, o in rows if o != MINISTER]
    with committed_late(gateway, InboxItem, InboxItem.id == early):
        assert [i.cursor for i in dms.service.FetchInbox(official=MINISTER).item] == [later]
    assert dms.service.Acknowledge(official=MINISTER, cursor=later) == 1
    page = dms.service.FetchInbox(official=MINISTER, after=later)
    assert [i.cursor for i in page.item] == [early] and page.nextAfter == later + 1
    assert dms.service.Acknowledge(official=MINISTER, id=[early, *other]) == 1
    assert dms.service.FetchInbox(official=MINISTER).item == []
    assert [i.cursor for i in dms.service.FetchInbox(official="off-housing-dept-head").item] == other


@pytest.mark.slow
def test_status_of_an_unknown_tracking_code_is_a_not_found_fault(base):
    with pytest.raises(zeep.exceptions.Fault) as raised:
        soap_client(base).service.GetAppealStatus(trackingCode="AAAA-BBBB-CCCC-DDDD-EEEE")
    assert raised.value.code == "soap:Client.NotFound"
    assert fault_problem(raised.value)["code"] == "not-found"


# --- in process (Flask's test client): the WSDL and envelopes zeep would never send -------------------------


def _envelope(body: str, header: str = "", namespace: str = SOAP_ENV, prolog: str = "") -> bytes:
    envelope = (
        f'<s:Envelope xmlns:s="{namespace}" xmlns:z="{ZS}">{header}<s:Body>{body}</s:Body></s:Envelope>'
    )
    return (prolog + envelope).encode()


def _fault_of(response) -> tuple[str, dict]:
    assert response.status_code == 500, response.data
    assert response.content_type == "text/xml; charset=utf-8"
    root = etree.fromstring(response.data)
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None, response.data
    assert fault.findtext("faultstring")
    problem = fault.find(f"detail/{PROBLEM}")
    return fault.findtext("faultcode"), {etree.QName(c).localname: c.text for c in problem}


def _post(client, data: bytes, content_type: str = "text/xml; charset=utf-8"):
    return client.post("/soap", data=data, content_type=content_type)


def test_wsdl_and_malformed_envelopes_in_process(client):
    assert set(OPERATIONS) == set(_OPERATIONS_BY_NAME)
    response = client.get("/soap?wsdl")
    assert response.status_code == 200 and response.content_type == "text/xml; charset=utf-8"
    wsdl = etree.fromstring(response.data)
    assert wsdl.get("targetNamespace") == "urn:zvarot:soap:1"
    address = wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == "http://localhost/soap"
    assert client.get("/soap").status_code == 400

    faultcode, problem = _fault_of(_post(client, _envelope("<z:Submit>").replace(b"</s:Body>", b"", 1)))
    assert (faultcode, problem["code"]) == ("soap:Client", "malformed-xml") and int(problem["line"]) == 1
    cases = [
        (_envelope("<z:Submit/>", prolog='<!DOCTYPE x [<!ENTITY a "b">]>'), "soap:Client", "forbidden-dtd"),
        (b"not xml at all", "soap:Client", "malformed-xml"),
        (_envelope("<z:Submit/>", namespace=SOAP12_ENV), "soap:VersionMismatch", "version-mismatch"),
        (b"<Envelope/>", "soap:VersionMismatch", "version-mismatch"),
        (b'<Appeal xmlns="urn:zvarot:1"/>', "soap:Client.BadRequest", "bad-request"),
        (_envelope("<z:Submit/><z:Submit/>"), "soap:Client.BadRequest", "bad-request"),
        (_envelope(""), "soap:Client.BadRequest", "bad-request"),
        (_envelope("<z:Submit/>"), "soap:Client.BadRequest", "bad-request"),
        (
            _envelope("<z:Submit><z:document>!!not base64</z:document></z:Submit>"),
            "soap:Client.BadRequest",
            "bad-request",
        ),
        (_envelope("<z:DeleteEverything/>"), "soap:Client", "unknown-operation"),
        (
            _envelope("<z:FetchInbox><z:official>x</z:official><z:after>-1</z:after></z:FetchInbox>"),
            "soap:Client.BadRequest",
            "bad-request",
        ),
        (_envelope("<z:GetAppealStatus/>", prolog="<?pi x?>"), "soap:Client.BadRequest", "bad-request"),
        (
            _envelope(
                "<z:GetAppealStatus><z:trackingCode>X</z:trackingCode></z:GetAppealStatus>",
                header='<s:Header><w:Security xmlns:w="urn:x" s:mustUnderstand="1"/></s:Header>',
            ),
            "soap:MustUnderstand",
            "must-understand",
        ),
    ]
    for data, faultcode, code in cases:
        got_faultcode, problem = _fault_of(_post(client, data))
        assert (got_faultcode, problem["code"]) == (faultcode, code), data
    assert _fault_of(_post(client, _envelope("<z:Submit/>"), "application/soap+xml"))[0] == (
        "soap:VersionMismatch"
    )
    assert (
        _fault_of(_post(client, _envelope("<z:Submit/>"), "application/json"))[1]["code"] == "malformed-xml"
    )


def test_acknowledge_takes_a_cursor_or_ids_in_process(client):
    """Checked before the token: a cursor and ids at once, more than 1000 ids, a bad id, neither."""
    official = "<z:official>off-housing-minister</z:official>"
    cases = [
        f"{official}<z:cursor>5</z:cursor><z:id>5</z:id>",
        official + "<z:id>1</z:id>" * 1001,
        f"{official}<z:id>1</z:id><z:id>-2</z:id>",
        f"{official}<z:cursor>2147483648</z:cursor>",  # past PostgreSQL's integer ids: a fault, not a 500
        f"{official}<z:id>999999999999999999</z:id>",
        official,
    ]
    for body in cases:
        faultcode, problem = _fault_of(_post(client, _envelope(f"<z:Acknowledge>{body}</z:Acknowledge>")))
        assert (faultcode, problem["code"]) == ("soap:Client.BadRequest", "bad-request"), body
    faultcode, _ = _fault_of(
        _post(client, _envelope(f"<z:Acknowledge>{official}<z:id>1</z:id></z:Acknowledge>"))
    )
    assert faultcode == "soap:Client.Unauthorized"  # well formed: on to the token
    faultcode, _ = _fault_of(
        _post(client, _envelope(f"<z:Acknowledge>{official}<z:cursor>+2147483647</z:cursor></z:Acknowledge>"))
    )
    assert faultcode == "soap:Client.Unauthorized"  # the largest row number, with xs:unsignedLong's plus


def test_submit_in_process_holds_the_document_to_its_limit_and_takes_base64_beyond_libxml2s_text_cap(
    settings, clean_db, signers
):
    small = create_app(gateway=build_gateway(settings.with_(max_document_bytes=4000), engine=clean_db))
    client = small.test_client()
    document = appeal_to(signers, MINISTER)
    assert (
        4000 < len(document) < 6000
    )  # the envelope limit (1.5 x + overhead) lets it in; the document's does not

    def submit(data: bytes) -> bytes:
        encoded = base64.encodebytes(data).decode()  # with line breaks, as some SOAP stacks send it
        return _envelope(f"<z:Submit><z:document>{encoded}</z:document></z:Submit>")

    faultcode, problem = _fault_of(_post(client, submit(document)))
    assert (faultcode, problem["code"]) == ("soap:Client", "too-large")
    assert problem["receiptId"] and "receipt" not in problem  # unreadable: recorded, no receipt
    twice = _fault_of(_post(client, submit(document * 2)))[
        1
    ]  # within the envelope's limit, not the document's
    assert twice["code"] == "too-large" and "document" in twice["message"]
    beyond = _fault_of(_post(client, submit(b"x" * 100_000)))[1]  # refused before the envelope is read
    assert beyond["code"] == "too-large" and "envelope" in beyond["message"] and "receiptId" not in beyond

    # At the default limit a document of 8 MB is 10.7 MB of base64: one text node above libxml2's default cap.
    big = etree.tostring(example("Appeal"), encoding="utf-8").replace(
        b"</zv:Appeal>", b"<!--" + b"x" * 8_000_000 + b"--></zv:Appeal>"
    )
    client = create_app(gateway=build_gateway(settings, engine=clean_db)).test_client()
    faultcode, problem = _fault_of(_post(client, submit(big)))
    assert problem["code"] == "signature-missing", problem["message"]
    assert error_codes(etree.fromstring(base64.b64decode(problem["receipt"]))) == ["signature-missing"]


def test_a_configured_public_url_is_the_wsdl_address_whatever_the_host_header(gateway):
    """Behind a proxy or a cache, the Host header is the client's to write: ZVAROT_PUBLIC_URL decides."""
    from dataclasses import replace

    from gateway.app import create_app

    public = replace(gateway, settings=replace(gateway.settings, public_url="https://zvarot.example.by"))
    client = create_app(gateway=public).test_client()
    response = client.get("/soap?wsdl", headers={"Host": "attacker.example"})
    address = etree.fromstring(response.data).find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == "https://zvarot.example.by/soap"


@pytest.mark.parametrize("url", ["zvarot.example.by", "ftp://x", "https://x/?q", "https://a b"])
def test_a_public_url_that_is_not_one_is_named(url):
    from gateway.config import Settings

    with pytest.raises(ValueError, match="ZVAROT_PUBLIC_URL"):
        Settings(public_url=url)
