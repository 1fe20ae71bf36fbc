"""Public pages: officials (search, profile), org units, work reports, the weekly ranking, the appeal
timeline by tracking code, and the record (the transparency log). They render what gateway.services.catalog,
.tracking and .transparency return -- the same data as the JSON API -- and query no table themselves."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Response, redirect, request, url_for

from gateway.domain.ratings.policy import COMPONENTS
from gateway.domain.ratings.weeks import IsoWeek
from gateway.domain.reports.schedule import PeriodKind
from gateway.errors import Rejection
from gateway.interfaces.web import charts, jsonld
from gateway.interfaces.web.common import gateway, install, now, page_number, render
from gateway.services import catalog, tracking

blueprint = Blueprint(
    "pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)
install(blueprint)

PAGE_SIZE = 20
SCHEDULE_SHOWN = 12

COMPONENT_NAMES = {
    "reply_stars": "Reply stars",
    "on_time": "Replies on time",
    "report_schedule": "Reports on schedule",
    "report_stars": "Report stars",
}
# What each parameter of the rating policy means (docs/reports.md, gateway.domain.ratings.policy).
POLICY_MEANING = {
    "reply_prior_mean": "prior mean m of reply stars (the middle of the 1–5 scale)",
    "reply_prior_weight": "prior weight C of reply stars (how many imaginary average reviews)",
    "wilson_z": "z of the Wilson lower bound (1.96: 95 % confidence)",
    "schedule_prior_share": "prior share p of reports on time",
    "schedule_prior_weight": "prior weight C of report-schedule adherence",
    "late_report_credit": "how much a late report counts (a report on time counts 1, a missing one 0)",
    "report_stars_prior_mean": "prior mean m of report stars",
    "report_stars_prior_weight": "prior weight C of report stars",
    "report_review_cap": "the most the reviews of one report weigh together",
    "weight_reply_stars": "weight of reply stars in the score",
    "weight_on_time": "weight of replies on time in the score",
    "weight_report_schedule": "weight of reports on schedule in the score",
    "weight_report_stars": "weight of report stars in the score",
    "min_appeals": "appeals charged needed for a rank",
    "min_reports": "due reports decided (on time, late or missing) needed for a rank",
    "window_weeks": "weeks of history that count (0: all)",
}
STATUS_TEXT = {
    "received": "Received",
    "forwarded": "Forwarded",
    "in_process": "In process",
    "more_info_required": "More information required from the applicant",
    "reply_sent": "Replied",
    "closed": "Closed",
    "withdrawn": "Withdrawn by the applicant",
    "left_without_consideration": "Left without consideration",
}
TIMELINESS_TEXT = {"on_time": "on time", "overdue": "overdue", "very_overdue": "seriously overdue"}


def _url(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


def _unit_options(tree: list[dict]) -> list[dict]:
    """The org tree flattened for a <select>, each unit with its depth."""
    options: list[dict] = []

    def walk(node: dict, depth: int) -> None:
        options.append({"id": node["id"], "name": node["name"], "depth": depth})
        for child in node["children"]:
            walk(child, depth + 1)

    for root in tree:
        walk(root, 0)
    return options


def not_found(what: str) -> Response:
    return render("not_found.html", status=404, what=what, heading="Not found")


def bad_request(what: str, heading: str) -> Response:
    """A link or a typed address that cannot mean anything (400), on the same page as a 404."""
    return render("not_found.html", status=400, what=what, heading=heading)


# --- officials and the org tree -----------------------------------------------------------------------------


@blueprint.get("/")
def index() -> Response:
    q = request.args.get("q", "").strip()[:200]
    unit = request.args.get("unit", "").strip() or None
    topic = request.args.get("topic", "").strip() or None
    page = page_number(PAGE_SIZE)
    g = gateway()
    with g.sessions() as session:
        tree = catalog.org_tree(session, g.appeals.directory)
        options = _unit_options(tree)
        if unit and unit not in {o["id"] for o in options}:
            unit = None
        search = partial(catalog.search_officials, session, g.appeals.directory, q=q, unit=unit, topic=topic)
        found = search(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        pages = max(1, -(-found["total"] // PAGE_SIZE))
        if page > pages and found["total"]:  # a page past the last (an old link, a narrower search): the last
            page = pages
            found = search(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render(
        "index.html",
        q=q,
        unit=unit,
        unit_name=next((o["name"] for o in options if o["id"] == unit), None),
        topic=topic,
        found=found,
        page=page,
        pages=pages,
        searched=bool(q or unit or topic),
        tree=tree,
        unit_options=options,
        jsonld=jsonld.tree_graph(tree, _url),
    )


@blueprint.get("/units/<unit_id>")
def unit(unit_id: str) -> Response:
    with gateway().sessions() as session:
        found = catalog.org_unit(session, unit_id)
    if found is None:
        return not_found(f"No organisation unit {unit_id}.")
    return render("unit.html", unit=found, jsonld=jsonld.unit_graph(found, _url))


@blueprint.get("/officials/<official_id>")
def official(official_id: str) -> Response:
    g = gateway()
    moment = now()
    with g.sessions() as session:
        profile = catalog.official_profile(session, official_id, g.reports, g.ratings, moment)
        if profile is None:
            return not_found(f"No official {official_id}.")
        history = catalog.official_ratings(session, official_id, g.ratings)["history"]
        schedule = catalog.report_schedule(session, official_id, g.reports, moment, tuple(PeriodKind))
        parent = None
        if profile["org_unit"]:
            unit_found = catalog.org_unit(session, profile["org_unit"]["id"])
            parent = unit_found["parent"] if unit_found else None
    return render(
        "official.html",
        official=profile,
        history=history,
        chart=charts.score_chart(history),
        schedule=schedule,
        schedule_items=schedule["items"][:SCHEDULE_SHOWN],
        components=COMPONENT_NAMES,
        jsonld=jsonld.person(profile, _url, parent),
    )


# --- reports ------------------------------------------------------------------------------------------------


@blueprint.get("/reports/<report_id>")
def report(report_id: str) -> Response:
    g = gateway()
    with g.sessions() as session:
        view = g.reports.report(session, report_id)
    if view is None:
        return not_found(f"No report {report_id}.")
    return render("report.html", report=catalog.report_detail(view))


# --- ratings ------------------------------------------------------------------------------------------------


@blueprint.get("/ratings")
def ratings() -> Response:
    week = request.args.get("week", "").strip() or None
    if week is not None:
        try:
            week = str(IsoWeek.parse(week))
        except ValueError:
            return bad_request(f"{week} is not a week (write it like 2026-W05).", heading="Not a week")
    unit = request.args.get("unit", "").strip() or None
    g = gateway()
    with g.sessions() as session:
        options = _unit_options(catalog.org_tree(session, g.appeals.directory))
        if unit and unit not in {o["id"] for o in options}:
            unit = None
        weeks = g.ratings.weeks(session)
        found = catalog.week_ratings(session, g.appeals.directory, g.ratings, week, unit)
    if found is None and week is not None:
        return not_found(f"No ratings have been computed for {week}.")
    return render(
        "ratings.html",
        found=found,
        weeks=weeks,
        unit=unit,
        unit_name=next((o["name"] for o in options if o["id"] == unit), None),
        unit_options=options,
        components=COMPONENT_NAMES,
        component_order=COMPONENTS,
        policy_meaning=POLICY_MEANING,
    )


# --- tracking (no personal data: only what gateway.services.tracking returns) -------------------------------


def _private(response: Response) -> Response:
    """A tracking code is the key to an appeal's timeline: keep it out of caches and referrers."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.get("/track")
