"""Stage rules, numbering, versions, rounds, budgets and renewals — the contract services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Notification, Role
from clients.health import annotate_health, health_factors
from clients.models import Client
from contracts import services
from contracts.models import BudgetAlert, Contract, Stage, StageChange
from core.errors import ConflictError, PermissionDeniedError, TransitionError
from tests.factories import (
    ActiveContractFactory,
    ClientFactory,
    ContractFactory,
    DepartmentFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SIGNING = {
    "signed_at": timezone.now(),
    "start_date": timezone.localdate(),
    "end_date": timezone.localdate() + timedelta(days=364),
}


@pytest.fixture
def am():
    return UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Hà Nội"))


@pytest.fixture
def director():
    return UserFactory(role=Role.DIRECTOR)


def move(contract, to, actor, **extra):
    return services.contract_move(contract=contract, to=to, actor=actor, **extra)


def test_a_new_deal_is_a_numbered_draft(am):
    client = ClientFactory(owner=am)

    first = services.contract_create(client=client, actor=am, title="Tết 2027", value=Decimal("500000000"))
    second = services.contract_create(client=client, actor=am, title="KOL", value=Decimal("80000000"))

    year = timezone.localdate().year
    assert (first.number, second.number) == (f"HD-{year}-00001", f"HD-{year}-00002")
    assert (first.stage, first.probability, first.owner) == (Stage.DRAFT, 10, am)


def test_sales_create_deals_for_clients_they_only_know_by_name():
    sales = UserFactory(role=Role.SALES)
    client = ClientFactory()

    deal = services.contract_create(client=client, actor=sales, title="New pitch")

    assert deal.owner == sales


def test_finance_cannot_create_deals(am):
    with pytest.raises(PermissionDeniedError):
        services.contract_create(client=ClientFactory(owner=am), actor=UserFactory(role=Role.FINANCE), title="x")


ALLOWED = [
    (Stage.DRAFT, Stage.NEGOTIATION),
    (Stage.DRAFT, Stage.AWAITING_SIGNATURE),
    (Stage.NEGOTIATION, Stage.DRAFT),
    (Stage.NEGOTIATION, Stage.AWAITING_SIGNATURE),
    (Stage.NEGOTIATION, Stage.ACTIVE),
    (Stage.AWAITING_SIGNATURE, Stage.NEGOTIATION),
    (Stage.AWAITING_SIGNATURE, Stage.ACTIVE),
]


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_allowed_moves_record_history_and_probability(am, source, target):
    contract = ContractFactory(client=ClientFactory(owner=am), stage=source)

    moved = move(contract, target, am, note="Client agreed", **(SIGNING if target == Stage.ACTIVE else {}))

    assert (moved.stage, moved.probability) == (target, services.DEFAULT_PROBABILITY[target])
    change = StageChange.objects.get(contract=contract)
    assert (change.source, change.target, change.actor, change.note) == (source, target, am, "Client agreed")


FORBIDDEN = [
    (Stage.DRAFT, Stage.ACTIVE),
    (Stage.DRAFT, Stage.EXPIRED),
    (Stage.NEGOTIATION, Stage.RENEWED),
    (Stage.ACTIVE, Stage.DRAFT),
    (Stage.ACTIVE, Stage.LOST),
    (Stage.LOST, Stage.NEGOTIATION),
    (Stage.EXPIRED, Stage.ACTIVE),
    (Stage.RENEWED, Stage.ACTIVE),
    (Stage.TERMINATED, Stage.ACTIVE),
]


@pytest.mark.parametrize(("source", "target"), FORBIDDEN)
def test_forbidden_moves_change_nothing(am, source, target):
    factory = ActiveContractFactory if source in (Stage.ACTIVE, Stage.EXPIRED, Stage.RENEWED) else ContractFactory
    contract = factory(client=ClientFactory(owner=am), stage=source)

    with pytest.raises(TransitionError) as error:
        move(contract, target, am, lost_reason="x", note="x", **SIGNING)

    assert error.value.code == "invalid_transition"
    assert Contract.objects.get(pk=contract.pk).stage == source
    assert not StageChange.objects.exists()


def test_active_needs_signature_start_and_end(am):
    contract = ContractFactory(client=ClientFactory(owner=am), stage=Stage.AWAITING_SIGNATURE)

    with pytest.raises(TransitionError) as error:
        move(contract, Stage.ACTIVE, am)

    assert set(error.value.fields) == {"signed_at", "start_date", "end_date"}
    assert Contract.objects.get(pk=contract.pk).stage == Stage.AWAITING_SIGNATURE


def test_lost_needs_a_reason(am):
    contract = ContractFactory(client=ClientFactory(owner=am), stage=Stage.NEGOTIATION)

    with pytest.raises(TransitionError):
        move(contract, Stage.LOST, am)
    lost = move(contract, Stage.LOST, am, lost_reason="Budget cut")

    assert (lost.stage, lost.probability, lost.lost_reason) == (Stage.LOST, 0, "Budget cut")


def test_only_a_director_terminates_and_says_why(am, director):
    contract = ActiveContractFactory(client=ClientFactory(owner=am))

    with pytest.raises(PermissionDeniedError):
        move(contract, Stage.TERMINATED, am, note="Breach")
    with pytest.raises(TransitionError):
        move(contract, Stage.TERMINATED, director)
    assert move(contract, Stage.TERMINATED, director, note="Breach of contract").stage == Stage.TERMINATED


def test_team_mates_and_finance_cannot_move(am):
    contract = ContractFactory(client=ClientFactory(owner=am))

    for actor in (UserFactory(role=Role.ACCOUNT_MANAGER, team=am.team), UserFactory(role=Role.FINANCE)):
        with pytest.raises(PermissionDeniedError):
            move(contract, Stage.NEGOTIATION, actor)


def test_two_stale_writers_one_is_refused_and_nothing_is_lost(am):
    contract = ContractFactory(client=ClientFactory(owner=am), title="Original")
    services.contract_update(contract=contract, actor=am, expected_version=1, title="First writer")

    with pytest.raises(ConflictError):
        services.contract_update(contract=contract, actor=am, expected_version=1, title="Second writer")
    with pytest.raises(ConflictError):
        move(contract, Stage.NEGOTIATION, am, expected_version=1)

    contract.refresh_from_db()
    assert (contract.title, contract.stage, contract.version) == ("First writer", Stage.DRAFT, 2)


def test_notice_deadline_follows_the_end_date(am):
    contract = ContractFactory(client=ClientFactory(owner=am))

    services.contract_update(
        contract=contract, actor=am, end_date=timezone.localdate() + timedelta(days=100), notice_days=45
    )

    assert Contract.objects.get(pk=contract.pk).notice_deadline == timezone.localdate() + timedelta(days=55)


def test_a_round_records_the_offer_and_the_deal_follows_it(am):
    contract = ContractFactory(client=ClientFactory(owner=am), stage=Stage.NEGOTIATION)

    services.round_record(contract=contract, actor=am, proposed_by="agency", value=Decimal("500000000"))
    counter = services.round_record(
        contract=contract, actor=am, proposed_by="client", value=Decimal("420000000"), discount_percent=Decimal("5")
    )

    contract.refresh_from_db()
    assert counter.number == 2
    assert contract.value == Decimal("420000000")


def test_budget_alerts_reach_the_owner_once_per_threshold(am):
    contract = ActiveContractFactory(client=ClientFactory(owner=am), budget=Decimal("100000000"))
    creative = DepartmentFactory(name="Creative")

    def spend(amount):
        services.cost_record(contract=contract, actor=am, department=creative, description="KV", amount=Decimal(amount))

    spend("70000000")
    assert not BudgetAlert.objects.exists()
    spend("15000000")  # 85 %
    spend("1000000")  # still 86 %: no second 80 % alert
    spend("20000000")  # 106 %

    assert sorted(BudgetAlert.objects.values_list("threshold", flat=True)) == [80, 100]
    assert Notification.objects.filter(recipient=am).count() == 2


def test_a_cost_needs_a_department_or_partner(am):
    from core.errors import DomainError

    with pytest.raises(DomainError):
        services.cost_record(
            contract=ActiveContractFactory(client=ClientFactory(owner=am)),
            actor=am,
            description="?",
            amount=Decimal("1"),
        )


def test_renewing_creates_the_successor_and_signing_it_renews_the_old_one(am):
    old = ActiveContractFactory(client=ClientFactory(owner=am), value=Decimal("300000000"), auto_renew=True)

    successor = services.contract_renew(contract=old, actor=am)

    assert (successor.kind, successor.stage, successor.renewal_of, successor.value) == (
        "renewal",
        Stage.DRAFT,
        old,
        Decimal("300000000"),
    )
    assert successor.start_date == old.end_date + timedelta(days=1)
    with pytest.raises(ConflictError):
        services.contract_renew(contract=old, actor=am)

    move(successor, Stage.NEGOTIATION, am)
    move(successor, Stage.ACTIVE, am, signed_at=timezone.now())
    assert Contract.objects.get(pk=old.pk).stage == Stage.RENEWED


def test_signing_the_first_contract_makes_a_prospect_active(am):
    client = ClientFactory(owner=am, status="prospect")
    contract = ContractFactory(client=client, stage=Stage.AWAITING_SIGNATURE)

    move(contract, Stage.ACTIVE, am, **SIGNING)

    assert Client.objects.get(pk=client.pk).status == "active"


def test_a_renewal_due_without_a_deal_costs_health(am):
    client = ClientFactory(owner=am)
    ActiveContractFactory(client=client, notice_deadline=timezone.localdate() + timedelta(days=40))

    scored = annotate_health(Client.objects.filter(pk=client.pk)).get()

    assert scored.health_score == 80
    assert [factor.points for factor in health_factors(scored)] == [20]


def test_a_renewal_in_the_pipeline_takes_the_penalty_away(am):
    client = ClientFactory(owner=am)
    old = ActiveContractFactory(client=client, notice_deadline=timezone.localdate() + timedelta(days=40))
    services.contract_renew(contract=old, actor=am)

    assert annotate_health(Client.objects.filter(pk=client.pk)).get().health_score == 100


def test_contracts_join_the_global_search(am):
    from clients.selectors import global_search

    ContractFactory(client=ClientFactory(owner=am, name="Sữa Tươi Ba Vì"), title="Tết 2027", number="HD-2026-00777")

    results = global_search(user=am, query="00777")

    assert [hit.title for group in results["groups"] for hit in group["hits"]] == ["HD-2026-00777 · Tết 2027"]


def test_an_unknown_stage_is_a_clear_refusal(am):
    with pytest.raises(TransitionError):
        move(ContractFactory(client=ClientFactory(owner=am)), "signed", am)
