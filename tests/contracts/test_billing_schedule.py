"""Invoices from billing schedules: retainer months, milestones and one-off invoices, each issued once, ever."""

from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Notification
from contracts.billing import schedule
from contracts.billing.schedule import create_scheduled_invoices, split
from contracts.models import Invoice, InvoiceEvent, InvoiceNumber, Phase, Stage
from contracts.tasks import create_scheduled_invoices_task
from core.errors import TransitionError
from tests.factories import ActiveContractFactory, ContractFactory, UserFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture(autouse=True)
def _invoice_day_the_first(settings):
    settings.ACCORD_RETAINER_INVOICE_DAY = 1


def retainer(start: date, end: date, value: str = "100000000", currency: str = "VND", **fields):
    return ActiveContractFactory(
        billing_schedule="monthly_retainer",
        start_date=start,
        end_date=end,
        value=D(value),
        currency=currency,
        **fields,
    )


def milestones(*budgets: str, value: str = "100000000", currency: str = "VND"):
    """A milestone contract with one phase per budget, in order; no phase finished yet."""
    contract = ActiveContractFactory(
        billing_schedule="milestones",
        start_date=date(2026, 6, 1),
        end_date=date(2027, 5, 31),
        value=D(value),
        currency=currency,
    )
    for order, budget in enumerate(budgets, start=1):
        Phase.objects.create(contract=contract, name=f"Giai đoạn {order}", order=order, budget=D(budget))
    return contract


def finish(phase: Phase, on: date) -> None:
    phase.actual_start, phase.actual_end = on - timedelta(days=20), on
    phase.save(update_fields=["actual_start", "actual_end"])


def nets(contract) -> dict[str, Decimal]:
    return dict(contract.invoices.order_by("pk").values_list("schedule_key", "net_amount"))


# --- Amounts ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "months", "expected"),
    [
        ("100000000", "VND", 3, ["33333333", "33333333", "33333334"]),
        ("1000.00", "USD", 3, ["333.33", "333.33", "333.34"]),
        ("10000.00", "USD", 12, ["833.33"] * 11 + ["833.37"]),
        ("200000000", "VND", 12, ["16666667"] * 11 + ["16666663"]),
    ],
)
def test_retainer_months_add_up_exactly_to_the_value(value, currency, months, expected):
    start = date(2026, 1, 1)
    end = date(2026, months, 28)
    contract = retainer(start, end, value=value, currency=currency)

    created = create_scheduled_invoices(today=end)

    assert created == months
    assert list(nets(contract).values()) == [D(amount) for amount in expected]
    assert sum(nets(contract).values()) == D(value)
    assert list(nets(contract)) == [f"retainer:2026-{month:02d}" for month in range(1, months + 1)]


def test_scheduled_invoices_are_issued_with_vat_and_the_contracts_payment_terms():
    contract = retainer(date(2026, 11, 1), date(2027, 1, 31), currency="USD", value="3000.00", payment_terms_days=15)

    create_scheduled_invoices(today=date(2026, 11, 1))

    invoice = contract.invoices.get()
    assert (invoice.number, invoice.status, invoice.currency) == ("INV-2026-00001", "issued", "USD")
    assert (invoice.net_amount, invoice.vat_rate, invoice.vat_amount, invoice.gross_amount) == (
        D("1000.00"),
        10,
        D("100.00"),
        D("1100.00"),
    )
    assert (invoice.issue_date, invoice.due_date) == (date(2026, 11, 1), date(2026, 11, 16))
    assert invoice.created_by is None
    assert list(invoice.events.order_by("pk").values_list("kind", "actor")) == [("created", None), ("issued", None)]


def test_the_sweep_rounds_milestones_by_budget_and_the_last_phase_takes_the_remainder():
    contract = milestones("10000000", "10000000", "10000000", value="100000000")
    first, second, third = contract.phases.all()
    finish(third, date(2026, 7, 1))  # the last phase by order finishes first: it still takes the remainder
    finish(first, date(2026, 8, 1))
    finish(second, date(2026, 9, 1))

    create_scheduled_invoices(today=date(2026, 9, 1))

    assert nets(contract) == {
        f"milestone:{third.pk}": D("33333334"),
        f"milestone:{first.pk}": D("33333333"),
        f"milestone:{second.pk}": D("33333333"),
    }


