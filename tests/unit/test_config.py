"""Deployment settings reach the deadline rules: the reply period and an imported holiday calendar."""

from __future__ import annotations

from datetime import date

from gateway.app import deadline_policy
from gateway.config import Settings


def test_defaults_follow_belarus_law():
    policy = deadline_policy(Settings())
    assert (policy.reply_calendar_days, policy.extension_max_months, policy.forward_working_days) == (
        15,
        1,
        5,
    )
    assert policy.holidays.is_holiday(date(2027, 1, 7))  # Orthodox Christmas


def test_environment_configures_the_period_and_an_imported_calendar(tmp_path, monkeypatch):
    calendar = tmp_path / "holidays.csv"
    calendar.write_text("# a bridge day\n2027-01-08,Bridge day\n", encoding="utf-8")
    monkeypatch.setenv("ZVAROT_REPLY_DAYS", "30")
    monkeypatch.setenv("ZVAROT_HOLIDAYS_FILE", str(calendar))
    policy = deadline_policy(Settings.from_env())
    assert policy.reply_calendar_days == 30
    assert policy.holidays.is_holiday(date(2027, 1, 8))
    assert policy.holidays.is_holiday(date(2027, 1, 7))  # the defaults are kept under the import
