"""Service-level deadlines of client requests, counted in the agency's business hours.

Business hours are Monday to Friday, 08:30–17:30 in the agency's time zone by default (settings
ACCORD_BUSINESS_HOURS, ACCORD_BUSINESS_DAYS, ACCORD_HOLIDAYS). Urgent requests are due in 4 business hours;
high in 1 business day, normal in 3, low in 5. A warning is due at 75 % of the allowed time.
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone

WARNING_SHARE = 0.75


def _opening_closing() -> tuple[time, time]:
    opening, closing = settings.ACCORD_BUSINESS_HOURS
    return time.fromisoformat(opening), time.fromisoformat(closing)


def business_day_minutes() -> int:
    opening, closing = _opening_closing()
    return (closing.hour * 60 + closing.minute) - (opening.hour * 60 + opening.minute)


def allowed_minutes(priority: str) -> int:
    """How many business minutes a request of this priority may take."""
    day = business_day_minutes()
    return {"urgent": 4 * 60, "high": day, "normal": 3 * day, "low": 5 * day}[priority]


def is_business_day(day: date) -> bool:
    return day.isoweekday() in settings.ACCORD_BUSINESS_DAYS and day.isoformat() not in settings.ACCORD_HOLIDAYS


def add_business_minutes(start: datetime, minutes: float) -> datetime:
    """The moment ``minutes`` of business time after ``start`` (an aware datetime); returned in local time."""
    zone = timezone.get_default_timezone()
    opening, closing = _opening_closing()
    current = timezone.localtime(start, zone)
    remaining = timedelta(minutes=minutes)
    while True:
        day_open = datetime.combine(current.date(), opening, tzinfo=zone)
        day_close = datetime.combine(current.date(), closing, tzinfo=zone)
        if not is_business_day(current.date()) or current >= day_close:
            current = datetime.combine(current.date() + timedelta(days=1), opening, tzinfo=zone)
            continue
        current = max(current, day_open)
        if current + remaining <= day_close:
            return current + remaining
        remaining -= day_close - current
        current = datetime.combine(current.date() + timedelta(days=1), opening, tzinfo=zone)


def sla_deadlines(received_at: datetime, priority: str) -> tuple[datetime, datetime]:
    """(warning at 75 % of the allowed time, due) for a request received at ``received_at``."""
    minutes = allowed_minutes(priority)
    return add_business_minutes(received_at, minutes * WARNING_SHARE), add_business_minutes(received_at, minutes)