def test_milestones_follow_the_phase_budgets_in_usd_to_the_cent():
    contract = milestones("500", "300", "200", value="9999.99", currency="USD")
    for phase in contract.phases.all():
        finish(phase, date(2026, 8, 1))

    create_scheduled_invoices(today=date(2026, 8, 1))

    assert list(nets(contract).values()) == [D("5000.00"), D("3000.00"), D("1999.99")]
    assert sum(nets(contract).values()) == D("9999.99")


def test_milestones_are_split_evenly_when_no_phase_has_a_budget():
    contract = milestones("0", "0", value="1000.00", currency="USD")
    for phase in contract.phases.all():
        finish(phase, date(2026, 8, 1))

    create_scheduled_invoices(today=date(2026, 8, 1))

    assert list(nets(contract).values()) == [D("500.00"), D("500.00")]


def test_a_few_dong_over_many_months_never_make_a_negative_share():
    shares = split(D("7"), [D(1)] * 10, "VND")

    assert sum(shares) == D("7")
    assert min(shares) >= 0


def test_months_with_nothing_left_to_bill_get_no_invoice():
    contract = retainer(date(2026, 1, 1), date(2026, 10, 31), value="7")

    create_scheduled_invoices(today=date(2026, 10, 31))

    assert sum(nets(contract).values()) == D("7")
    assert all(net > 0 for net in nets(contract).values())


def test_the_last_month_settles_the_value_after_it_was_changed_mid_retainer():
    contract = retainer(date(2026, 1, 1), date(2026, 4, 30), value="100000000")
    create_scheduled_invoices(today=date(2026, 2, 1))  # January and February at 25,000,000
    contract.value = D("120000000")
    contract.save(update_fields=["value"])

    create_scheduled_invoices(today=date(2026, 4, 1))

    assert list(nets(contract).values()) == [D("25000000"), D("25000000"), D("30000000"), D("40000000")]
    assert sum(nets(contract).values()) == contract.value


def test_a_schedule_changed_after_invoicing_never_bills_more_than_the_value():
    contract = ActiveContractFactory(start_date=date(2026, 9, 1), end_date=date(2026, 12, 31), value=D("90000000"))
    create_scheduled_invoices(today=date(2026, 9, 1))  # the whole value, one-off
    contract.billing_schedule = "monthly_retainer"
    contract.save(update_fields=["billing_schedule"])

    assert create_scheduled_invoices(today=date(2026, 12, 1)) == 0
    assert nets(contract) == {"one-off": D("90000000")}


# --- When -------------------------------------------------------------------------------------------------------


def test_retainer_invoices_fall_on_the_invoice_day_and_the_first_on_the_start(settings):
    settings.ACCORD_RETAINER_INVOICE_DAY = 5
    contract = retainer(date(2026, 9, 20), date(2027, 1, 3))
    created_on = {}
    day = date(2026, 9, 1)
    while day <= date(2027, 1, 31):
        create_scheduled_invoices(today=day)
        for key in nets(contract):
            created_on.setdefault(key, day)
        day += timedelta(days=1)

    assert created_on == {
        "retainer:2026-09": date(2026, 9, 20),  # the start, later than the 5th
        "retainer:2026-10": date(2026, 10, 5),
        "retainer:2026-11": date(2026, 11, 5),
        "retainer:2026-12": date(2026, 12, 5),
        "retainer:2027-01": date(2027, 1, 3),  # the end, earlier than the 5th
    }
    assert sum(nets(contract).values()) == contract.value
    assert list(contract.invoices.order_by("pk").values_list("issue_date", flat=True)) == list(created_on.values())


def test_a_contract_signed_late_gets_the_missed_months_at_once_dated_today():
    contract = retainer(date(2026, 8, 1), date(2027, 7, 31), value="120000000")

    created = create_scheduled_invoices(today=date(2026, 10, 15))

    invoices = list(contract.invoices.order_by("number"))
    assert created == 3
    assert [invoice.schedule_key for invoice in invoices] == [
        "retainer:2026-08",
        "retainer:2026-09",
        "retainer:2026-10",
    ]
    assert [invoice.number for invoice in invoices] == ["INV-2026-00001", "INV-2026-00002", "INV-2026-00003"]
    assert {(invoice.issue_date, invoice.due_date) for invoice in invoices} == {
        (date(2026, 10, 15), date(2026, 11, 14))
    }


