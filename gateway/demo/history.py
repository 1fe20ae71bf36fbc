"""The demo history: a plausible past for the demo officials, so that a fresh `zvarot up` shows work reports,
reviews and a weekly ranking computed from traffic.

What it writes, for the finished ISO weeks before `today` (from the 1st of the month in which the eighth-last
finished week begins, so eight to twelve weeks):

- appeals with their event logs, each step decided by gateway.domain.appeals.lifecycle as the appeals service
  would have decided it: received (some by a head, who forwards them to the competent official), in process,
  sometimes more information asked for, an extension or a withdrawal, then a reply on time or late (or none
  yet), and for about half of the replies the citizen's stars;
- weekly and monthly work reports in Russian, whose figures are the official's own appeals of the period,
  sent on time, late or not at all, and reviews of some of them;
- then each week's ratings, computed by the ratings service that `zvarot ratings compute --week` uses.

Officials differ on purpose (`CONDUCT`): a few answer quickly and report on time, a few answer late and report
badly, a few receive too few appeals for a rank, and a newcomer has too few reports due; the others are drawn
between them.

Provenance: these rows are demo data, not received documents (certificates made today cannot sign in the
past, so the rows are written straight into the tables). Every appeal, report and review hangs on a `messages`
row sent and "signed" by `DEMO_SENDER` with signer kind `DEMO_SIGNER_KIND`, no certificate and no receipt,
whose body says in words what it is; the report pages and the JSON API mark these reports as demo history.

The report schedule counts every week of an official's service, so the demo officials' current memberships are
made to start on the first day of the history (the newcomer's later); their earlier years have no reports.

Deterministic: the same `today` gives the same rows, ids included (a seeded `random.Random`), except the
appeals' tracking codes, which are unguessable as every tracking code must be. Written only into a database
that holds no accepted document and no rating yet — a fresh demo world; otherwise nothing is added.
"""

from __future__ import annotations

import hashlib
import random
import string
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.demo import world
from gateway.demo.history_texts import (
    EXTENSION_REASONS,
    FORWARD_REASONS,
    MONTHS_IN,
    MORE_INFO_NOTES,
    PLACES,
    REVIEW_COMMENTS,
    SUBJECTS,
    TOPIC_WORK,
    VAGUE_SUMMARIES,
    WITHDRAWAL_NOTES,
)
from gateway.domain.appeals import lifecycle
from gateway.domain.appeals.deadlines import DeadlinePolicy, due_date, latest_extension, replied_on_time
from gateway.domain.appeals.events import Actor, ActorKind, Event, EventKind
from gateway.domain.ratings.weeks import IsoWeek
from gateway.domain.reports import schedule as reports
from gateway.domain.reports.schedule import PeriodKind, ReportSchedule
from gateway.services.appeals import new_tracking_code
from gateway.services.ratings import RatingsService
from gateway.store.appeals import Appeal, AppealEvent
from gateway.store.database import writing
from gateway.store.directory import Membership
from gateway.store.models import DEMO_SENDER, DEMO_SIGNER_KIND, Message
from gateway.store.reports import RatingRun, ReportReview, WorkReport

PORTAL = "sys-portal"  # where the demo citizens' appeals and reviews come from
WEEKS = 8  # finished weeks at least
FORWARDED_SHARE = 0.3  # of an official's appeals, those that reach their superior first
REVIEWED_SHARE = 0.55  # of replies, those the citizen rates

_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_REVIEWER_REF = string.ascii_letters + string.digits + "_-"


@dataclass(frozen=True)
class Conduct:
    """How an official works in the demo history."""

    appeals_per_week: float
    on_time: float  # share of replies sent by the due date
    reply_stars: float  # the citizens' mean stars for a reply on time (a late one gets about one less)
    reports_on_time: float  # share of due reports sent by their due date ...
    reports_late: float  # ... and after it; the rest never come
    report_stars: float  # the mean stars of the reviews of their reports; below 3: vague reports


