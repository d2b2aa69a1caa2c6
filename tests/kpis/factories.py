"""Factories of the KPI tests: targets, exchange rates, and the few contract records a hand-computed data set needs
that ``tests/factories.py`` does not build (costs, lost deals with their stage change, signed deals at an exact
local time)."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Role
from tests.factories import ContractFactory, DepartmentFactory, UserFactory

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def hanoi(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    """An aware datetime at a wall-clock time in Hanoi (UTC+7), whatever the active time zone."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=HANOI)


class KpiTargetFactory(DjangoModelFactory):
    """An AM's signed-revenue target in đồng for a month; pass ``scope``/``team``/``user`` for others."""

    class Meta:
        model = "kpis.KpiTarget"

    metric = "signed_revenue"
    scope = "user"
    user = factory.SubFactory(UserFactory)
    team = None
    period_kind = "month"
    period_start = datetime.date(2026, 9, 1)
    value = Decimal("1000000000")
    currency = "VND"
    set_by = factory.SubFactory(UserFactory, role=Role.DIRECTOR)


class ExchangeRateFactory(DjangoModelFactory):
    class Meta:
        model = "kpis.ExchangeRate"
        django_get_or_create = ["month"]

    month = datetime.date(2026, 9, 1)
    vnd_per_usd = Decimal("25000")


class CostEntryFactory(DjangoModelFactory):
    class Meta:
        model = "contracts.CostEntry"

    contract = factory.SubFactory(ContractFactory)
    department = factory.SubFactory(DepartmentFactory)
    description = factory.Sequence(lambda n: f"Sản xuất TVC {n}")
    amount = Decimal("1000000")
    incurred_on = factory.LazyFunction(timezone.localdate)
    recorded_by = factory.LazyAttribute(lambda cost: cost.contract.owner)


def signed_contract(*, created: datetime.datetime, signed: datetime.datetime, **fields):
    """A signed contract created at ``created`` (``created_at`` is set on insert, so it is updated after)."""
    fields.setdefault("stage", "active")
    fields.setdefault("probability", 100)
    start = fields.setdefault("start_date", timezone.localtime(signed).date())
    fields.setdefault("end_date", start + datetime.timedelta(days=364))
    contract = ContractFactory(signed_at=signed, **fields)
    return backdate(contract, created)


def lost_deal(*, created: datetime.datetime, lost: datetime.datetime, **fields):
    """A deal marked lost at ``lost``, with the stage change that records it."""
    from contracts.models import StageChange

    contract = ContractFactory(stage="lost", probability=0, lost_reason="Chose another agency", **fields)
    StageChange.objects.create(
        contract=contract, source="negotiation", target="lost", actor=contract.owner, changed_at=lost
    )
    return backdate(contract, created)


def backdate(contract, created: datetime.datetime):
    type(contract).objects.filter(pk=contract.pk).update(created_at=created)
    contract.refresh_from_db()
    return contract
