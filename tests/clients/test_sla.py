"""SLA due times count business hours only: Monday–Friday 08:30–17:30 in Asia/Ho_Chi_Minh."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from clients.sla import add_business_minutes, allowed_minutes, sla_deadlines

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026 (the 27th is a Friday), Hanoi time."""
    return datetime(2026, 11, day, hour, minute, tzinfo=HANOI)


@pytest.mark.parametrize(
    ("priority", "received", "due"),
    [
        ("urgent", at(24, 9, 0), at(24, 13, 0)),  # Tuesday morning: same day
        ("urgent", at(24, 16, 0), at(25, 11, 0)),  # 1.5 h today, 2.5 h tomorrow from 08:30
        ("urgent", at(27, 16, 30), at(30, 11, 30)),  # Friday afternoon → Monday
        ("urgent", at(28, 10, 0), at(30, 12, 30)),  # Saturday: the clock starts Monday 08:30
        ("urgent", at(24, 20, 0), at(25, 12, 30)),  # evening: starts next morning
        ("urgent", at(24, 7, 0), at(24, 12, 30)),  # early: starts at opening
        ("high", at(24, 10, 0), at(25, 10, 0)),  # one business day of 9 h
        ("high", at(27, 17, 30), at(30, 17, 30)),  # received at closing on Friday
        ("normal", at(26, 14, 0), datetime(2026, 12, 1, 14, 0, tzinfo=HANOI)),  # Thu 14:00 + 27 h → Tue
        ("low", at(23, 8, 30), at(27, 17, 30)),  # Monday opening + 5 days = Friday closing
    ],
)
def test_due_time_counts_business_hours(priority, received, due):
    assert sla_deadlines(received, priority)[1] == due


def test_warning_is_at_three_quarters_of_the_allowed_time():
    warning, due = sla_deadlines(at(24, 9, 0), "urgent")

    assert warning == at(24, 12, 0)  # 3 of 4 hours
    assert due == at(24, 13, 0)


def test_allowed_time_per_priority_in_minutes():
    assert [allowed_minutes(p) for p in ("urgent", "high", "normal", "low")] == [240, 540, 1620, 2700]


def test_holidays_and_other_hours_come_from_settings(settings):
    settings.ACCORD_HOLIDAYS = frozenset({"2026-11-25"})
    settings.ACCORD_BUSINESS_HOURS = ("09:00", "18:00")

    assert add_business_minutes(at(24, 17, 0), 120) == at(26, 10, 0)  # 1 h Tuesday, Wednesday off, 1 h Thursday


def test_input_in_utc_gives_the_same_local_moment():
    received_utc = datetime(2026, 11, 24, 2, 0, tzinfo=ZoneInfo("UTC"))  # 09:00 in Hanoi

    assert sla_deadlines(received_utc, "urgent")[1] == at(24, 13, 0)