def test_a_one_off_invoice_is_the_whole_value_from_the_start_date():
    contract = ActiveContractFactory(start_date=date(2026, 11, 10), end_date=date(2027, 2, 28), value=D("75500000"))

    assert create_scheduled_invoices(today=date(2026, 11, 9)) == 0
    assert create_scheduled_invoices(today=date(2026, 11, 10)) == 1

    assert nets(contract) == {"one-off": D("75500000")}
    assert contract.invoices.get().description == f"{contract.number} · {contract.title}"


def test_milestones_are_invoiced_only_for_finished_phases():
    contract = milestones("60000000", "40000000")
    designed, launched = contract.phases.all()
    finish(designed, date(2026, 8, 10))
    launched.actual_start = date(2026, 8, 11)
    launched.save(update_fields=["actual_start"])

    assert create_scheduled_invoices(today=date(2026, 8, 9)) == 0
    assert create_scheduled_invoices(today=date(2026, 8, 10)) == 1

    invoice = contract.invoices.get()
    assert (invoice.schedule_key, invoice.phase, invoice.net_amount) == (
        f"milestone:{designed.pk}",
        designed,
        D("60000000"),
    )
    assert invoice.description == f"{contract.number} · {contract.title} · Giai đoạn 1"


def test_a_milestone_contract_without_phases_gets_nothing():
    milestones()

    assert create_scheduled_invoices(today=date(2026, 11, 1)) == 0


# --- Which contracts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["draft", "negotiation", "awaiting_signature", "lost"])
def test_contracts_not_signed_get_no_invoice(stage):
    ContractFactory(
        stage=stage, billing_schedule="monthly_retainer", start_date=date(2026, 1, 1), end_date=date(2026, 12, 31)
    )

    assert create_scheduled_invoices(today=date(2026, 11, 1)) == 0
    assert not Invoice.objects.exists()


def test_a_terminated_contract_gets_nothing_more():
    retainer(date(2026, 1, 1), date(2026, 12, 31), stage=Stage.TERMINATED)

    assert create_scheduled_invoices(today=date(2026, 11, 1)) == 0


def test_a_renewed_contract_keeps_billing_the_rest_of_its_period():
    contract = retainer(date(2026, 1, 1), date(2026, 12, 31), value="120000000", stage=Stage.RENEWED)

    create_scheduled_invoices(today=date(2026, 12, 1))

    assert len(nets(contract)) == 12
    assert sum(nets(contract).values()) == contract.value


def test_an_expired_contract_gets_a_phase_closed_after_its_end_within_the_grace_period_only():
    contract = milestones("1", "1")  # ends on 31 May 2027
    contract.stage = Stage.EXPIRED
    contract.save(update_fields=["stage"])
    first, last = contract.phases.all()
    end_of_grace = date(2027, 5, 31) + timedelta(days=schedule.ENDED_GRACE_DAYS)
    finish(first, end_of_grace)
    finish(last, end_of_grace + timedelta(days=1))

    assert create_scheduled_invoices(today=end_of_grace) == 1
    assert create_scheduled_invoices(today=end_of_grace + timedelta(days=1)) == 0
    assert list(nets(contract)) == [f"milestone:{first.pk}"]


# --- Once, ever -------------------------------------------------------------------------------------------------


def test_a_second_run_creates_nothing():
    contract = retainer(date(2026, 9, 1), date(2027, 8, 31))
    create_scheduled_invoices(today=date(2026, 11, 1))
    events, last_number = InvoiceEvent.objects.count(), InvoiceNumber.objects.get(year=2026).last

    assert create_scheduled_invoices(today=date(2026, 11, 1)) == 0
    assert create_scheduled_invoices(today=date(2026, 11, 30)) == 0

    assert contract.invoices.count() == 3
    assert InvoiceEvent.objects.count() == events
    assert InvoiceNumber.objects.get(year=2026).last == last_number == 3


