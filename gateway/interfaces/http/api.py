"""JSON HTTP API: metrics, health, and the problem documents every JSON refusal uses."""

from __future__ import annotations

import hmac
import time
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from gateway.errors import Problem
from gateway.interfaces.http.submission import problem_document
from gateway.services import access
from gateway.services import metrics as operations
from gateway.store.database import schema_problem

blueprint = Blueprint("api", __name__)


def _gateway():
    return current_app.extensions["zvarot"]


def problem_response(status: int, problem: Problem, **extra) -> Response:
    response = jsonify(problem_document(status, problem, **extra))
    response.status_code = status
    response.content_type = "application/problem+json"
    return response


# POST /api/v1/messages is served in front of Flask: gateway.interfaces.http.submission.

# Paths whose clients are programs: every refusal there is a problem document, not an HTML page.
_MACHINE_PATHS = ("/api/", "/healthz", "/metrics")


@blueprint.app_errorhandler(HTTPException)
def machine_error(error: HTTPException):
    """An unknown path, a wrong method or an oversize body under /api/: RFC 9457 JSON like every other
    refusal of the API (elsewhere Flask's page, or the web pages' own)."""
    if not request.path.startswith(_MACHINE_PATHS) or error.code is None:
        return error
    code = (error.name or "error").lower().replace(" ", "-")
    response = problem_response(error.code, Problem(code, error.description or error.name))
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


@blueprint.get("/metrics")
def metrics() -> Response:
    """Answered from a per-process copy at most METRICS_CACHE_SECONDS old: the counts scan whole tables, and
    the endpoint may be open, so a client looping on it costs one computation per worker per period."""
    token = _gateway().settings.metrics_token
    if token and not _bearer_is(token):
        response = problem_response(401, Problem("unauthorized", "GET /metrics needs its bearer token"))
        response.headers["WWW-Authenticate"] = 'Bearer realm="zvarot-metrics"'
        return response
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


def bearer() -> str | None:
    """The token of the request's `Authorization: Bearer <token>` header, if it has one."""
    return access.bearer_token(request.headers.get("Authorization"))


def _bearer_is(token: str) -> bool:
    # Compared in constant time: the comparison must not tell a guesser how much of the token was right.
    return hmac.compare_digest((bearer() or "").encode(), token.encode())


@blueprint.get("/healthz")
def healthz() -> Response:
    """200 only where this process can serve: its database reachable and migrated to this code's schema. A
    load balancer sends nothing to a 503 (an instance started before `zvarot migrate`, a database gone)."""
    try:
        with _gateway().engine.connect() as conn:
            problem = schema_problem(conn)
    except SQLAlchemyError as exc:
        current_app.logger.warning("health check: the database cannot be reached: %s", exc)
        problem = "the database cannot be reached"
    if problem is not None:
        return problem_response(503, Problem("unavailable", problem))
    return jsonify({"status": "ok"})
