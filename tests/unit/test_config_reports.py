"""Deployment settings reach the report schedule and the rating method."""

from __future__ import annotations

from datetime import date

import pytest

from gateway.app import ratings_service, report_schedule
from gateway.config import Settings
from gateway.domain.reports.schedule import due_date


def test_defaults_follow_spec():
    schedule = report_schedule(Settings())
    assert (schedule.weekly_grace_working_days, schedule.monthly_day, schedule.yearly_day) == (1, 5, 31)
    policy = ratings_service(Settings()).policy
    assert (policy.min_appeals, policy.min_reports, policy.weight_on_time) == (5, 3, 0.35)


def test_environment_configures_the_schedule_and_the_method(monkeypatch):
    monkeypatch.setenv("ZVAROT_REPORT_WEEKLY_GRACE_WORKING_DAYS", "2")
    monkeypatch.setenv("ZVAROT_REPORT_MONTHLY_DAY", "10")
    monkeypatch.setenv("ZVAROT_REPORT_YEARLY_DAY", "15")
    monkeypatch.setenv("ZVAROT_RATING_POLICY", "weight_on_time=0.5,min_appeals=10")
    settings = Settings.from_env()
    schedule = report_schedule(settings)
    assert due_date("week", date(2026, 11, 16), schedule) == date(2026, 11, 24)  # Mon 23, Tue 24
    assert due_date("month", date(2026, 10, 1), schedule) == date(2026, 11, 10)
    assert due_date("year", date(2026, 1, 1), schedule) == date(2027, 1, 15)
    ratings = ratings_service(settings)
    assert (ratings.policy.weight_on_time, ratings.policy.min_appeals) == (0.5, 10)
    assert ratings.schedule == schedule


def test_a_bad_rating_policy_is_refused_at_start():
    with pytest.raises(ValueError, match="rating policy"):
        ratings_service(Settings(rating_policy="weight_luck=1"))