def track_form() -> Response:
    if "code" in request.args:
        code = tracking.normalise_code(request.args["code"])
        if not code:
            return _private(render("track.html", status=400, error="Enter the tracking code of your appeal."))
        return _private(redirect(url_for("pages.track", code=code), code=303))  # the code is in its Location
    return _private(render("track.html"))


@blueprint.get("/track/<code>")
def track(code: str) -> Response:
    normalised = tracking.normalise_code(code)
    g = gateway()
    with g.sessions() as session:
        view = tracking.track(session, g.appeals, normalised, now()) if normalised else None
    if view is None:
        return _private(
            render(
                "track.html",
                status=404,
                code=normalised,
                error=f"No appeal has the tracking code {normalised or code[:64]}. Check the code in the "
                "receipt or e-mail you were given.",
            )
        )
    return _private(
        render(
            "track_result.html",
            view=view,
            status_text=STATUS_TEXT.get(view.status, view.status),
            timeliness=TIMELINESS_TEXT.get(view.timeliness, view.timeliness),
        )
    )


# --- the record (the transparency log) ----------------------------------------------------------------------

RECENT_CHECKPOINTS = 10


def _log_page(status: int = 200, **context) -> Response:
    g = gateway()
    with g.sessions() as session:
        recent = g.log.recent(session, RECENT_CHECKPOINTS)
    base = g.settings.public_url or request.url_root.rstrip("/")
    return render(
        "log.html", status=status, latest=recent[0] if recent else None, recent=recent, base=base, **context
    )


@blueprint.get("/log")
def log() -> Response:
    return _log_page()


@blueprint.post("/log")
def log_check() -> Response:
    """Where an uploaded receipt or status update is in the log; the file is read, never kept."""
    upload = request.files.get("document")
    data = upload.read() if upload is not None else b""
    if not data:
        return _log_page(400, error="Choose the file of a receipt or a status update.")
    g = gateway()
    try:
        with g.sessions() as session:
            found = g.log.locate(session, data)
    except (Rejection, ValueError) as exc:
        message = exc.message if isinstance(exc, Rejection) else str(exc)
        return _log_page(400, error=f"This file is not a document of the gateway: {message}")
    return _log_page(found=found)
