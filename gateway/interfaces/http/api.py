"""JSON/XML HTTP API: document submission and health."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import text

from gateway.errors import Problem
from gateway.services import metrics as operations

blueprint = Blueprint("api", __name__)

XML = "application/xml"
ACCEPTED_MEDIA_TYPES = {"application/xml", "text/xml"}

# SPEC: 201 accepted, 200 duplicate, 4xx rejected; each cause maps to the status a client can act on.
STATUS_BY_CODE = {
    "malformed-xml": 400,
    "forbidden-dtd": 400,
    "too-large": 413,
    "unknown-type": 400,
    "schema-invalid": 400,
    "signature-missing": 400,
    "signature-profile": 400,
    "signature-invalid": 403,
    "certificate-untrusted": 403,
    "certificate-expired": 403,
    "certificate-revoked": 403,
    "revocation-unknown": 403,
    "signer-not-authorized": 403,
    "duplicate-conflict": 409,
    "unknown-appeal": 422,
    "unknown-official": 422,
    "unknown-addressee": 422,
    "invalid-transition": 409,
}


def _gateway():
    return current_app.extensions["zvarot"]


def problem_response(status: int, problem: Problem, **extra) -> Response:
    body = {
        "type": f"urn:zvarot:error:{problem.code}",
        "title": problem.code,
        "status": status,
        "detail": problem.message,
        **extra,
    }
    if problem.line:
        body["line"] = problem.line
    response = jsonify(body)
    response.status_code = status
    response.content_type = "application/problem+json"
    return response


@blueprint.post("/api/v1/messages")
def submit_message() -> Response:
    gateway = _gateway()
    if request.mimetype not in ACCEPTED_MEDIA_TYPES:
        return problem_response(
            415,
            Problem(
                "malformed-xml", f"send the document as {XML}, not {request.mimetype or 'no content type'}"
            ),
        )
    limit = gateway.settings.max_document_bytes
    if request.content_length is not None and request.content_length > limit:
        return problem_response(
            413, Problem("too-large", f"document is {request.content_length} bytes; the limit is {limit}")
        )
    outcome = gateway.pipeline.submit(request.get_data(cache=False))
    if outcome.outcome == "accepted":
        status = 201
    elif outcome.outcome == "duplicate":
        status = 200
    else:
        status = STATUS_BY_CODE[outcome.problem.code]
    if outcome.receipt is None:
        return problem_response(status, outcome.problem, receipt_id=outcome.receipt_id)
    headers = {"Zvarot-Outcome": outcome.outcome, "Zvarot-Receipt-Id": outcome.receipt_id}
    return Response(outcome.receipt, status=status, content_type=f"{XML}; charset=utf-8", headers=headers)


@blueprint.get("/metrics")
def metrics() -> Response:
    """Answered from a per-process copy at most METRICS_CACHE_SECONDS old: the counts scan whole tables, and
    the endpoint is open, so a client looping on it costs one computation per worker per period."""
    app = current_app._get_current_object()
    cached = app.extensions.get("zvarot_metrics")
    ttl = app.config.get("METRICS_CACHE_SECONDS", operations.CACHE_SECONDS)
    if cached is None or time.monotonic() - cached[0] >= ttl:
        gateway = _gateway()
        with gateway.sessions() as session:
            found = operations.families(
                session, gateway.certificates.store, gateway.settings.receipt_cert_path, datetime.now(UTC)
            )
        cached = app.extensions["zvarot_metrics"] = (time.monotonic(), operations.exposition(found))
    return Response(cached[1], content_type=operations.CONTENT_TYPE)


@blueprint.get("/healthz")
def healthz() -> Response:
    with _gateway().sessions() as session:
        session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})
