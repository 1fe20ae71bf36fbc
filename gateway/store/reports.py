"""Work reports, their reviews, and the weekly rating snapshots.

- `work_reports`: one per (official, period kind, period start): a second report for the same period is
  refused (`invalid-transition`), so the unique constraint also settles two reports racing.
- `report_reviews`: one per (report, reviewer ref), likewise.
- `rating_runs` and `rating_snapshots`: one run per ISO week ("2026-W05") with the policy it used, and one
  snapshot row per official in it; recomputing a week replaces both.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.store.models import Base


class WorkReport(Base):
    __tablename__ = "work_reports"
    __table_args__ = (
        UniqueConstraint(
            "official_id", "period_kind", "period_start", name="uq_work_reports_official_period"
        ),
        Index("ix_work_reports_received_at", "received_at"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # wr- + 26 base32 characters
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), index=True)
    period_kind: Mapped[str] = mapped_column(String(8))  # week | month | year
    period_start: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    items: Mapped[list] = mapped_column(JSON)  # [{"title", "result", "metric": {"name", "value", "unit"}}]
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))  # the signed WorkReport, verbatim


class ReportReview(Base):
    __tablename__ = "report_reviews"
    __table_args__ = (UniqueConstraint("report_id", "reviewer_ref", name="uq_report_reviews_reviewer"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("work_reports.id"), index=True)
    reviewer_ref: Mapped[str] = mapped_column(String(64))  # pseudonymous, issued by the portal
    stars: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    origin_system: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))


class RatingRun(Base):
    """One computation of one ISO week: as of when, with which method."""

    __tablename__ = "rating_runs"
    week: Mapped[str] = mapped_column(String(8), primary_key=True)  # YYYY-Www
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # the week's end: events before it count
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    policy: Mapped[dict] = mapped_column(JSON)  # RatingPolicy.as_dict()
    officials: Mapped[int] = mapped_column(Integer)
    ranked: Mapped[int] = mapped_column(Integer)


class RatingSnapshot(Base):
    """An official's rating for one week: components with sample sizes, composite, rank (None: not ranked)."""

    __tablename__ = "rating_snapshots"
    __table_args__ = (Index("ix_rating_snapshots_official_week", "official_id", "week"),)
    week: Mapped[str] = mapped_column(ForeignKey("rating_runs.week"), primary_key=True)
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), primary_key=True)
    org_unit_id: Mapped[str | None] = mapped_column(String(64))  # the official's unit at the week's end
    status: Mapped[str] = mapped_column(String(24))  # ranked | insufficient-data
    composite: Mapped[float | None] = mapped_column(Float)  # 0–1
    rank: Mapped[int | None] = mapped_column(Integer)
    components: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
