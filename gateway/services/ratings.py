"""Weekly ratings: gather each official's record from the stored events, reports and reviews as of the end of
an ISO week, rate them (gateway.domain.ratings) and store the week's snapshot, replacing an earlier one.

Deterministic: only what happened before the week's end (Monday 00:00 local time) is read — appeal events,
reports and reviews with `at < as_of`, memberships that began by the week's last day — so computing a week
again, later, gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.domain.appeals import lifecycle
from gateway.domain.appeals.deadlines import DeadlinePolicy
from gateway.domain.appeals.events import Actor, ActorKind, Event, EventKind
from gateway.domain.ratings.charging import Stars, Timeliness, charge, reply_stars
from gateway.domain.ratings.compute import OfficialRecord, Rating, rate_all
from gateway.domain.ratings.policy import RatingPolicy
from gateway.domain.ratings.weeks import IsoWeek
from gateway.domain.reports.schedule import PeriodKind, ReceivedReport, ReportSchedule, official_schedule
from gateway.store.appeals import AppealEvent
from gateway.store.database import writing
from gateway.store.directory import Membership
from gateway.store.reports import RatingRun, RatingSnapshot, ReportReview, WorkReport


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class WeekResult:
    week: IsoWeek
    as_of: datetime
    computed_at: datetime
    ratings: list[Rating]

    @property
    def ranked(self) -> list[Rating]:
        return [r for r in self.ratings if r.rank is not None]


class RatingsService:
    def __init__(self, policy: RatingPolicy, deadlines: DeadlinePolicy, schedule: ReportSchedule):
        self.policy = policy
        self.deadlines = deadlines
        self.schedule = schedule

    @property
    def timezone(self) -> str:
        return self.deadlines.timezone

    def last_complete_week(self, now: datetime) -> IsoWeek:
        return IsoWeek.last_complete(now, self.timezone)

    # --- gathering --------------------------------------------------------------------------------------

    def records(self, session: Session, as_of: datetime) -> list[OfficialRecord]:
        """Every official who served at some time in the window, with their record as of `as_of`."""
        last_day = self.deadlines.local_date(as_of) - timedelta(days=1)
        # Bound in UTC: SQLite compares the stored (UTC) wall times as text, zone dropped, so a Minsk `as_of`
        # would let three more hours in and a later recomputation would differ.
        bound = as_of.astimezone(UTC)
        window = self.policy.window_weeks
        first_day = last_day - timedelta(weeks=window) if window else None

        memberships: dict[str, list[tuple[date, date | None]]] = {}
        units: dict[str, tuple[date, str]] = {}
        for official_id, unit_id, start, end in session.execute(
            select(
                Membership.official_id, Membership.org_unit_id, Membership.start_date, Membership.end_date
            ).where(Membership.start_date <= last_day)
        ).tuples():
            # An end after the week is not known yet as of the week's end: still serving then.
            memberships.setdefault(official_id, []).append((start, end if end and end <= last_day else None))
            current = units.get(official_id)
            if current is None or start >= current[0]:
                units[official_id] = (start, unit_id)
        serving = {
            official_id
            for official_id, spans in memberships.items()
            if first_day is None or any(end is None or end >= first_day for _, end in spans)
        }

        timeliness: dict[str, list[Timeliness]] = {}
        stars: dict[str, list[Stars]] = {}
        for appeal_id, events in self._appeal_logs(session, bound):
            state = lifecycle.fold(events)
            for t in charge(state, self.deadlines, as_of, appeal_id):
                timeliness.setdefault(t.official, []).append(t)
            reviewed = reply_stars(state, appeal_id)
            if reviewed is not None:
                stars.setdefault(reviewed.official, []).append(reviewed)

        received: dict[str, list[ReceivedReport]] = {}
        for report_id, official_id, kind, start, at in session.execute(
            select(
                WorkReport.id,
                WorkReport.official_id,
                WorkReport.period_kind,
                WorkReport.period_start,
                WorkReport.received_at,
            ).where(WorkReport.received_at < bound)
        ).tuples():
            received.setdefault(official_id, []).append(
                ReceivedReport(PeriodKind(kind), start, _aware(at), report_id)
            )

        report_stars: dict[str, list[Stars]] = {}
        for official_id, report_id, value, at in session.execute(
            select(
                WorkReport.official_id, ReportReview.report_id, ReportReview.stars, ReportReview.received_at
            )
            .join(WorkReport, WorkReport.id == ReportReview.report_id)
            .where(ReportReview.received_at < bound)
        ).tuples():
            report_stars.setdefault(official_id, []).append(Stars(official_id, _aware(at), value, report_id))

        charged = set(timeliness) | set(stars) | set(received) | set(report_stars)
        return [
            OfficialRecord(
                official_id=official_id,
                org_unit_id=units[official_id][1] if official_id in units else None,
                timeliness=tuple(timeliness.get(official_id, ())),
                reply_stars=tuple(stars.get(official_id, ())),
                due_reports=tuple(
                    official_schedule(
                        memberships.get(official_id, []), received.get(official_id, ()), as_of, self.schedule
                    )
                ),
                report_stars=tuple(report_stars.get(official_id, ())),
            )
            for official_id in sorted(serving | (charged & set(memberships)))
        ]

    @staticmethod
    def _appeal_logs(session: Session, as_of: datetime):
        """(appeal id, its events before `as_of`), appeal by appeal."""
        rows = session.execute(
            select(
                AppealEvent.appeal_id,
                AppealEvent.seq,
                AppealEvent.kind,
                AppealEvent.at,
                AppealEvent.actor_kind,
                AppealEvent.actor_id,
                AppealEvent.data,
            )
            .where(AppealEvent.at < as_of)
            .order_by(AppealEvent.appeal_id, AppealEvent.seq)
        ).tuples()
        current: str | None = None
        events: list[Event] = []
        for appeal_id, seq, kind, at, actor_kind, actor_id, data in rows:
            if appeal_id != current:
                if events:
                    yield current, events
                current, events = appeal_id, []
            events.append(
                Event(seq, EventKind(kind), _aware(at), Actor(ActorKind(actor_kind), actor_id), data)
            )
        if events:
            yield current, events

    # --- computing ----------------------------------------------------------------------------------------

    def rate(self, session: Session, week: IsoWeek) -> tuple[datetime, list[Rating]]:
        as_of = week.end(self.timezone)
        return as_of, rate_all(self.records(session, as_of), self.policy, as_of, self.deadlines.local_date)

    def compute(self, session: Session, week: IsoWeek, now: datetime) -> WeekResult:
        """Rate the week and store its snapshot in the caller's transaction, replacing an earlier one. A week
        that has not ended yet is refused (its numbers would still change)."""
        if week.end(self.timezone) > now:
            raise ValueError(f"week {week} has not ended yet (it ends {week.end(self.timezone).isoformat()})")
        as_of, ratings = self.rate(session, week)
        key = str(week)
        session.execute(delete(RatingSnapshot).where(RatingSnapshot.week == key))
        session.execute(delete(RatingRun).where(RatingRun.week == key))
        session.add(
            RatingRun(
                week=key,
                as_of=as_of.astimezone(UTC),  # SQLite keeps a wall time without its zone: store UTC
                computed_at=now,
                policy=self.policy.as_dict(),
                officials=len(ratings),
                ranked=sum(1 for r in ratings if r.rank is not None),
            )
        )
        session.flush()
        if ratings:
            session.execute(
                insert(RatingSnapshot),
                [
                    {
                        "week": key,
                        "official_id": r.official_id,
                        "org_unit_id": r.org_unit_id,
                        "status": r.status,
                        "composite": r.composite,
                        "rank": r.rank,
                        "components": {name: c.as_dict() for name, c in r.components.items()},
                        "computed_at": now,
                    }
                    for r in ratings
                ],
            )
        return WeekResult(week, as_of, now, ratings)

    def compute_and_store(
        self, sessions: sessionmaker[Session], week: IsoWeek, now: datetime | None = None
    ) -> WeekResult:
        """`compute` in its own transaction; if another process stores the same week at the same moment,
        once more (the result is the same)."""
        for attempt in range(2):
            try:
                with writing(sessions) as session:
                    result = self.compute(session, week, now or datetime.now(UTC))
                    session.commit()
                return result
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def weekly_hook(
        self, sessions: sessionmaker[Session], log: Callable[[str], None] | None = None
    ) -> Callable[[int, int], None]:
        """For the worker: when ISO week (year, week) begins, compute the week before it. A failure is logged
        and does not stop the worker (`zvarot ratings compute --week …` computes the week again)."""

        def on_new_iso_week(year: int, week: int) -> None:
            previous = IsoWeek(year, week).previous()
            say = log or (lambda _line: None)
            try:
                result = self.compute_and_store(sessions, previous)
            except Exception as exc:  # the worker's deliveries go on
                say(f"ratings {previous} failed: {exc.__class__.__name__}: {exc}")
                return
            say(f"ratings {previous}: {len(result.ratings)} officials, {len(result.ranked)} ranked")

        return on_new_iso_week

    # --- reading ------------------------------------------------------------------------------------------

    @staticmethod
    def run(session: Session, week: str | None = None) -> RatingRun | None:
        """The stored run of `week`, or of the latest computed week."""
        if week is not None:
            return session.get(RatingRun, week)
        return session.scalars(select(RatingRun).order_by(RatingRun.week.desc()).limit(1)).first()

    @staticmethod
    def weeks(session: Session, limit: int = 104) -> list[str]:
        """The computed weeks, newest first."""
        return list(session.scalars(select(RatingRun.week).order_by(RatingRun.week.desc()).limit(limit)))

    @staticmethod
    def snapshots(session: Session, week: str) -> list[RatingSnapshot]:
        """The week's snapshots: ranked first by rank, then the rest by official id."""
        rows = list(session.scalars(select(RatingSnapshot).where(RatingSnapshot.week == week)))
        return sorted(rows, key=lambda s: (s.rank is None, s.rank or 0, s.official_id))

    @staticmethod
    def history(session: Session, official_id: str) -> list[RatingSnapshot]:
        return list(
            session.scalars(
                select(RatingSnapshot)
                .where(RatingSnapshot.official_id == official_id)
                .order_by(RatingSnapshot.week)
            )
        )

    @staticmethod
    def latest(session: Session, official_id: str) -> RatingSnapshot | None:
        return session.scalars(
            select(RatingSnapshot)
            .where(RatingSnapshot.official_id == official_id)
            .order_by(RatingSnapshot.week.desc())
            .limit(1)
        ).first()
