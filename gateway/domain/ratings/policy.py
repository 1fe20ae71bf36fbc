"""The rating method's parameters: priors, weights, minimum samples, the window. One frozen value, stored with
every week's snapshot so that a published number can always be traced to the method that produced it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

COMPONENTS = ("reply_stars", "on_time", "report_schedule", "report_stars")


@dataclass(frozen=True)
class RatingPolicy:
    # Bayesian average of reply stars (1–5): (C·m + Σ stars) / (C + n)
    reply_prior_mean: float = 3.0
    reply_prior_weight: float = 5.0
    # Wilson lower bound of the share of appeals answered on time, at this z (1.96: 95 %)
    wilson_z: float = 1.96
    # Report-schedule adherence: (C·p + on_time + late_credit·late) / (C + due reports decided)
    schedule_prior_share: float = 0.5
    schedule_prior_weight: float = 2.0
    late_report_credit: float = 0.5
    # Bayesian average of report stars; the reviews of one report weigh at most `report_review_cap` in all
    report_stars_prior_mean: float = 3.0
    report_stars_prior_weight: float = 5.0
    report_review_cap: float = 5.0
    # The composite: a weighted mean of the four components, each normalised to 0–1
    weight_reply_stars: float = 0.30
    weight_on_time: float = 0.35
    weight_report_schedule: float = 0.20
    weight_report_stars: float = 0.15
    # Ranked only with at least this many appeals charged and due reports decided
    min_appeals: int = 5
    min_reports: int = 3
    # Only what happened in the last `window_weeks` weeks before the week's end counts (0: all history)
    window_weeks: int = 52

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"RatingPolicy.{f.name} is a number, not {value!r}")
            if value < 0:
                raise ValueError(f"RatingPolicy.{f.name} is ≥ 0, not {value!r}")
            if f.type in ("int", int) and not isinstance(value, int):
                raise ValueError(f"RatingPolicy.{f.name} is a whole number, not {value!r}")
        for name in ("reply_prior_mean", "report_stars_prior_mean"):
            if not 1 <= getattr(self, name) <= 5:
                raise ValueError(f"RatingPolicy.{name} is a number of stars from 1 to 5")
        for name in ("schedule_prior_share", "late_report_credit"):
            if getattr(self, name) > 1:
                raise ValueError(f"RatingPolicy.{name} is a share from 0 to 1")
        if self.wilson_z <= 0:
            raise ValueError("RatingPolicy.wilson_z is > 0")
        if sum(self.weights.values()) <= 0:
            raise ValueError("RatingPolicy: at least one component needs a weight > 0")

    @property
    def weights(self) -> dict[str, float]:
        """The components' weights, as configured (the composite divides by their sum)."""
        return {name: float(getattr(self, f"weight_{name}")) for name in COMPONENTS}

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    @classmethod
    def from_overrides(cls, text: str, base: RatingPolicy | None = None) -> RatingPolicy:
        """`base` (default: the defaults) with `name=value` pairs separated by commas applied, e.g.
        "weight_on_time=0.5,min_appeals=10" (ZVAROT_RATING_POLICY)."""
        base = base or cls()
        kinds = {f.name: f.type for f in fields(cls)}
        changes: dict[str, float | int] = {}
        for pair in (p.strip() for p in text.split(",")):
            if not pair:
                continue
            name, sep, raw = (s.strip() for s in pair.partition("="))
            if not sep or name not in kinds:
                raise ValueError(
                    f"rating policy: {pair!r} is not name=value with a name of {', '.join(sorted(kinds))}"
                )
            try:
                changes[name] = int(raw) if kinds[name] in ("int", int) else float(raw)
            except ValueError:
                raise ValueError(f"rating policy: {name}={raw!r} is not a number") from None
        return replace(base, **changes)
