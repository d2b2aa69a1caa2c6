"""Edges from review: out-of-range dates, payment terms, creating deals on read-only clients, renewal links."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from contracts import services
from contracts.models import Contract
from core.errors import DomainError
from tests.factories import ActiveContractFactory, ClientFactory, ContractFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def am():
    return UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Hà Nội"))


def test_a_team_mate_cannot_open_a_deal_on_a_client_they_only_read(am):
    mate = UserFactory(role=Role.ACCOUNT_MANAGER, team=am.team)

    with pytest.raises(DomainError):
        services.contract_create(client=ClientFactory(owner=am), actor=mate, title="Not mine")

    api = APIClient()
    api.force_authenticate(mate)
    response = api.post("/api/v1/contracts", {"client": ClientFactory(owner=am).pk, "title": "x"}, format="json")
    assert response.status_code == 400
    assert not Contract.objects.exists()


@pytest.mark.parametrize(
    "form",
    [
        {"end_date": "0001-01-05", "notice_days": "365"},
        {"end_date": "9999-12-31"},
        {"expected_close": "0202-01-01"},
    ],
)
def test_out_of_range_dates_are_form_errors(client, am, form):
    record = ClientFactory(owner=am)
    client.force_login(am)
    base = {"client": record.pk, "title": "Tết", "kind": "new_business", "value": "1000", "currency": "VND"}
    base |= {"budget": "0", "billing_schedule": "one_off", "payment_terms_days": "30", "notice_days": "30"}

    response = client.post("/contracts/new/", {**base, **form})

    assert response.status_code == 400
    assert not Contract.objects.exists()


def test_signing_in_year_one_is_refused_not_a_crash(client, am):
    contract = ContractFactory(client=ClientFactory(owner=am), stage="awaiting_signature")
    client.force_login(am)

    response = client.post(
        f"/contracts/{contract.pk}/move/",
        {"to": "active", "signed_at": "0001-01-01T00:00", "start_date": "0001-01-01", "end_date": "0001-12-31"},
    )
    api = APIClient()
    api.force_authenticate(am)
    answer = api.post(
        f"/api/v1/contracts/{contract.pk}/transition",
        {
            "to": "active",
            "signed_at": "0001-01-01T00:00:00+07:00",
            "start_date": "0001-01-01",
            "end_date": "0001-12-31",
        },
        format="json",
    )

    assert response.status_code == 400 and answer.status_code == 400
    assert Contract.objects.get(pk=contract.pk).stage == "awaiting_signature"


def test_round_payment_terms_are_capped(am):
    from django.core.exceptions import ValidationError

    contract = ContractFactory(client=ClientFactory(owner=am), stage="negotiation")

    with pytest.raises(ValidationError):
        services.round_record(
            contract=contract, actor=am, proposed_by="client", value=Decimal("1"), payment_terms_days=5000
        )
    assert Contract.objects.get(pk=contract.pk).payment_terms_days == 30


def test_sales_do_not_learn_of_a_renewed_contract_they_may_not_see(client):
    old = ActiveContractFactory(number="HD-1999-77777")
    successor = services.contract_renew(contract=old, actor=UserFactory(role=Role.DIRECTOR))
    sales = UserFactory(role=Role.SALES)
    client.force_login(sales)

    html = client.get(f"/contracts/{successor.pk}/").content.decode()
    api = APIClient()
    api.force_authenticate(sales)

    assert "HD-1999-77777" not in html
    assert api.get(f"/api/v1/contracts/{successor.pk}").json()["renewal_of"] is None


def test_a_huge_client_id_in_the_filter_is_no_crash(client, am):
    client.force_login(am)

    assert client.get("/contracts/?client=99999999999999999999999").status_code == 200
