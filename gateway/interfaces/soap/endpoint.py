"""The SOAP 1.1 endpoint: `GET /soap?wsdl` and `POST /soap`, dispatched on the Body's operation element.

The operations are thin: Submit runs the same ingest pipeline as `POST /api/v1/messages`; the inbox and
tracking operations use the same services as the JSON API, with the same bearer tokens (in the HTTP
`Authorization` header: WS-Security is not supported).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, request
from lxml import etree
from werkzeug.exceptions import RequestEntityTooLarge

from gateway.interfaces.soap.envelope import (
    ZS,
    SoapFault,
    bad_request,
    base64_param,
    child,
    client_fault,
    element,
    envelope,
    envelope_limits,
    fault_envelope,
    operation_response,
    read_request,
    text_param,
    whole_param,
    whole_params,
)
from gateway.interfaces.soap.wsdl import wsdl_document
from gateway.services import access, inbox, tracking
from gateway.store.database import writing

blueprint = Blueprint("soap", __name__)

SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
ACCEPTED_MEDIA_TYPES = {"text/xml", "application/xml"}
DEFAULT_PAGE = 50

# SOAP 1.1 says Server for "not attributable to the contents of the message": a revocation status we could not
# establish (a missing or stale CRL) may well succeed later with the very same document.
SERVER_CODES = frozenset({"revocation-unknown"})


def _gateway():
    return current_app.extensions["zvarot"]


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _xml(body: bytes, status: int = 200) -> Response:
    return Response(body, status=status, content_type=SOAP_CONTENT_TYPE)


def _fault(fault: SoapFault) -> Response:
    # SOAP 1.1 §6.2: a Fault travels with HTTP 500, whatever its cause.
    return _xml(fault_envelope(fault), status=500)


@blueprint.get("/soap")
def wsdl() -> Response:
    if not any(key.lower() == "wsdl" for key in request.args):
        return Response(
            "Zvarot SOAP 1.1 endpoint: POST envelopes here; the WSDL is at ?wsdl\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    # Where configured, the public URL: a Host header is the client's to write, and a cache in front that
    # ignores it would hand one client's address to every other.
    public = current_app.extensions["zvarot"].settings.public_url
    return _xml(wsdl_document(f"{public}/soap" if public else request.base_url))


@blueprint.post("/soap")
def endpoint() -> Response:
    gateway = _gateway()
    settings = gateway.settings
    limits = envelope_limits(settings.max_document_bytes, settings.max_depth)
    if request.mimetype == "application/soap+xml":
        return _fault(
            SoapFault("VersionMismatch", "version-mismatch", "this endpoint speaks SOAP 1.1 (text/xml)")
        )
    if request.mimetype not in ACCEPTED_MEDIA_TYPES:
        return _fault(
            client_fault(
                "malformed-xml", f"send SOAP 1.1 as text/xml, not {request.mimetype or 'no content type'}"
            )
        )
    if request.content_length is not None and request.content_length > limits.max_bytes:
        return _fault(_too_large(request.content_length, limits.max_bytes))
    # The app-wide MAX_CONTENT_LENGTH is the document's limit; an envelope carries it as base64 (+1/3).
    request.max_content_length = limits.max_bytes + 1
    try:
        data = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return _fault(_too_large(None, limits.max_bytes))
    try:
        operation = read_request(data, limits)
        handler = _OPERATIONS.get(operation.tag)
        if handler is None:
            raise client_fault(
                "unknown-operation",
                f"no operation {operation.tag}; this endpoint has "
                + ", ".join(f"{{{ZS}}}{name}" for name in _OPERATIONS_BY_NAME),
            )
        return _xml(envelope(handler(gateway, operation)))
    except SoapFault as fault:
        return _fault(fault)
    except Exception:  # a failure of ours: logged here, never described to the caller
        current_app.logger.exception("SOAP request failed")
        return _fault(SoapFault("Server", "internal-error", "the gateway failed to process the request"))


def _too_large(size: int | None, limit: int) -> SoapFault:
    said = f"{size} bytes" if size is not None else "larger than allowed"
    return client_fault("too-large", f"the envelope is {said}; the limit is {limit}")


# --- operations ---------------------------------------------------------------------------------------------


def submit(gateway, operation: etree._Element) -> etree._Element:
    outcome = gateway.pipeline.submit(base64_param(operation, "document"))
    if outcome.outcome == "rejected":
        problem = outcome.problem
        raise SoapFault(
            "Server" if problem.code in SERVER_CODES else "Client",
            problem.code,
            problem.message,
            line=problem.line,
            path=problem.path,
            receipt_id=outcome.receipt_id,
            receipt=outcome.receipt,
        )
    response = operation_response("Submit")
    element(response, "outcome", outcome.outcome)
    element(response, "receiptId", outcome.receipt_id)
    element(response, "receipt", outcome.receipt)
    return response


def _check_inbox_access(session, official_id: str) -> None:
    try:
        token = access.bearer_token(request.headers.get("Authorization"))
        access.check_inbox_access(session, token, official_id)
    except access.InboxRefused as refused:
        subcode = {"unauthorized": "Unauthorized", "not-found": "NotFound", "forbidden": "Forbidden"}
        detail = refused.detail
        if refused.reason == "unauthorized":
            detail = "send the HTTP header Authorization: Bearer <token> of a registered system"
        raise client_fault(refused.reason, detail, subcode[refused.reason]) from None


def fetch_inbox(gateway, operation: etree._Element) -> etree._Element:
    official_id = text_param(operation, "official")
    after = whole_param(operation, "after", 0)
    limit = whole_param(operation, "limit", DEFAULT_PAGE)
    with gateway.sessions() as session:
        _check_inbox_access(session, official_id)
        page = inbox.pull_inbox(session, official_id, after, limit)
    if page.to_record:  # recorded before the page is answered; a poll with nothing new writes nothing
        with writing(gateway.sessions) as session:
            inbox.hand_out(session, page, _now())
            session.commit()
    response = operation_response("FetchInbox")
    for entry in page.items:
        item = element(response, "item")
        element(item, "cursor", entry.cursor)
        element(item, "appealId", entry.appeal_id)
        element(item, "trackingCode", entry.tracking_code)
        element(item, "kind", entry.kind)
        element(item, "eventSeq", entry.event_seq)
        element(item, "createdAt", _iso(entry.created_at))
        if entry.document is not None:
            element(item, "document", entry.document)
        if entry.status_update is not None:
            element(item, "statusUpdate", entry.status_update)
    element(response, "nextAfter", page.next_after)
    return response


def acknowledge(gateway, operation: etree._Element) -> etree._Element:
    official_id = text_param(operation, "official")
    ids = whole_params(operation, "id", inbox.MAX_ACK_IDS)
    if ids and child(operation, "cursor") is not None:
        raise bad_request("Acknowledge takes a cursor or ids, not both")
    ack = inbox.Ack(ids=frozenset(ids)) if ids else inbox.Ack(cursor=whole_param(operation, "cursor"))
    with writing(gateway.sessions) as session:
        _check_inbox_access(session, official_id)
        count = inbox.ack_inbox(session, official_id, ack, _now())
        session.commit()
    response = operation_response("Acknowledge")
    element(response, "acknowledged", count)
    return response


def appeal_status(gateway, operation: etree._Element) -> etree._Element:
    code = text_param(operation, "trackingCode").upper()
    with gateway.sessions() as session:
        view = tracking.track(session, gateway.appeals, code, _now())
        latest = tracking.latest_status_update(session, code) if view is not None else None
    if view is None:
        raise client_fault("not-found", f"no appeal with tracking code {code}", "NotFound")
    response = operation_response("GetAppealStatus")
    element(response, "trackingCode", view.tracking_code)
    element(response, "appealId", view.appeal_id)
    element(response, "status", view.status)
    element(response, "receivedAt", _iso(view.received_at))
    if view.due is not None:
        element(response, "dueDate", view.due.date.isoformat())
        for step in view.due.steps:
            element(response, "dueDateStep", step)
    element(response, "timeliness", view.timeliness)
    for holder in view.holders:
        node = element(response, "holder")
        element(node, "official", holder.id)
        element(node, "name", holder.name)
        element(node, "post", holder.post)
    for entry in view.timeline:
        node = element(response, "entry")
        element(node, "seq", entry.seq)
        element(node, "event", entry.event)
        element(node, "text", entry.text)
        element(node, "at", _iso(entry.at))
        element(node, "by", entry.actor)
    if latest is not None:
        element(response, "statusUpdate", latest)
    return response


_OPERATIONS_BY_NAME: dict[str, Callable] = {
    "Submit": submit,
    "FetchInbox": fetch_inbox,
    "Acknowledge": acknowledge,
    "GetAppealStatus": appeal_status,
}
_OPERATIONS = {f"{{{ZS}}}{name}": handler for name, handler in _OPERATIONS_BY_NAME.items()}
