"""The composition root: the one place that builds the gateway's parts from Settings and wires them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.config import Settings
from gateway.directory.service import load_snapshot
from gateway.domain.appeals.deadlines import DeadlinePolicy, HolidayCalendar
from gateway.domain.directory.routing import route
from gateway.domain.ratings.policy import RatingPolicy
from gateway.domain.reports.schedule import ReportSchedule
from gateway.ingest.closures import QuietClosures
from gateway.ingest.effects import DocumentEffects
from gateway.ingest.pipeline import IngestPipeline
from gateway.ingest.receipts import ReceiptIssuer
from gateway.ingest.status_updates import StatusUpdateIssuer
from gateway.services.appeals import AppealsService
from gateway.services.directory_view import DirectoryView
from gateway.services.ratings import RatingsService
from gateway.services.reports import ReportsService
from gateway.services.transparency import TransparencyLog
from gateway.store.database import make_engine, session_factory
from gateway.trust.chain import CertificateVerifier
from gateway.trust.store import TrustStore
from gateway.xml.parsing import ParseLimits
from gateway.xml.schemas import SchemaRegistry
from gateway.xml.signatures import SignaturePolicy, Signer


@dataclass
class Gateway:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    certificates: CertificateVerifier
    signer: Signer
    pipeline: IngestPipeline
    appeals: AppealsService
    reports: ReportsService
    ratings: RatingsService
    log: TransparencyLog


def deadline_policy(settings: Settings) -> DeadlinePolicy:
    holidays = HolidayCalendar.belarus()
    if settings.holidays_file:
        holidays = holidays.merged(
            HolidayCalendar.from_csv(settings.holidays_file.read_text(encoding="utf-8"))
        )
    return DeadlinePolicy(
        reply_calendar_days=settings.reply_days,
        extension_max_months=settings.extension_months,
        forward_working_days=settings.forward_working_days,
        quiet_period_days=settings.quiet_period_days,
        timezone=settings.timezone,
        holidays=holidays,
    )


def report_schedule(settings: Settings, deadlines: DeadlinePolicy | None = None) -> ReportSchedule:
    return ReportSchedule(
        weekly_grace_working_days=settings.report_weekly_grace_working_days,
        monthly_day=settings.report_monthly_day,
        yearly_day=settings.report_yearly_day,
        calendar=deadlines or deadline_policy(settings),
    )


def ratings_service(settings: Settings, deadlines: DeadlinePolicy | None = None) -> RatingsService:
    deadlines = deadlines or deadline_policy(settings)
    return RatingsService(
        RatingPolicy.from_overrides(settings.rating_policy), deadlines, report_schedule(settings, deadlines)
    )


def build_gateway(
    settings: Settings, engine: Engine | None = None, *, domain_effects: bool = True
) -> Gateway:
    """The gateway's parts, wired. `domain_effects=False` leaves the ingest pipeline as the core issue (#2)
    specified it: documents verified, authorized, deduplicated, kept and receipted, nothing routed, no
    StatusUpdate, no inbox item. Only `zvarot bench` serves it so, to measure that scope apart from the
    appeals' own work."""
    engine = engine or make_engine(settings.sqlalchemy_url, settings.sqlite_synchronous)
    sessions = session_factory(engine)
    certificates = CertificateVerifier(TrustStore.load(settings.trust_dir))
    # The receipt certificate chain goes into every receipt so that verifiers need only the root.
    chain = [settings.receipt_cert_path, *sorted((settings.trust_dir / "intermediates").glob("*.pem"))]
    signer = Signer.from_files(settings.receipt_key_path, chain)
    deadlines = deadline_policy(settings)
    appeals = AppealsService(deadlines, DirectoryView(load_snapshot), router=route)
    reports = ReportsService(report_schedule(settings, deadlines))
    effects = DocumentEffects(appeals, StatusUpdateIssuer(signer, settings.gateway_uid), reports)
    pipeline = IngestPipeline(
        limits=ParseLimits(settings.max_document_bytes, settings.max_depth),
        schemas=SchemaRegistry(),
        policy=SignaturePolicy(),
        certificates=certificates,
        receipts=ReceiptIssuer(signer, settings.gateway_uid),
        sessions=sessions,
        effects=effects if domain_effects else None,
    )
    ratings = ratings_service(settings, deadlines)
    log = TransparencyLog(sessions, signer, settings.gateway_uid)
    return Gateway(settings, engine, sessions, certificates, signer, pipeline, appeals, reports, ratings, log)


def quiet_closures(gateway: Gateway, log: Callable[[str], None] = lambda _line: None) -> QuietClosures:
    """The worker's housekeeping: quiet-period closures, with the gateway's own StatusUpdates."""
    return QuietClosures(gateway.sessions, gateway.pipeline.effects, log=log)


def create_app(settings: Settings | None = None, gateway: Gateway | None = None) -> Flask:
    from gateway.interfaces.http import api
    from gateway.interfaces.http import appeals as appeals_http
    from gateway.interfaces.http import catalog as catalog_http
    from gateway.interfaces.http import transparency as transparency_http
    from gateway.interfaces.http.submission import SubmissionEndpoint
    from gateway.interfaces.soap import endpoint as soap_endpoint
    from gateway.interfaces.web import console as web_console
    from gateway.interfaces.web import pages as web_pages

    settings = settings or (gateway.settings if gateway else Settings.from_env())
    gateway = gateway or build_gateway(settings)
    app = Flask("zvarot")
    # Flask refuses bodies above this before we read them; the pipeline checks the exact limit again.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_document_bytes + 1
    app.config["METRICS_CACHE_SECONDS"] = settings.metrics_cache_seconds
    app.extensions["zvarot"] = gateway
    app.register_blueprint(api.blueprint)
    app.register_blueprint(appeals_http.blueprint)
    app.register_blueprint(catalog_http.blueprint)
    app.register_blueprint(transparency_http.blueprint)
    app.register_blueprint(soap_endpoint.blueprint)
    app.register_blueprint(web_pages.blueprint)
    app.register_blueprint(web_console.blueprint)
    # Every document's route, answered before Flask's machinery (gateway.interfaces.http.submission).
    app.wsgi_app = SubmissionEndpoint(app.wsgi_app, gateway.pipeline.submit, settings.max_document_bytes)
    return app