def test_a_void_scheduled_invoice_is_not_created_again():
    contract = retainer(date(2026, 11, 1), date(2027, 1, 31))
    create_scheduled_invoices(today=date(2026, 11, 1))
    Invoice.objects.filter(contract=contract).update(status="void")

    assert create_scheduled_invoices(today=date(2026, 11, 2)) == 0


def test_an_item_another_sweep_created_meanwhile_is_skipped_and_its_number_given_back():
    contract = retainer(date(2026, 11, 1), date(2027, 1, 31))
    create_scheduled_invoices(today=date(2026, 11, 1))

    with mock.patch.object(schedule, "_billed_items", return_value={}):  # listed before the other sweep committed
        created = create_scheduled_invoices(today=date(2026, 11, 1))

    assert created == 0
    assert contract.invoices.count() == 1
    assert InvoiceNumber.objects.get(year=2026).last == 1


def test_a_refused_item_is_logged_and_the_other_contracts_still_get_theirs(caplog):
    refused = ActiveContractFactory(start_date=date(2026, 11, 1), end_date=date(2027, 1, 31))
    billed = ActiveContractFactory(start_date=date(2026, 11, 1), end_date=date(2027, 1, 31))
    invoice_create = schedule.services.invoice_create

    def refuse_one(*, contract, **fields):
        if contract.pk == refused.pk:
            raise TransitionError("Only a signed contract can be invoiced.")
        return invoice_create(contract=contract, **fields)

    with mock.patch.object(schedule.services, "invoice_create", side_effect=refuse_one):
        assert create_scheduled_invoices(today=date(2026, 11, 1)) == 1

    assert list(Invoice.objects.values_list("contract", flat=True)) == [billed.pk]
    assert f"{refused.number} one-off not invoiced" in caplog.text


# --- Owners, the task, the batches --------------------------------------------------------------------------------


def test_each_owner_hears_once_how_many_invoices_went_out():
    owner, other = UserFactory(), UserFactory()
    retainer(date(2026, 10, 1), date(2027, 9, 30), owner=owner)
    retainer(date(2026, 11, 1), date(2027, 10, 31), owner=owner)
    retainer(date(2026, 11, 1), date(2027, 10, 31), owner=other)

    create_scheduled_invoices(today=date(2026, 11, 1))
    create_scheduled_invoices(today=date(2026, 11, 2))

    assert list(Notification.objects.filter(recipient=owner).values_list("title", flat=True)) == [
        "3 invoices issued for your clients"
    ]
    assert list(Notification.objects.filter(recipient=other).values_list("title", flat=True)) == [
        "1 invoice issued for your clients"
    ]


def test_the_task_runs_the_sweep_for_the_given_day():
    contract = retainer(date(2026, 10, 1), date(2027, 9, 30))

    result = create_scheduled_invoices_task.delay(today="2026-11-01")

    assert result.get() == 2
    assert list(nets(contract)) == ["retainer:2026-10", "retainer:2026-11"]


def test_the_beat_creates_invoices_every_morning_at_seven(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["create-scheduled-invoices"]

    assert entry["task"] == "contracts.tasks.create_scheduled_invoices_task"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({7}, {0})


def test_contracts_are_walked_in_batches_and_nothing_piles_up_in_memory():
    contracts = [retainer(date(2026, 11, 1), date(2027, 10, 31)) for _ in range(5)]

    assert create_scheduled_invoices(today=date(2026, 11, 1), batch_size=2) == 5

    assert all(contract.invoices.count() == 1 for contract in contracts)


def queries_of_a_second_run(contracts: int, batch_size: int) -> int:
    for _ in range(contracts):
        retainer(date(2026, 11, 1), date(2027, 10, 31))
    create_scheduled_invoices(today=date(2026, 11, 1))
    with CaptureQueriesContext(connection) as queries:
        assert create_scheduled_invoices(today=date(2026, 11, 1), batch_size=batch_size) == 0
    return len(queries)


@pytest.mark.parametrize("contracts", [2, 20])
def test_a_run_with_nothing_due_costs_the_same_queries_for_2_and_20_contracts(contracts):
    # the contracts, their phases, the schedule keys they have invoiced already
    assert queries_of_a_second_run(contracts, batch_size=50) == 3


def test_each_batch_costs_three_queries():
    # two full batches and a last one of one contract: three queries each
    assert queries_of_a_second_run(5, batch_size=2) == 9
