"""What both web blueprints share: the gateway, the clock, time formatting, security headers, rendering,
the page number of a list."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request

from gateway.domain.ids import MAX_ROW_NUMBER, whole_number

# Everything is served from this origin: no scripts at all (JSON-LD blocks are data, not scripts), styles only
# from our own stylesheet, no frames, forms post only back here.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def gateway():
    return current_app.extensions["zvarot"]


def now() -> datetime:
    return datetime.now(UTC)


def page_number(page_size: int) -> int:
    """The `page` a visitor asked for, from 1; anything unreadable is the first page, and a page past any
    the database can number is the last it can (the list then shows its pages' links, not an error)."""
    raw = request.args.get("page", "1")
    if not (raw.isascii() and raw.isdigit()):  # isdigit alone takes "²", which int() refuses
        return 1
    last = MAX_ROW_NUMBER // page_size
    page = whole_number(raw)
    return last if page is None else min(max(page, 1), last)  # None: past any row number


def _moment(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def localtime(value: datetime | str | None) -> str:
    """A moment on the gateway's legal clock (ZVAROT_TIMEZONE), to the minute: "2026-01-15 12:00"."""
    moment = _moment(value)
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(gateway().settings.timezone)).strftime("%Y-%m-%d %H:%M")


def isotime(value: datetime | str | None) -> str:
    """For <time datetime="…">."""
    moment = _moment(value)
    return "" if moment is None else moment.isoformat(timespec="seconds")


def isodate(value: date | str | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else value.isoformat()


def label(value: str | None) -> str:
    """An identifier as words: "more_info_required" → "more info required"."""
    return (value or "").replace("_", " ").replace("-", " ")


def security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def install(blueprint: Blueprint) -> None:
    """Template filters (app-wide, registered with the blueprint) and the security headers of its pages."""
    for name, function in (
        ("localtime", localtime),
        ("isotime", isotime),
        ("isodate", isodate),
        ("label", label),
    ):
        blueprint.add_app_template_filter(function, name)
    blueprint.after_request(security_headers)
    blueprint.app_context_processor(lambda: {"timezone": gateway().settings.timezone})


def render(template: str, status: int = 200, **context) -> Response:
    response = Response(render_template(template, **context), status=status, mimetype="text/html")
    return response
