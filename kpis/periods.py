"""Calendar periods in the agency's time zone: a month, a quarter or a year, with aware bounds for datetimes.

A contract signed at 23:30 on 30 September, Hanoi time, belongs to September: bounds are local midnights.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


MONTHS_IN = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}


@dataclass(frozen=True, order=True)
class Period:
    kind: str
    start: date  # first day
    end: date  # last day (inclusive)

    @classmethod
    def containing(cls, kind: str, day: date) -> "Period":
        months = MONTHS_IN[PeriodKind(kind)]
        first_month = (day.month - 1) // months * months + 1
        start = date(day.year, first_month, 1)
        return cls(kind, start, _add_months(start, months) - timedelta(days=1))

    @classmethod
    def parse(cls, text: str) -> "Period":
        """'2026-11' (month), '2026-Q4' (quarter), '2026' (year). Raises ValueError otherwise."""
        text = text.strip().upper()
        if len(text) == 4 and text.isdigit():
            return cls.containing(PeriodKind.YEAR, date(int(text), 1, 1))
        year, _sep, rest = text.partition("-")
        if not (year.isdigit() and len(year) == 4 and 2000 <= int(year) <= 2100):
            raise ValueError(text)
        if rest.startswith("Q") and rest[1:] in {"1", "2", "3", "4"}:
            return cls.containing(PeriodKind.QUARTER, date(int(year), (int(rest[1:]) - 1) * 3 + 1, 1))
        if rest.isdigit() and 1 <= int(rest) <= 12:
            return cls.containing(PeriodKind.MONTH, date(int(year), int(rest), 1))
        raise ValueError(text)

    @property
    def key(self) -> str:
        if self.kind == PeriodKind.YEAR:
            return f"{self.start.year}"
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.MONTH:
            return formats.date_format(self.start, "YEAR_MONTH_FORMAT")
        return self.key

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def starts_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def ends_before(self) -> datetime:
        """The first instant after the period (exclusive upper bound for datetimes)."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def previous(self, count: int = 1) -> "Period":
        return Period.containing(self.kind, _add_months(self.start, -MONTHS_IN[PeriodKind(self.kind)] * count))

    def next(self) -> "Period":
        return Period.containing(self.kind, self.end + timedelta(days=1))

    def last(self, count: int) -> list["Period"]:
        """This period and the ``count - 1`` before it, oldest first."""
        return [self.previous(back) for back in range(count - 1, -1, -1)]


def current_period(kind: str = PeriodKind.MONTH, today: date | None = None) -> Period:
    return Period.containing(kind, today or timezone.localdate())


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
