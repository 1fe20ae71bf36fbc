"""Public JSON read APIs: officials, org units, work reports, ratings; and the OpenAPI document of every JSON
endpoint of the gateway (gateway/interfaces/http/openapi.py). No authentication: all of it is public."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify, request

from gateway.domain.ids import MAX_ROW_NUMBER, whole_number
from gateway.domain.ratings.weeks import IsoWeek
from gateway.domain.reports.schedule import PeriodKind
from gateway.errors import Problem
from gateway.interfaces.http.api import problem_response
from gateway.interfaces.http.openapi import openapi_document
from gateway.services import catalog
from gateway.services.reports import parse_period

blueprint = Blueprint("catalog", __name__)


def _gateway():
    return current_app.extensions["zvarot"]


def _now() -> datetime:
    return datetime.now(UTC)


def _not_found(detail: str) -> Response:
    return problem_response(404, Problem("not-found", detail))


def _bad_request(detail: str) -> Response:
    return problem_response(400, Problem("bad-request", detail))


def _page() -> tuple[int, int] | None:
    limit = whole_number(request.args.get("limit", "20"))
    offset = whole_number(request.args.get("offset", "0"))
    if limit is None or offset is None or limit < 1:
        return None
    return min(limit, catalog.MAX_PAGE), offset


_PAGE_ERROR = f"limit (1 to {catalog.MAX_PAGE}) and offset (0 to {MAX_ROW_NUMBER}) are whole numbers"


# --- officials ----------------------------------------------------------------------------------------------


@blueprint.get("/api/v1/officials")
def officials_search() -> Response:
    page = _page()
    if page is None:
        return _bad_request(_PAGE_ERROR)
    gateway = _gateway()
    with gateway.sessions() as session:
        found = catalog.search_officials(
            session,
            gateway.appeals.directory,
            q=request.args.get("q", ""),
            unit=request.args.get("unit") or None,
            topic=request.args.get("topic") or None,
            limit=page[0],
            offset=page[1],
        )
    return jsonify(found)


@blueprint.get("/api/v1/officials/<official_id>")
def official_profile(official_id: str) -> Response:
    gateway = _gateway()
    with gateway.sessions() as session:
        profile = catalog.official_profile(session, official_id, gateway.reports, gateway.ratings, _now())
    if profile is None:
        return _not_found(f"no official {official_id}")
    return jsonify(profile)


@blueprint.get("/api/v1/officials/<official_id>/report-schedule")
def official_report_schedule(official_id: str) -> Response:
    kind = request.args.get("kind")
    if kind is not None and kind not in tuple(PeriodKind):
        return _bad_request("kind is week, month or year")
    gateway = _gateway()
    with gateway.sessions() as session:
        if not catalog.official_exists(session, official_id):
            return _not_found(f"no official {official_id}")
        schedule = catalog.report_schedule(
            session, official_id, gateway.reports, _now(), (kind,) if kind else tuple(PeriodKind)
        )
    return jsonify(schedule)


# --- org units ----------------------------------------------------------------------------------------------


@blueprint.get("/api/v1/org-units")
def org_units_tree() -> Response:
    gateway = _gateway()
    with gateway.sessions() as session:
        return jsonify({"org_units": catalog.org_tree(session, gateway.appeals.directory)})


@blueprint.get("/api/v1/org-units/<unit_id>")
def org_unit(unit_id: str) -> Response:
    with _gateway().sessions() as session:
        unit = catalog.org_unit(session, unit_id)
    if unit is None:
        return _not_found(f"no org unit {unit_id}")
    return jsonify(unit)


# --- reports ------------------------------------------------------------------------------------------------


@blueprint.get("/api/v1/reports")
def reports_list() -> Response:
    page = _page()
    if page is None:
        return _bad_request(_PAGE_ERROR)
    kind = start = None
    if request.args.get("period"):
        try:
            kind, start = parse_period(request.args["period"])
        except ValueError as exc:
            return _bad_request(str(exc))
    gateway = _gateway()
    with gateway.sessions() as session:
        views, total = gateway.reports.list_reports(
            session,
            official=request.args.get("official") or None,
            kind=kind,
            start=start,
            limit=page[0],
            offset=page[1],
        )
    return jsonify(
        {
            "total": total,
            "limit": page[0],
            "offset": page[1],
            "items": [catalog.report_summary(v) for v in views],
        }
    )


@blueprint.get("/api/v1/reports/<report_id>")
def report(report_id: str) -> Response:
    gateway = _gateway()
    with gateway.sessions() as session:
        view = gateway.reports.report(session, report_id)
    if view is None:
        return _not_found(f"no report {report_id}")
    return jsonify(catalog.report_detail(view))


# --- ratings ------------------------------------------------------------------------------------------------


@blueprint.get("/api/v1/ratings")
def ratings_week() -> Response:
    week = request.args.get("week") or None
    if week is not None:
        try:
            week = str(IsoWeek.parse(week))
        except ValueError as exc:
            return _bad_request(str(exc))
    gateway = _gateway()
    with gateway.sessions() as session:
        found = catalog.week_ratings(
            session, gateway.appeals.directory, gateway.ratings, week, request.args.get("unit") or None
        )
    if found is None:
        return _not_found(f"no ratings computed for {week}" if week else "no ratings computed yet")
    return jsonify(found)


@blueprint.get("/api/v1/ratings/<official_id>")
def ratings_history(official_id: str) -> Response:
    gateway = _gateway()
    with gateway.sessions() as session:
        found = catalog.official_ratings(session, official_id, gateway.ratings)
    if found is None:
        return _not_found(f"no official {official_id}")
    return jsonify(found)


# --- the OpenAPI document -----------------------------------------------------------------------------------


@blueprint.get("/api/v1/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())
