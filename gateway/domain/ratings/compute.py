"""An official's rating for one week, from plain observations, and the ranking of all of them.

Components (each with its sample size), from the observations in the window `[as_of − window_weeks, as_of]`:

- `reply_stars`: Bayesian average of the citizens' stars for the official's replies, (C·m + Σ s) / (C + n);
  normalised (v − 1) / 4; sample: reviewed replies.
- `on_time`: Wilson lower bound (z = 1.96) of on-time appeals / appeals charged; sample: appeals charged.
- `report_schedule`: (C·p + on_time + late_credit·late) / (C + decided due reports); sample: decided due
  reports (on time, late, missing).
- `report_stars`: Bayesian average of the stars for the official's reports, the reviews of one report
  weighing at most `report_review_cap` together: (C·m + Σ_r w_r·mean_r) / (C + Σ_r w_r), w_r = min(n_r, cap);
  normalised (v − 1) / 4; sample: reviews.

composite = Σ weight_i · normalised_i / Σ weight_i, on 0–1. An official with fewer than `min_appeals`
appeals charged or fewer than `min_reports` decided due reports has "insufficient data": no composite, no
rank. The others are ranked by composite, highest first (equal composites share a rank: 1, 2, 2, 4), ties
listed by official id. All values are rounded to 6 decimal places, so that the stored numbers are the
computed ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from gateway.domain.ratings.charging import Stars, Timeliness
from gateway.domain.ratings.formulas import bayesian_average, normalise_stars, wilson_lower_bound
from gateway.domain.ratings.policy import COMPONENTS, RatingPolicy
from gateway.domain.reports.schedule import DECIDED, DueReport, ReportStatus

DIGITS = 6

# The method in words, published with every week's ranking (names are RatingPolicy fields).
FORMULAS = {
    "reply_stars": "Bayesian average of the citizens' stars for the official's replies: "
    "(reply_prior_weight * reply_prior_mean + sum of stars) / (reply_prior_weight + n); "
    "normalised (v - 1) / 4",
    "on_time": "Wilson lower bound (z = wilson_z) of the share of appeals charged to the official that were "
    "answered by their due date; late or unanswered appeals are charged to whoever held them when the due "
    "date ended",
    "report_schedule": "(schedule_prior_weight * schedule_prior_share + on-time reports "
    "+ late_report_credit * late reports) / (schedule_prior_weight + due reports decided: on time, late or "
    "missing)",
    "report_stars": "Bayesian average of the stars for the official's reports, the reviews of one report "
    "weighing at most report_review_cap together: (C * m + sum of w_r * mean_r) / (C + sum of w_r), "
    "w_r = min(reviews of r, report_review_cap), C = report_stars_prior_weight, "
    "m = report_stars_prior_mean; normalised (v - 1) / 4",
    "composite": "sum of weight_i * normalised_i / sum of weight_i over the four components; ranked only "
    "with at least min_appeals appeals charged and min_reports due reports decided in the last window_weeks "
    "weeks",
}
LocalDate = Callable[[datetime], date]


def _utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


@dataclass(frozen=True)
class OfficialRecord:
    """Everything the rating of one official is computed from, as plain values."""

    official_id: str
    org_unit_id: str | None = None
    timeliness: Sequence[Timeliness] = ()
    reply_stars: Sequence[Stars] = ()
    due_reports: Sequence[DueReport] = ()
    report_stars: Sequence[Stars] = ()  # subject_id: the report


@dataclass(frozen=True)
class Component:
    name: str
    value: float  # stars (1–5) or a share (0–1)
    normalised: float  # 0–1
    sample: int
    detail: Mapping[str, float | int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "value": self.value,
            "normalised": self.normalised,
            "sample": self.sample,
            **dict(self.detail),
        }


@dataclass(frozen=True)
class Rating:
    official_id: str
    org_unit_id: str | None
    components: Mapping[str, Component]
    composite: float | None  # None: insufficient data
    rank: int | None = None

    @property
    def sufficient(self) -> bool:
        return self.composite is not None

    @property
    def status(self) -> str:
        return "ranked" if self.sufficient else "insufficient-data"


def _r(x: float) -> float:
    return round(x, DIGITS)


def window_start(as_of: datetime, policy: RatingPolicy) -> datetime | None:
    return as_of - timedelta(weeks=policy.window_weeks) if policy.window_weeks else None


def _in_window(at: datetime, start: datetime | None, as_of: datetime) -> bool:
    return (start is None or at >= start) and at <= as_of


def reply_stars_component(stars: Iterable[Stars], policy: RatingPolicy) -> Component:
    values = [s.stars for s in stars]
    value = bayesian_average(sum(values), len(values), policy.reply_prior_mean, policy.reply_prior_weight)
    return Component(
        "reply_stars", _r(value), _r(normalise_stars(value)), len(values), {"stars": sum(values)}
    )


def on_time_component(timeliness: Iterable[Timeliness], policy: RatingPolicy) -> Component:
    records = list(timeliness)
    on_time = sum(1 for t in records if t.on_time)
    value = wilson_lower_bound(on_time, len(records), policy.wilson_z)
    return Component(
        "on_time", _r(value), _r(value), len(records), {"on_time": on_time, "late": len(records) - on_time}
    )


def report_schedule_component(reports: Iterable[DueReport], policy: RatingPolicy) -> Component:
    counts = {status: 0 for status in DECIDED}
    for report in reports:
        if report.status in DECIDED:
            counts[report.status] += 1
    n = sum(counts.values())
    credit = counts[ReportStatus.on_time] + policy.late_report_credit * counts[ReportStatus.late]
    value = bayesian_average(credit, n, policy.schedule_prior_share, policy.schedule_prior_weight)
    return Component(
        "report_schedule",
        _r(value),
        _r(value),
        n,
        {str(status): counts[status] for status in sorted(DECIDED)},
    )


def report_stars_component(stars: Iterable[Stars], policy: RatingPolicy) -> Component:
    by_report: dict[str | None, list[int]] = {}
    for s in stars:
        by_report.setdefault(s.subject_id, []).append(s.stars)
    weighted_total = weight = 0.0
    for values in by_report.values():
        w = min(float(len(values)), policy.report_review_cap)
        weighted_total += w * sum(values) / len(values)
        weight += w
    value = bayesian_average(
        weighted_total, weight, policy.report_stars_prior_mean, policy.report_stars_prior_weight
    )
    reviews = sum(len(v) for v in by_report.values())
    return Component(
        "report_stars",
        _r(value),
        _r(normalise_stars(value)),
        reviews,
        {"reports": len(by_report), "weight": _r(weight)},
    )


def rate_official(
    record: OfficialRecord, policy: RatingPolicy, as_of: datetime, local_date: LocalDate = _utc_date
) -> Rating:
    """One official's components and composite (rank not set). `local_date(moment)` gives the date of a
    moment on the legal clock (due dates of reports are local dates)."""
    start = window_start(as_of, policy)
    start_day: date | None = local_date(start) if start else None
    components = {
        "reply_stars": reply_stars_component(
            (s for s in record.reply_stars if _in_window(s.at, start, as_of)), policy
        ),
        "on_time": on_time_component(
            (t for t in record.timeliness if _in_window(t.at, start, as_of)), policy
        ),
        "report_schedule": report_schedule_component(
            (d for d in record.due_reports if start_day is None or d.due >= start_day), policy
        ),
        "report_stars": report_stars_component(
            (s for s in record.report_stars if _in_window(s.at, start, as_of)), policy
        ),
    }
    sufficient = (
        components["on_time"].sample >= policy.min_appeals
        and components["report_schedule"].sample >= policy.min_reports
    )
    composite = None
    if sufficient:
        weights = policy.weights
        composite = _r(
            sum(weights[name] * components[name].normalised for name in COMPONENTS) / sum(weights.values())
        )
    return Rating(record.official_id, record.org_unit_id, components, composite)


def rank(ratings: Iterable[Rating]) -> list[Rating]:
    """Ranked officials first (highest composite first, equal composites share a rank), then the officials
    with insufficient data, each group by official id."""
    ranked = sorted((r for r in ratings if r.sufficient), key=lambda r: (-(r.composite or 0), r.official_id))
    out: list[Rating] = []
    for position, rating in enumerate(ranked, start=1):
        same = out and out[-1].composite == rating.composite
        out.append(_with_rank(rating, out[-1].rank if same else position))
    rest = sorted((r for r in ratings if not r.sufficient), key=lambda r: r.official_id)
    return out + rest


def _with_rank(rating: Rating, position: int | None) -> Rating:
    return Rating(rating.official_id, rating.org_unit_id, rating.components, rating.composite, position)


def rate_all(
    records: Iterable[OfficialRecord],
    policy: RatingPolicy,
    as_of: datetime,
    local_date: LocalDate = _utc_date,
) -> list[Rating]:
    """Every official's rating as of `as_of`, ranked."""
    return rank([rate_official(r, policy, as_of, local_date) for r in records])
