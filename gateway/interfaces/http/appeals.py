"""JSON read APIs for appeals: the citizen's tracking view, officials' inboxes, systems' outboxes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify, request

from gateway.domain.ids import MAX_ROW_NUMBER, is_row_number, whole_number
from gateway.errors import Problem
from gateway.interfaces.http.api import bearer, problem_response
from gateway.services import access, inbox, tracking
from gateway.store.database import writing

blueprint = Blueprint("appeals", __name__)


def _gateway():
    return current_app.extensions["zvarot"]


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _not_found(detail: str) -> Response:
    return problem_response(404, Problem("not-found", detail))


def _unauthorized(detail: str) -> Response:
    response = problem_response(401, Problem("unauthorized", detail))
    response.headers["WWW-Authenticate"] = 'Bearer realm="zvarot"'
    return response


def _forbidden(detail: str) -> Response:
    return problem_response(403, Problem("forbidden", detail))


def _bad_request(detail: str) -> Response:
    return problem_response(400, Problem("bad-request", detail))


def _cursor(name: str, default: int = 0) -> int | None:
    return whole_number(request.args.get(name, str(default)))


# --- tracking (public, no personal data) ----------------------------------------------------------------


@blueprint.get("/api/v1/appeals/<tracking_code>")
def appeal_timeline(tracking_code: str) -> Response:
    gateway = _gateway()
    with gateway.sessions() as session:
        view = tracking.track(session, gateway.appeals, tracking.normalise_code(tracking_code), _now())
    if view is None:
        return _not_found(f"no appeal with tracking code {tracking_code}")
    return jsonify(
        {
            "tracking_code": view.tracking_code,
            "appeal_id": view.appeal_id,
            "status": view.status,
            "received_at": _iso(view.received_at),
            "due_date": view.due.date.isoformat() if view.due else None,
            "due_date_computation": list(view.due.steps) if view.due else [],
            "timeliness": view.timeliness,
            "forward_by": view.forward_by.isoformat() if view.forward_by else None,
            "forward_late": view.forward_late,
            "held_by": [{"official": h.id, "name": h.name, "post": h.post} for h in view.holders],
            "timeline": [
                {"seq": e.seq, "event": e.event, "text": e.text, "at": _iso(e.at), "by": e.actor}
                for e in view.timeline
            ],
        }
    )


@blueprint.get("/api/v1/appeals/<tracking_code>/status.xml")
def appeal_status_xml(tracking_code: str) -> Response:
    with _gateway().sessions() as session:
        document = tracking.latest_status_update(session, tracking.normalise_code(tracking_code))
    if document is None:
        return _not_found(f"no appeal with tracking code {tracking_code}")
    return Response(document, content_type="application/xml; charset=utf-8")


# --- inboxes (systems serving the official's agency) -------------------------------------------------------


def _inbox_access(session, official_id: str):
    try:
        return access.check_inbox_access(session, bearer(), official_id), None
    except access.InboxRefused as refused:
        answer = {"unauthorized": _unauthorized, "not-found": _not_found, "forbidden": _forbidden}
        return None, answer[refused.reason](refused.detail)


@blueprint.get("/api/v1/inbox/<official_id>")
def inbox_pull(official_id: str) -> Response:
    after, limit = _cursor("after"), _cursor("limit", 50)
    if after is None or limit is None:
        return _bad_request(f"after and limit must be whole numbers from 0 to {MAX_ROW_NUMBER}")
    with _gateway().sessions() as session:
        _, refusal = _inbox_access(session, official_id)
        if refusal:
            return refusal
        page = inbox.pull_inbox(session, official_id, after, limit)
    _record_hand_out(page)
    return jsonify(
        {
            "official": official_id,
            "items": [
                {
                    "cursor": e.cursor,
                    "appeal_id": e.appeal_id,
                    "tracking_code": e.tracking_code,
                    "kind": e.kind,
                    "event_seq": e.event_seq,
                    "created_at": _iso(e.created_at),
                    **_document_fields(e.document),
                    "status_update": e.status_update.decode() if e.status_update else None,
                }
                for e in page.items
            ],
            "next_after": page.next_after,
        }
    )


def _record_hand_out(page: inbox.Page) -> None:
    """Before the page is answered; a poll with nothing new writes nothing."""
    if page.to_record:
        with writing(_gateway().sessions) as session:
            inbox.hand_out(session, page, _now())
            session.commit()


def _acknowledgement() -> inbox.Ack | Response:
    """`{"cursor": N}` (everything handed out up to N) or `{"ids": [...]}` (exactly these), else a 400."""
    # Read as JSON whatever the content type says: `curl -d '{"cursor": 4}'` labels it a form.
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or ("cursor" in body) == ("ids" in body):
        return _bad_request('send {"cursor": <last cursor processed>} or {"ids": [<cursors processed>]}')
    if "cursor" in body:
        cursor = body["cursor"]
        if not is_row_number(cursor):
            return _bad_request(f"cursor must be a whole number from 0 to {MAX_ROW_NUMBER}")
        return inbox.Ack(cursor=cursor)
    ids = body["ids"]
    readable = isinstance(ids, list) and 1 <= len(ids) <= inbox.MAX_ACK_IDS and all(map(is_row_number, ids))
    if not readable:
        return _bad_request(
            f"ids must be a list of 1 to {inbox.MAX_ACK_IDS} cursors (whole numbers, 0 to {MAX_ROW_NUMBER})"
        )
    return inbox.Ack(ids=frozenset(ids))


def _acked(ack: inbox.Ack) -> dict:
    return {"cursor": ack.cursor} if ack.cursor is not None else {"ids": sorted(ack.ids)}


@blueprint.post("/api/v1/inbox/<official_id>/ack")
def inbox_ack(official_id: str) -> Response:
    ack = _acknowledgement()
    if isinstance(ack, Response):
        return ack
    with writing(_gateway().sessions) as session:
        _, refusal = _inbox_access(session, official_id)
        if refusal:
            return refusal
        count = inbox.ack_inbox(session, official_id, ack, _now())
        session.commit()
    return jsonify({"official": official_id, "acknowledged": count, **_acked(ack)})


# --- a system's own status updates -----------------------------------------------------------------------


def _document_fields(document: bytes | None) -> dict:
    """The signed bytes exactly (base64), and as text where they are UTF-8: documents are kept as received,
    in whatever encoding their XML declaration names (the gateway's own are UTF-8), and must not break a
    page."""
    if document is None:
        return {"document": None, "document_base64": None}
    try:
        text = document.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {"document": text, "document_base64": base64.b64encode(document).decode("ascii")}


@blueprint.get("/api/v1/outbox")
def outbox_pull() -> Response:
    after, limit = _cursor("after"), _cursor("limit", 50)
    if after is None or limit is None:
        return _bad_request(f"after and limit must be whole numbers from 0 to {MAX_ROW_NUMBER}")
    with _gateway().sessions() as session:
        system = access.system_for_token(session, bearer())
        if system is None:
            return _unauthorized("a valid bearer token of a registered system is required")
        page = inbox.pull_outbox(session, system.id, after, limit)
    _record_hand_out(page)
    return jsonify(
        {
            "system": system.id,
            "items": [
                {
                    "cursor": r.id,
                    "appeal_id": r.appeal_id,
                    "event_seq": r.event_seq,
                    "document_type": r.document_type,
                    **_document_fields(r.document),
                }
                for r in page.items
            ],
            "next_after": page.next_after,
        }
    )


@blueprint.post("/api/v1/outbox/ack")
def outbox_ack() -> Response:
    ack = _acknowledgement()
    if isinstance(ack, Response):
        return ack
    with writing(_gateway().sessions) as session:
        system = access.system_for_token(session, bearer())
        if system is None:
            return _unauthorized("a valid bearer token of a registered system is required")
        count = inbox.ack_outbox(session, system.id, ack, _now())
        session.commit()
    return jsonify({"system": system.id, "acknowledged": count, **_acked(ack)})
