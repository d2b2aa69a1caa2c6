"""Each event type is emitted once, from the domain action that makes it happen (and not from the others)."""

import datetime
from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from clients import services as client_services
from contracts import services as contract_services
from contracts.billing import services as billing_services
from contracts.billing.overdue import announce_overdue_invoices
from contracts.models import Stage
from integrations.models import EventType, WebhookEvent
from proposals import services as proposal_services
from tests.factories import (
    ActiveContractFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    InvoiceFactory,
    RequestFactory,
    UserFactory,
)
from tests.proposals.factories import line, proposal_with_lines

from .conftest import make_endpoint

pytestmark = pytest.mark.django_db

BROWSER = {"ip": "203.113.1.10", "user_agent": "Mozilla/5.0"}


@pytest.fixture(autouse=True)
def everything_subscribed():
    return make_endpoint(events=EventType.values)


@pytest.fixture
def am():
    return UserFactory(role=Role.ACCOUNT_MANAGER)


@pytest.fixture
def finance():
    return UserFactory(role=Role.FINANCE)


def emitted() -> Counter:
    return Counter(WebhookEvent.objects.values_list("type", flat=True))


def only(event_type: str) -> WebhookEvent:
    events = list(WebhookEvent.objects.all())
    assert [event.type for event in events] == [event_type]
    return events[0]


def test_client_created_and_updated(am):
    client = client_services.client_create(actor=am, name="Công ty Sữa Ba Vì")
    assert emitted() == {"client.created": 1}

    client_services.client_update(client=client, actor=am, name="Ba Vì Milk")

    assert emitted() == {"client.created": 1, "client.updated": 1}
    updated = WebhookEvent.objects.get(type="client.updated")
    assert updated.data["object"]["name"] == "Ba Vì Milk"


def test_request_created(am):
    client = ClientFactory(owner=am)
    request = client_services.request_create(client=client, actor=am, title="Brief: Tết key visual", priority="high")

    event = only("request.created")
    assert event.data["object"]["id"] == request.pk
    assert event.data["object"]["priority"] == "high"


def test_request_sla_breached_once_however_often_the_sweep_runs(am):
    received = timezone.now() - datetime.timedelta(days=10)
    request = RequestFactory(client=ClientFactory(owner=am), received_at=received, priority="urgent")

    client_services.requests_notify_breaches()
    client_services.requests_notify_breaches()

    event = only("request.sla_breached")
    assert event.data["object"]["id"] == request.pk


def test_contract_stage_changed_and_signed(am):
    contract = ContractFactory(client=ClientFactory(owner=am))

    contract_services.contract_move(contract=contract, to=Stage.NEGOTIATION, actor=am)
    assert emitted() == {"contract.stage_changed": 1}
    moved = WebhookEvent.objects.get()
    assert moved.data["previous_stage"] == "draft"
    assert moved.data["object"]["stage"] == "negotiation"

    today = timezone.localdate()
    contract_services.contract_move(
        contract=contract,
        to=Stage.ACTIVE,
        actor=am,
        signed_at=timezone.now(),
        start_date=today,
        end_date=today + datetime.timedelta(days=364),
    )

    assert emitted() == {"contract.stage_changed": 2, "contract.signed": 1}
    signed = WebhookEvent.objects.get(type="contract.signed")
    assert signed.data["object"]["stage"] == "active"
    assert signed.data["object"]["signed_at"] is not None


def test_signing_a_renewal_announces_the_previous_contract_as_renewed(am):
    previous = ActiveContractFactory(client=ClientFactory(owner=am))
    successor = contract_services.contract_renew(contract=previous, actor=am)
    contract_services.contract_move(contract=successor, to=Stage.NEGOTIATION, actor=am)
    WebhookEvent.objects.all().delete()

    contract_services.contract_move(contract=successor, to=Stage.ACTIVE, actor=am, signed_at=timezone.now())

    renewed = [
        event.data
        for event in WebhookEvent.objects.filter(type="contract.stage_changed")
        if event.data["object"]["id"] == previous.pk
    ]
    assert len(renewed) == 1
    assert (renewed[0]["previous_stage"], renewed[0]["object"]["stage"]) == ("active", "renewed")
    assert emitted() == {"contract.stage_changed": 2, "contract.signed": 1}