CONDUCT: Mapping[str, Conduct] = {
    # quick, careful replies and every report on time
    "off-district-social": Conduct(2.5, 0.97, 4.6, 1.0, 0.0, 4.6),
    "off-housing-dept-head": Conduct(3.0, 0.95, 4.4, 0.95, 0.05, 4.3),
    "off-village-secretary": Conduct(1.6, 0.95, 4.5, 0.9, 0.1, 4.2),
    # late replies, unhappy citizens, reports late or missing
    "off-district-housing-service": Conduct(3.5, 0.35, 2.0, 0.3, 0.3, 1.9),
    "off-housing-tariffs": Conduct(3.0, 0.5, 2.3, 0.45, 0.25, 2.3),
    # too few appeals for a rank
    "off-president": Conduct(0.1, 0.9, 4.0, 0.9, 0.1, 3.8),
    "off-admin-head": Conduct(0.2, 0.8, 3.5, 0.9, 0.1, 3.5),
    "off-regional-adviser": Conduct(0.2, 0.8, 3.6, 0.85, 0.1, 3.6),
}
# Took up their post this many days before the last finished week's Monday: too few reports due for a rank.
# A week: by the end of the rated week at most two of their due reports are decided (the weekly reports of the
# week before and of the rated week), fewer than the ratings' minimum of three whatever the draws (with two
# weeks, a third report sent before the rated week ended ranked them on some days).
NEWCOMERS: Mapping[str, int] = {"off-education-deputy-higher": 7}


# --- the plan: plain values, no database ------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedAppeal:
    id: str
    message_id: str  # the MessageId of its messages row
    subject: str
    topic: str | None
    events: tuple[Event, ...]


@dataclass(frozen=True)
class PlannedReview:
    reviewer_ref: str
    stars: int
    comment: str | None
    at: datetime
    message_id: str


@dataclass(frozen=True)
class PlannedReport:
    id: str
    official: str
    kind: PeriodKind
    start: date
    summary: str
    items: tuple[dict, ...]
    at: datetime
    message_id: str
    reviews: tuple[PlannedReview, ...]


@dataclass(frozen=True)
class DemoHistory:
    today: date
    first_day: date  # the demo officials' memberships start here (newcomers later)
    weeks: tuple[IsoWeek, ...]  # the finished weeks, rated in this order
    starts: Mapping[str, date]  # official -> the start of their membership
    appeals: tuple[PlannedAppeal, ...]
    reports: tuple[PlannedReport, ...]


class _Later(Exception):
    """The next step of an appeal would happen today or later: the history stops before it."""


