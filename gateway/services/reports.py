"""Work reports and their reviews: stored inside the transaction of the document that brings them (the caller
commits), and read back for the public catalog with each report's place in the official's schedule.

Refusals (docs/reports.md):
- a period start that does not begin a period of its kind (a week on a Monday, a month on the 1st, a year on
  1 January): `schema-invalid` — the XSD cannot say it, but the document is not a valid report;
- a period that has not begun on the gateway's (local) date of receipt: `invalid-transition`;
- a second report of the same official for the same period: `invalid-transition` (reports are evidence and
  reviews rate what was published; a correction is a new report for a later period, or a note in one);
- a review of a report that does not exist: `invalid-transition` (SPEC has no `unknown-report` code);
- a second review of a report by the same reviewer ref: `invalid-transition`, as a second ReplyReview is.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.domain.reports.schedule import (
    DueReport,
    PeriodKind,
    ReceivedReport,
    ReportSchedule,
    aligned,
    alignment_rule,
    due_date,
    official_schedule,
    period_end,
    period_label,
)
from gateway.errors import Rejection
from gateway.store.directory import Membership, Official
from gateway.store.models import DEMO_SIGNER_KIND, Message
from gateway.store.registry import RegisteredSystem
from gateway.store.reports import ReportReview, WorkReport

_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
MAX_PAGE = 100


def new_report_id() -> str:
    """ "wr-" and 26 base32 characters (130 bits)."""
    return "wr-" + "".join(secrets.choice(_ALPHABET) for _ in range(26))


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- documents in -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkReportData:
    official: str
    period_kind: str
    period_start: date
    summary: str
    items: tuple[dict, ...]  # {"title", "result", "metric": {"name", "value" (a decimal string), "unit"}?}


@dataclass(frozen=True)
class ReportReviewData:
    report_id: str
    stars: int
    comment: str | None
    reviewer_ref: str


# --- views out ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewView:
    stars: int
    comment: str | None
    reviewer_ref: str
    received_at: datetime


@dataclass(frozen=True)
class ReportView:
    id: str
    official_id: str
    official_name: str
    kind: str
    start: date
    end: date
    label: str
    due: date
    on_time: bool
    received_at: datetime
    summary: str
    items: tuple[dict, ...]
    reviews_count: int
    average_stars: float | None
    reviews: tuple[ReviewView, ...] = ()
    demo: bool = False  # seeded demo history (gateway.demo.history), not a signed document


_LABEL = re.compile(r"(?P<year>\d{4})(?:-W(?P<week>\d{2})|-(?P<month>\d{2}))?")


def parse_period(text: str) -> tuple[PeriodKind | None, date | None]:
    """A period filter: a kind ("week", "month", "year") or a label ("2026-W05", "2026-03", "2026")."""
    if text in tuple(PeriodKind):
        return PeriodKind(text), None
    match = _LABEL.fullmatch(text)
    if not match:
        raise ValueError(f"period is week, month, year or a label like 2026-W05, 2026-03, 2026; not {text!r}")
    year = int(match["year"])
    try:
        if match["week"]:
            return PeriodKind.week, date.fromisocalendar(year, int(match["week"]), 1)
        if match["month"]:
            return PeriodKind.month, date(year, int(match["month"]), 1)
        return PeriodKind.year, date(year, 1, 1)
    except ValueError:
        raise ValueError(f"no period {text!r}") from None


class ReportsService:
    def __init__(self, schedule: ReportSchedule):
        self.schedule = schedule

    # --- writing (inside the document's transaction) ------------------------------------------------------

    def record_report(self, session: Session, data: WorkReportData, *, message_pk: int, at: datetime) -> str:
        kind = PeriodKind(data.period_kind)
        if not aligned(kind, data.period_start):
            raise Rejection(
                "schema-invalid",
                f"Period/Start {data.period_start.isoformat()} does not begin a {kind}: "
                f"a {kind} starts on {alignment_rule(kind)}",
                path="/WorkReport/Body/Period/Start",
            )
        today = self.schedule.local_date(at)
        if data.period_start > today:
            raise Rejection(
                "invalid-transition",
                f"the {kind} starting {data.period_start.isoformat()} has not begun "
                f"(today is {today.isoformat()}): report on a period once it has begun",
            )
        if session.get(Official, data.official) is None:
            raise Rejection("unknown-official", f"no official {data.official!r}")
        existing = self._existing(session, data.official, kind, data.period_start)
        if existing is not None:
            raise self._already(data, kind, existing)
        report_id = new_report_id()
        try:
            with session.begin_nested():
                session.add(
                    WorkReport(
                        id=report_id,
                        official_id=data.official,
                        period_kind=str(kind),
                        period_start=data.period_start,
                        summary=data.summary,
                        items=list(data.items),
                        received_at=at,
                        message_id=message_pk,
                    )
                )
        except IntegrityError:  # another report for this period committed meanwhile
            raise self._already(
                data, kind, self._existing(session, data.official, kind, data.period_start)
            ) from None
        return report_id

    @staticmethod
    def _existing(session: Session, official: str, kind: PeriodKind, start: date) -> str | None:
        return session.scalar(
            select(WorkReport.id).where(
                WorkReport.official_id == official,
                WorkReport.period_kind == str(kind),
                WorkReport.period_start == start,
            )
        )

    @staticmethod
    def _already(data: WorkReportData, kind: PeriodKind, existing: str | None) -> Rejection:
        return Rejection(
            "invalid-transition",
            f"{data.official} has already reported on the {kind} {period_label(kind, data.period_start)} "
            f"(report {existing or 'just accepted'}); a report is not replaced",
        )

    def record_review(
        self,
        session: Session,
        data: ReportReviewData,
        *,
        sender: RegisteredSystem,
        message_pk: int,
        at: datetime,
    ) -> None:
        if session.get(WorkReport, data.report_id) is None:
            raise Rejection("invalid-transition", f"no report {data.report_id!r} to review")
        refusal = Rejection(
            "invalid-transition",
            f"reviewer {data.reviewer_ref} has already reviewed report {data.report_id}; "
            "a review is not replaced",
        )
        if session.scalar(
            select(ReportReview.id).where(
                ReportReview.report_id == data.report_id, ReportReview.reviewer_ref == data.reviewer_ref
            )
        ):
            raise refusal
        try:
            with session.begin_nested():
                session.add(
                    ReportReview(
                        report_id=data.report_id,
                        reviewer_ref=data.reviewer_ref,
                        stars=data.stars,
                        comment=data.comment,
                        received_at=at,
                        origin_system=sender.id,
                        message_id=message_pk,
                    )
                )
        except IntegrityError:
            raise refusal from None

    # --- reading --------------------------------------------------------------------------------------------

    def _view(
        self, row: WorkReport, name: str, count: int, average: float | None, signer_kind: str
    ) -> ReportView:
        kind = PeriodKind(row.period_kind)
        due = due_date(kind, row.period_start, self.schedule)
        received = aware(row.received_at)
        return ReportView(
            id=row.id,
            official_id=row.official_id,
            official_name=name,
            kind=str(kind),
            start=row.period_start,
            end=period_end(kind, row.period_start),
            label=period_label(kind, row.period_start),
            due=due,
            on_time=self.schedule.local_date(received) <= due,
            received_at=received,
            summary=row.summary,
            items=tuple(row.items or ()),
            reviews_count=count,
            average_stars=None if average is None else round(float(average), 2),
            demo=signer_kind == DEMO_SIGNER_KIND,
        )

    def list_reports(
        self,
        session: Session,
        *,
        official: str | None = None,
        kind: PeriodKind | None = None,
        start: date | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[ReportView], int]:
        """Reports, newest period first, with review counts; and how many match in all."""
        stats = (
            select(
                ReportReview.report_id.label("report_id"),
                func.count(ReportReview.id).label("n"),
                func.avg(ReportReview.stars).label("avg"),
            )
            .group_by(ReportReview.report_id)
            .subquery()
        )
        query = (
            select(WorkReport, Official.name, stats.c.n, stats.c.avg, Message.signer_kind)
            .join(Official, Official.id == WorkReport.official_id)
            .join(Message, Message.id == WorkReport.message_id)
            .outerjoin(stats, stats.c.report_id == WorkReport.id)
        )
        conditions = []
        if official:
            conditions.append(WorkReport.official_id == official)
        if kind:
            conditions.append(WorkReport.period_kind == str(kind))
        if start:
            conditions.append(WorkReport.period_start == start)
        total = session.scalar(select(func.count()).select_from(WorkReport).where(*conditions)) or 0
        rows = session.execute(
            query.where(*conditions)
            .order_by(WorkReport.period_start.desc(), WorkReport.period_kind, WorkReport.official_id)
            .limit(min(max(limit, 1), MAX_PAGE))
            .offset(max(offset, 0))
        ).all()
        return [self._view(row, name, n or 0, avg, kind) for row, name, n, avg, kind in rows], total

    def report(self, session: Session, report_id: str) -> ReportView | None:
        found = session.execute(
            select(WorkReport, Official.name, Message.signer_kind)
            .join(Official, Official.id == WorkReport.official_id)
            .join(Message, Message.id == WorkReport.message_id)
            .where(WorkReport.id == report_id)
        ).first()
        if found is None:
            return None
        row, name, signer_kind = found
        reviews = tuple(
            ReviewView(r.stars, r.comment, r.reviewer_ref, aware(r.received_at))
            for r in session.scalars(
                select(ReportReview)
                .where(ReportReview.report_id == report_id)
                .order_by(ReportReview.received_at, ReportReview.id)
            )
        )
        average = sum(r.stars for r in reviews) / len(reviews) if reviews else None
        return replace(self._view(row, name, len(reviews), average, signer_kind), reviews=reviews)

    # --- the schedule ---------------------------------------------------------------------------------------

    def memberships(self, session: Session, official_id: str) -> list[tuple[date, date | None]]:
        return [
            (start, end)
            for start, end in session.execute(
                select(Membership.start_date, Membership.end_date).where(
                    Membership.official_id == official_id
                )
            ).tuples()
        ]

    def received(self, session: Session, official_id: str) -> list[ReceivedReport]:
        return [
            ReceivedReport(PeriodKind(kind), start, aware(at), report_id)
            for report_id, kind, start, at in session.execute(
                select(
                    WorkReport.id, WorkReport.period_kind, WorkReport.period_start, WorkReport.received_at
                ).where(WorkReport.official_id == official_id)
            ).tuples()
        ]

    def schedule_of(
        self, session: Session, official_id: str, now: datetime, kinds: Sequence[str] = tuple(PeriodKind)
    ) -> list[DueReport]:
        """Every report due from the official since they took up their post, with its status as of `now`."""
        return official_schedule(
            self.memberships(session, official_id),
            self.received(session, official_id),
            now,
            self.schedule,
            kinds,
        )