def test_an_expired_contract_changes_stage(am):
    contract = ActiveContractFactory(client=ClientFactory(owner=am))
    today = contract.end_date + datetime.timedelta(days=1)

    assert contract_services.contract_expire(contract_id=contract.pk, today=today)

    event = only("contract.stage_changed")
    assert (event.data["previous_stage"], event.data["object"]["stage"]) == ("active", "expired")


def sent_proposal(owner):
    client = ClientFactory(owner=owner)
    contact = ContactFactory(client=client, email="hoa@bavi.vn")
    proposal = proposal_with_lines(owner, client=client, lines=[line("Key visual", price="45000000")])
    return proposal_services.proposal_send(proposal=proposal, actor=owner, recipient=contact)


def test_proposal_sent_and_accepted(am):
    proposal = sent_proposal(am)
    assert emitted()["proposal.sent"] == 1

    proposal_services.proposal_accept(proposal=proposal, full_name="Lê Thị Hoa", **BROWSER)
    proposal_services.proposal_accept(proposal=proposal, full_name="Lê Thị Hoa", **BROWSER)  # twice: no change

    assert emitted()["proposal.accepted"] == 1
    accepted = WebhookEvent.objects.get(type="proposal.accepted")
    assert accepted.data["object"]["status"] == "accepted"
    assert accepted.data["object"]["decided_by_name"] == "Lê Thị Hoa"
    assert accepted.data["object"]["net_amount"] == "45000000.00"


def test_proposal_declined(am):
    proposal = sent_proposal(am)

    proposal_services.proposal_decline(proposal=proposal, reason="Over budget", **BROWSER)

    assert emitted() == {"proposal.sent": 1, "proposal.declined": 1}
    assert WebhookEvent.objects.get(type="proposal.declined").data["object"]["decline_reason"] == "Over budget"


def test_invoice_issued_then_paid_in_two_payments(finance):
    contract = ActiveContractFactory()
    invoice = billing_services.invoice_create(
        contract=contract, actor=finance, net_amount=Decimal("10000000"), description="Phí tháng 11"
    )
    assert not WebhookEvent.objects.exists()  # a draft is not announced

    billing_services.invoice_issue(invoice=invoice, actor=finance)
    assert emitted() == {"invoice.issued": 1}

    billing_services.payment_record(invoice=invoice, actor=finance, amount=Decimal("4000000"))
    assert emitted() == {"invoice.issued": 1}  # partially paid: not yet
    billing_services.payment_record(invoice=invoice, actor=finance, amount=Decimal("7000000"))

    paid = WebhookEvent.objects.get(type="invoice.paid")
    assert paid.data["object"]["status"] == "paid"
    assert paid.data["object"]["paid_amount"] == "11000000.00"
    assert paid.data["object"]["outstanding_amount"] == "0.00"
    assert emitted() == {"invoice.issued": 1, "invoice.paid": 1}


def test_invoice_overdue_once_the_day_after_its_due_date():
    today = timezone.localdate()
    overdue = InvoiceFactory(
        issue_date=today - datetime.timedelta(days=31), due_date=today - datetime.timedelta(days=1)
    )
    due_today = InvoiceFactory(due_date=today)  # not overdue yet
    InvoiceFactory(issue_date=today - datetime.timedelta(days=70), due_date=today - datetime.timedelta(days=40))
    paid = InvoiceFactory(due_date=today - datetime.timedelta(days=2))
    paid.paid_amount, paid.status = paid.gross_amount, "paid"
    paid.save()

    assert announce_overdue_invoices(today=today) == 1
    assert announce_overdue_invoices(today=today) == 0  # overdue long ago: not news; paid: not overdue

    event = only("invoice.overdue")
    assert event.data["object"]["id"] == overdue.pk
    assert event.data["days_overdue"] == 1

    tomorrow = today + datetime.timedelta(days=1)
    assert announce_overdue_invoices(today=tomorrow) == 1  # the one due today, and not the first one again
    announced = WebhookEvent.objects.filter(type="invoice.overdue").values_list("data__object__id", flat=True)
    assert sorted(announced) == sorted([overdue.pk, due_today.pk])


def test_no_overdue_sweep_work_without_a_subscriber(everything_subscribed, django_assert_num_queries):
    everything_subscribed.events = ["invoice.paid"]
    everything_subscribed.save()
    InvoiceFactory(due_date=timezone.localdate() - datetime.timedelta(days=1))

    with django_assert_num_queries(1):
        assert announce_overdue_invoices() == 0