class _Plan:
    def __init__(self, today: date, deadlines: DeadlinePolicy, schedule: ReportSchedule):
        self.today = today
        self.deadlines = deadlines
        self.schedule = schedule
        self.tz = deadlines.tz
        self.cutoff = datetime.combine(today, time(0), self.tz)  # history happens before today
        last = IsoWeek.containing(today).previous()
        self.first_day = (last.monday - timedelta(weeks=WEEKS - 1)).replace(day=1)
        first = IsoWeek.containing(reports.first_start_on_or_after(PeriodKind.week, self.first_day))
        self.weeks: list[IsoWeek] = []
        while first <= last:
            self.weeks.append(first)
            first = first.next()
        self.rng = random.Random(f"zvarot demo history {self.first_day.isoformat()} {today.isoformat()}")

    # --- small draws ----------------------------------------------------------------------------------

    def token(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def message_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def moment(self, day: date, after: datetime | None = None, hours: tuple[int, int] = (9, 18)) -> datetime:
        """A moment of office hours on `day`, local time; if that is not after `after`, a little after it."""
        at = datetime.combine(day, time(self.rng.randrange(*hours), self.rng.randrange(60)), self.tz)
        if after is not None and at <= after:
            at = after + timedelta(minutes=self.rng.randint(20, 150))
        if at >= self.cutoff:
            raise _Later
        return at

    def local(self, moment: datetime) -> date:
        return self.deadlines.local_date(moment)

    def working_days_after(self, day: date, n: int) -> date:
        while n > 0:
            day += timedelta(days=1)
            n -= self.deadlines.is_working_day(day)
        return day

    def stars(self, mean: float) -> int:
        return max(1, min(5, round(self.rng.gauss(mean, 0.8))))

    def conduct(self, official: str) -> Conduct:
        drawn = Conduct(
            appeals_per_week=self.rng.uniform(0.9, 2.6),
            on_time=self.rng.uniform(0.62, 0.92),
            reply_stars=self.rng.uniform(2.9, 4.2),
            reports_on_time=self.rng.uniform(0.55, 0.95),
            reports_late=self.rng.uniform(0.0, 0.2),
            report_stars=self.rng.uniform(3.0, 4.2),
        )
        return CONDUCT.get(official, drawn)

    # --- appeals --------------------------------------------------------------------------------------

    def appeal(
        self, handler: str, conduct: Conduct, day: date, superior: str | None, topics: Sequence[str]
    ) -> PlannedAppeal | None:
        """One appeal to `handler` received on `day` (first by `superior`, who forwards it, if given)."""
        rng, policy = self.rng, self.deadlines
        events: list[Event] = []

        def step(command: lifecycle.Command, actor: Actor, at: datetime) -> None:
            events.append(lifecycle.apply(events, command, at=at, actor=actor, policy=policy))

        def official(uid: str) -> Actor:
            return Actor(ActorKind.official, uid)

        citizen = Actor(ActorKind.citizen)
        topic = rng.choice(topics) if topics else None
        planned = {
            "id": "ap-" + self.token(_BASE32, 26),
            "message_id": self.message_id(),
            "subject": SUBJECTS.get(topic, SUBJECTS[None]).format(place=rng.choice(PLACES)),
            "topic": topic,
        }
        try:
            events.append(
                lifecycle.receive([superior or handler], PORTAL, at=self.moment(day, hours=(7, 22)))
            )
            if superior:
                at = self.moment(self.working_days_after(day, rng.randint(1, 3)), after=events[-1].at)
                reason = rng.choice(FORWARD_REASONS)
                step(lifecycle.Forward(by=superior, to=(handler,), reason=reason), official(superior), at)
            last = self.local(events[-1].at)
            at = self.moment(last + timedelta(days=rng.randint(0, 2)), after=events[-1].at)
            step(lifecycle.ChangeStatus(by=handler, status="in_process"), official(handler), at)
            roll = rng.random()
            if roll < 0.03:
                at = self.moment(self.local(at) + timedelta(days=rng.randint(1, 5)), after=at)
                step(lifecycle.Withdraw(note=rng.choice(WITHDRAWAL_NOTES)), citizen, at)
                return PlannedAppeal(**planned, events=tuple(events))
            if roll < 0.11:
                at = self.moment(self.local(at) + timedelta(days=rng.randint(1, 3)), after=at)
                note = rng.choice(MORE_INFO_NOTES)
                step(
                    lifecycle.ChangeStatus(by=handler, status="more_info_required", note=note),
                    official(handler),
                    at,
                )
                at = self.moment(self.local(at) + timedelta(days=rng.randint(2, 7)), after=at, hours=(8, 22))
                step(lifecycle.Supplement(), citizen, at)
            elif roll < 0.16:
                at = self.moment(self.local(at) + timedelta(days=rng.randint(2, 6)), after=at)
                state = lifecycle.fold(events, now=at, policy=policy)
                current = due_date(state, policy, now=at).date
                new = min(
                    current + timedelta(days=rng.randint(7, 14)), latest_extension(state, policy, now=at)
                )
                if new > current:
                    extend = lifecycle.ChangeStatus(
                        by=handler, status="extended", new_due_date=new, reason=rng.choice(EXTENSION_REASONS)
                    )
                    step(extend, official(handler), at)
            due = due_date(events, policy, now=events[-1].at).date
            last = self.local(events[-1].at)
            if rng.random() < conduct.on_time:
                reply_day = last + timedelta(days=rng.randint(1, max(1, (due - last).days)))
                reply_day = min(reply_day, max(due, last))
            else:
                reply_day = due + timedelta(days=rng.randint(1, 12))
            step(lifecycle.Reply(by=handler), official(handler), self.moment(reply_day, after=events[-1].at))
            if rng.random() < REVIEWED_SHARE:
                late = not replied_on_time(lifecycle.fold(events, policy=policy), policy)
                at = self.moment(
                    reply_day + timedelta(days=rng.randint(1, 8)), after=events[-1].at, hours=(8, 23)
                )
                step(
                    lifecycle.Review(stars=self.stars(conduct.reply_stars - (1.2 if late else 0))),
                    citizen,
                    at,
                )
        except _Later:
            if not events:
                return None
        return PlannedAppeal(**planned, events=tuple(events))

    # --- reports --------------------------------------------------------------------------------------

    def report(
        self,
        official: str,
        conduct: Conduct,
        kind: PeriodKind,
        start: date,
        topics: Sequence[str],
        record: Callable[[date, date], tuple[int, int, int]],
    ) -> PlannedReport | None:
        """The report on one due period, if the official sent it before today."""
        rng = self.rng
        end = reports.period_end(kind, start)
        due = reports.due_date(kind, start, self.schedule)
        roll = rng.random()
        if roll >= conduct.reports_on_time + conduct.reports_late:
            return None  # never sent
        if roll < conduct.reports_on_time:
            first = end - timedelta(days=2) if kind is PeriodKind.week else end
            days = [first] + [
                d
                for d in (end + timedelta(days=i) for i in range(1, (due - end).days + 1))
                if self.deadlines.is_working_day(d)
            ]
            day = rng.choice(days)
        else:
            day = due + timedelta(days=rng.randint(1, 6 if kind is PeriodKind.week else 10))
        try:
            at = self.moment(day)
        except _Later:
            return None  # not sent yet
        # A report sent before its period ended tells what happened up to the day it was sent.
        summary, items = self.report_text(
            conduct, kind, start, topics, record(start, min(end, self.local(at)))
        )
        reviews = []
        if rng.random() < 0.5:
            refs = set()
            for _ in range(rng.choice((1, 1, 2, 3))):
                try:
                    review_at = self.moment(
                        self.local(at) + timedelta(days=rng.randint(1, 10)), hours=(8, 23)
                    )
                except _Later:
                    break
                ref = self.token(_REVIEWER_REF, 16)
                if ref in refs:
                    continue
                refs.add(ref)
                stars = self.stars(conduct.report_stars)
                comment = rng.choice(REVIEW_COMMENTS[stars]) if rng.random() < 0.6 else None
                reviews.append(PlannedReview(ref, stars, comment, review_at, self.message_id()))
        return PlannedReport(
            id="wr-" + self.token(_BASE32, 26),
            official=official,
            kind=kind,
            start=start,
            summary=summary,
            items=items,
            at=at,
            message_id=self.message_id(),
            reviews=tuple(sorted(reviews, key=lambda r: r.at)),
        )

    def report_text(
        self,
        conduct: Conduct,
        kind: PeriodKind,
        start: date,
        topics: Sequence[str],
        record: tuple[int, int, int],
    ) -> tuple[str, tuple[dict, ...]]:
        rng = self.rng
        if conduct.report_stars < 3:
            summary = rng.choice(VAGUE_SUMMARIES)
            return summary, ({"title": "Текущая работа", "result": rng.choice(VAGUE_SUMMARIES)},)
        received, replied, on_time = record
        chosen = rng.sample(list(topics), min(len(topics), 1 if kind is PeriodKind.week else 2)) or [None]
        figures = f"поступило обращений граждан: {received}; направлено ответов: {replied}"
        figures += f", из них в срок: {on_time}."
        if kind is PeriodKind.week:
            opening = "За неделю " + figures
        else:
            opening = f"В {MONTHS_IN[start.month - 1]} {start.year} года " + figures
        summary = " ".join([opening, *(TOPIC_WORK.get(t, TOPIC_WORK[None])[0] for t in chosen)])
        appeals: dict = {
            "title": "Рассмотрение обращений граждан",
            "result": f"Поступило: {received}; направлено ответов: {replied}, из них в установленный срок: "
            f"{on_time}.",
        }
        if replied:
            appeals["metric"] = {
                "name": "Ответов в установленный срок",
                "value": f"{100 * on_time / replied:.1f}",
                "unit": "%",
            }
        items = [appeals]
        scale = 1 if kind is PeriodKind.week else 4
        for t in chosen:
            _, title, result, metric = TOPIC_WORK.get(t, TOPIC_WORK[None])
            k = rng.randint(scale, 9 * scale)
            items.append(
                {
                    "title": title,
                    "result": result.format(k=k),
                    "metric": {"name": metric, "value": str(k), "unit": None},
                }
            )
        return summary, tuple(items)


def _superiors(roster: Sequence[str]) -> dict[str, str]:
    """official -> the official holding the post theirs reports to (in the demo world, within the roster)."""
    holder = {o.post: o.id for o in world.OFFICIALS if o.id in roster}
    posts = {p.id: p for p in world.POSTS}
    found = {}
    for o in world.OFFICIALS:
        boss_post = posts[o.post].reports_to
        if o.id in roster and boss_post in holder:
            found[o.id] = holder[boss_post]
    return found


def plan_history(
    today: date, roster: Sequence[str], deadlines: DeadlinePolicy, schedule: ReportSchedule
) -> DemoHistory:
    """The demo history before `today` for the demo officials in `roster` (ids of world.OFFICIALS)."""
    plan = _Plan(today, deadlines, schedule)
    rng = plan.rng
    officials = [o for o in world.OFFICIALS if o.id in set(roster)]
    last_monday = plan.weeks[-1].monday
    starts = {
        o.id: last_monday - timedelta(days=NEWCOMERS[o.id]) if o.id in NEWCOMERS else plan.first_day
        for o in officials
    }
    conduct = {o.id: plan.conduct(o.id) for o in officials}
    superiors = _superiors([o.id for o in officials])

    appeals: list[PlannedAppeal] = []
    for o in officials:
        day = starts[o.id]
        while day < today:
            working = deadlines.is_working_day(day)
            if rng.random() < conduct[o.id].appeals_per_week / (5 if working else 25):
                superior = superiors.get(o.id)
                if superior is None or rng.random() >= FORWARDED_SHARE or starts[superior] > day:
                    superior = None
                planned = plan.appeal(o.id, conduct[o.id], day, superior, o.topics)
                if planned is not None:
                    appeals.append(planned)
            day += timedelta(days=1)

    # Per official: the local dates on which appeals reached them, and their replies (date, on time).
    reached: dict[str, list[date]] = {}
    replies: dict[str, list[tuple[date, bool]]] = {}
    for a in appeals:
        for e in a.events:
            if e.kind in (EventKind.received, EventKind.forwarded):
                for uid in e.data["assignees" if e.kind is EventKind.received else "to"]:
                    reached.setdefault(uid, []).append(plan.local(e.at))
            elif e.kind is EventKind.reply_sent:
                on_time = bool(replied_on_time(lifecycle.fold(a.events, policy=deadlines), deadlines))
                replies.setdefault(str(e.data["official"]), []).append((plan.local(e.at), on_time))

    def record_of(uid: str) -> Callable[[date, date], tuple[int, int, int]]:
        def record(start: date, end: date) -> tuple[int, int, int]:
            got = sum(1 for d in reached.get(uid, ()) if start <= d <= end)
            sent = [ok for d, ok in replies.get(uid, ()) if start <= d <= end]
            return got, len(sent), sum(sent)

        return record

    planned_reports: list[PlannedReport] = []
    for o in officials:
        for kind in (PeriodKind.week, PeriodKind.month):
            for start, end in reports.due_periods(kind, [(starts[o.id], None)], today):
                if end >= today:
                    continue  # in progress
                report = plan.report(o.id, conduct[o.id], kind, start, o.topics, record_of(o.id))
                if report is not None:
                    planned_reports.append(report)

    return DemoHistory(
        today=today,
        first_day=plan.first_day,
        weeks=tuple(plan.weeks),
        starts=starts,
        appeals=tuple(appeals),
        reports=tuple(planned_reports),
    )


# --- writing it ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistorySummary:
    """What seed_demo_history added (or why nothing)."""

    appeals: int = 0
    events: int = 0
    reports: int = 0
    reviews: int = 0
    officials: int = 0
    weeks: tuple[str, ...] = ()
    ranked: int = 0  # in the last week
    first_day: date | None = None
    skipped: str | None = None

    @property
    def added(self) -> int:
        """Rows of appeals, events, reports and reviews added (ratings apart)."""
        return self.appeals + self.events + self.reports + self.reviews

    def describe(self) -> str:
        if self.skipped:
            return f"none added ({self.skipped})"
        return (
            f"{self.appeals} appeals ({self.events} events), {self.reports} work reports, "
            f"{self.reviews} report reviews of {self.officials} officials since {self.first_day}; "
            f"ratings of {len(self.weeks)} weeks {self.weeks[0]} to {self.weeks[-1]}, "
            f"{self.ranked} ranked in {self.weeks[-1]}"
        )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _message(document_type: str, at: datetime, message_id: str) -> dict:
    body = (
        f"Zvarot demo history: a {document_type} of {at.date().isoformat()} seeded by gateway.demo.history "
        "on the first run of the demo world. It is demo data: not a received document, not signed."
    ).encode()
    return {
        "sender_system": DEMO_SENDER,
        "message_id": message_id,
        "document_type": document_type,
        "sha256": hashlib.sha256(body).hexdigest(),
        "received_at": _utc(at),
        "signer_uid": DEMO_SENDER,
        "signer_kind": DEMO_SIGNER_KIND,
        "signer_cert_sha256": "",
        "body": body,
        "receipt_id": "demo-" + message_id.replace("-", ""),
        "receipt": b"",
    }


def _why_not(session: Session) -> str | None:
    if session.scalar(select(Message.id).where(Message.sender_system == DEMO_SENDER).limit(1)) is not None:
        return "the demo history is there already"
    if session.scalar(select(Message.id).limit(1)) is not None:
        return "the database holds accepted documents"
    if session.scalar(select(RatingRun.week).limit(1)) is not None:
        return "the database holds computed ratings"
    return None


def _roster(session: Session) -> list[str]:
    """The demo officials who still hold their demo post."""
    holding = set(
        session.execute(
            select(Membership.official_id, Membership.post_id).where(Membership.end_date.is_(None))
        ).tuples()
    )
    return [o.id for o in world.OFFICIALS if (o.id, o.post) in holding]


def write_history(session: Session, history: DemoHistory) -> None:
    """Write the planned rows in the caller's transaction; the demo officials' memberships begin with it."""
    posts = {o.id: o.post for o in world.OFFICIALS}
    for official, start in history.starts.items():
        session.execute(
            update(Membership)
            .where(
                Membership.official_id == official,
                Membership.post_id == posts[official],
                Membership.end_date.is_(None),
            )
            .values(start_date=start)
        )
    messages = [_message("Appeal", a.events[0].at, a.message_id) for a in history.appeals]
    for r in history.reports:
        messages.append(_message("WorkReport", r.at, r.message_id))
        messages.extend(_message("ReportReview", v.at, v.message_id) for v in r.reviews)
    session.execute(insert(Message.__table__), messages)
    pk = {
        message_id: id_
        for message_id, id_ in session.execute(
            select(Message.message_id, Message.id).where(Message.sender_system == DEMO_SENDER)
        ).tuples()
    }
    if history.appeals:
        session.execute(
            insert(Appeal.__table__),
            [
                {
                    "id": a.id,
                    # Drawn from `secrets` like any other: a tracking code opens a timeline to whoever has it.
                    "tracking_code": new_tracking_code(),
                    "received_at": _utc(a.events[0].at),
                    "origin_system": PORTAL,
                    "message_id": pk[a.message_id],
                    "subject": a.subject,
                    "applicant": {},
                    "addressee": {
                        "officials": list(a.events[0].data["assignees"]),
                        "org_unit": None,
                        "topic": a.topic,
                    },
                }
                for a in history.appeals
            ],
        )
        session.execute(
            insert(AppealEvent.__table__),
            [
                {
                    "appeal_id": a.id,
                    "seq": e.seq,
                    "kind": str(e.kind),
                    "at": _utc(e.at),
                    "actor_kind": str(e.actor.kind),
                    "actor_id": e.actor.id,
                    "data": e.to_json()["data"],
                    "message_id": pk[a.message_id] if e.kind is EventKind.received else None,
                }
                for a in history.appeals
                for e in a.events
            ],
        )
    if history.reports:
        session.execute(
            insert(WorkReport.__table__),
            [
                {
                    "id": r.id,
                    "official_id": r.official,
                    "period_kind": str(r.kind),
                    "period_start": r.start,
                    "summary": r.summary,
                    "items": list(r.items),
                    "received_at": _utc(r.at),
                    "message_id": pk[r.message_id],
                }
                for r in history.reports
            ],
        )
    reviews = [
        {
            "report_id": r.id,
            "reviewer_ref": v.reviewer_ref,
            "stars": v.stars,
            "comment": v.comment,
            "received_at": _utc(v.at),
            "origin_system": PORTAL,
            "message_id": pk[v.message_id],
        }
        for r in history.reports
        for v in r.reviews
    ]
    if reviews:
        session.execute(insert(ReportReview.__table__), reviews)


def seed_demo_history(
    sessions: sessionmaker[Session],
    ratings: RatingsService,
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> HistorySummary:
    """Write the demo history before `today` (default: the local date of `now`) and rate its finished weeks,
    in one transaction; nothing if the database already holds documents or ratings (see the module's
    docstring). `now` (default: the clock) is when the ratings are computed; it must be `today` or later."""
    now = now or datetime.now(UTC)
    today = today or ratings.deadlines.local_date(now)
    try:
        with writing(sessions) as session:
            reason = _why_not(session)
            roster = _roster(session) if reason is None else []
            if reason is None and not roster:
                reason = "no demo official holds their demo post"
            if reason is not None:
                return HistorySummary(skipped=reason)
            history = plan_history(today, roster, ratings.deadlines, ratings.schedule)
            write_history(session, history)
            results = [ratings.compute(session, week, now) for week in history.weeks]
            session.commit()
    except IntegrityError:
        # Another process seeded the same history at the same moment (the same MessageIds): it is there.
        with sessions() as session:
            if _why_not(session) is None:
                raise
        return HistorySummary(skipped="the demo history is there already")
    return HistorySummary(
        appeals=len(history.appeals),
        events=sum(len(a.events) for a in history.appeals),
        reports=len(history.reports),
        reviews=sum(len(r.reviews) for r in history.reports),
        officials=len(history.starts),
        weeks=tuple(str(w) for w in history.weeks),
        ranked=len(results[-1].ranked) if results else 0,
        first_day=history.first_day,
    )
