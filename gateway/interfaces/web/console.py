"""The operator console under /console: rejected documents, dead letters (requeue), registered systems with
their certificates. Behind a login (gateway.services.operators); session security in auth.py."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, Response, flash, g, redirect, request, session, url_for

from gateway.delivery.outbox import list_outbox, requeue
from gateway.domain.ids import MAX_ROW_NUMBER
from gateway.interfaces.web import auth
from gateway.interfaces.web.common import gateway, install, now, page_number, render
from gateway.services import console as console_data
from gateway.services import operators
from gateway.store.database import writing

log = logging.getLogger("zvarot.console")

blueprint = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
install(blueprint)

PAGE_SIZE = 50
PUBLIC_ENDPOINTS = {"console.login"}


@blueprint.record_once
def _configure(state) -> None:
    auth.configure(state.app, state.app.extensions["zvarot"].settings)


@blueprint.app_context_processor
def _csrf() -> dict:
    return {"csrf_token": auth.csrf_token, "csrf_field": auth.CSRF_FIELD}


def _login_redirect(reason: str | None = None) -> Response:
    target = request.full_path if request.method == "GET" else url_for("console.home")
    values = {"next": target.rstrip("?")}
    if reason:
        values["reason"] = reason
    return redirect(url_for("console.login", **values), code=303)


@blueprint.before_request
def _guard() -> Response | None:
    if request.method == "POST" and not auth.csrf_valid(request.form.get(auth.CSRF_FIELD)):
        log.warning("console: POST %s refused: missing or wrong CSRF token", request.path)
        return render("console/refused.html", status=403)
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    operator_id = session.get("operator")
    if not isinstance(operator_id, int):
        return _login_redirect()
    if auth.idle_expired(gateway().settings):
        session.clear()
        return _login_redirect("expired")
    login_at = datetime.fromtimestamp(session.get("login_at", 0), UTC)
    with gateway().sessions() as db:
        operator = operators.session_operator(db, operator_id, login_at)
    if operator is None:
        session.clear()
        return _login_redirect("ended")
    g.operator = operator
    auth.touch()
    return None


@blueprint.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never another site (//host, scheme://…)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/console/"):
            return target
    return url_for("console.home")


# --- logging in and out -------------------------------------------------------------------------------------

REASONS = {
    "expired": "Your session ended after a period of inactivity. Please log in again.",
    "ended": "Your session has ended. Please log in again.",
}


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response:
    next_url = request.values.get("next", "")
    if request.method == "GET":
        return render("console/login.html", next_url=next_url, notice=REASONS.get(request.args.get("reason")))
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    with writing(gateway().sessions) as db:
        operator = operators.authenticate(db, name, password, now())
        locked = operators.lockout_of(db, name, now()) if operator is None else None
        db.commit()
    if operator is None:
        why = f" (locked until {locked.isoformat(timespec='seconds')})" if locked else ""
        log.warning("console: failed login for %r from %s%s", name[:64], request.remote_addr, why)
        response = render(
            "console/login.html",
            status=401,
            next_url=next_url,
            name=name,
            error="The name or the password is wrong.",
        )
        response.headers["WWW-Authenticate"] = 'Form realm="zvarot-console"'
        return response
    auth.start_session(operator.id)
    log.info("console: %s logged in from %s", operator.name, request.remote_addr)
    return redirect(_safe_next(next_url), code=303)


@blueprint.post("/logout")
def logout() -> Response:
    with writing(gateway().sessions) as db:
        operators.end_sessions(db, g.operator.id, now())
        db.commit()
    log.info("console: %s logged out", g.operator.name)
    session.clear()
    flash("You have logged out.")
    return redirect(url_for("console.login"), code=303)


# --- pages --------------------------------------------------------------------------------------------------


@blueprint.get("/")
def home() -> Response:
    gw = gateway()
    moment = now()
    with gw.sessions() as db:
        rejected = console_data.rejected_documents(db, limit=5)
        dead, dead_total = list_outbox(db, status="dead", limit=1)
        _, pending_total = list_outbox(db, status="pending", limit=1)
        systems = console_data.systems_overview(db, moment, gw.settings.pki_dir)
    soon = console_data.EXPIRING_DAYS
    expiring = [s for s in systems if s["days_left"] is not None and s["days_left"] < soon]
    return render(
        "console/home.html",
        rejected=rejected,
        dead_total=dead_total,
        pending_total=pending_total,
        systems=systems,
        expiring=expiring,
        expiring_days=soon,
    )


@blueprint.get("/rejected")
def rejected() -> Response:
    page = page_number(PAGE_SIZE)
    with gateway().sessions() as db:
        found = console_data.rejected_documents(db, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-found["total"] // PAGE_SIZE))
    return render("console/rejected.html", found=found, page=page, pages=pages)


@blueprint.get(f"/rejected/<int(max={MAX_ROW_NUMBER}):rejected_id>")
def rejected_detail(rejected_id: int) -> Response:
    with gateway().sessions() as db:
        found = console_data.rejected_document(db, rejected_id)
    if found is None:
        return render("console/not_found.html", status=404, what=f"No rejected document {rejected_id}.")
    return render("console/rejected_detail.html", doc=found)


@blueprint.get("/dead-letters")
def dead_letters() -> Response:
    with gateway().sessions() as db:
        entries, total = list_outbox(db, status="dead", limit=500)
    return render("console/dead_letters.html", entries=entries, total=total)


@blueprint.post(f"/dead-letters/<int(max={MAX_ROW_NUMBER}):outbox_id>/requeue")
def requeue_one(outbox_id: int) -> Response:
    with writing(gateway().sessions) as db:
        count, missing = requeue(db, now(), ids=[outbox_id])
        db.commit()
    if missing:
        flash(f"There is no outbox row {outbox_id}.", "error")
    else:
        log.info("console: %s requeued outbox row %s", g.operator.name, outbox_id)
        flash(f"Outbox row {outbox_id} is pending again: the delivery worker will push it now.")
    return redirect(url_for("console.dead_letters"), code=303)


@blueprint.post("/dead-letters/requeue-all")
def requeue_all() -> Response:
    with writing(gateway().sessions) as db:
        count, _ = requeue(db, now(), all_dead=True)
        db.commit()
    log.info("console: %s requeued all %s dead letters", g.operator.name, count)
    flash(f"{count} dead letter(s) are pending again.")
    return redirect(url_for("console.dead_letters"), code=303)


@blueprint.get("/systems")
def systems() -> Response:
    gw = gateway()
    moment = now()
    with gw.sessions() as db:
        found = console_data.systems_overview(db, moment, gw.settings.pki_dir)
    trust = console_data.trust_overview(gw.certificates.store, moment, gw.settings.receipt_cert_path)
    return render(
        "console/systems.html", systems=found, trust=trust, expiring_days=console_data.EXPIRING_DAYS
    )
