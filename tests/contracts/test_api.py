"""The contracts API: CRUD, filters, every stage move and role rule, stale writers, renewal, rounds, phases, costs,
the pipeline summary, the visibility matrix, the error format and bounded query counts."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Notification, Role
from contracts.models import DEFAULT_PROBABILITY, Contract, CostEntry, NegotiationRound, Phase, Stage, StageChange
from contracts.services import MOVES
from tests.api_support import as_user, error_of, ids, ordered_ids
from tests.factories import (
    ActiveContractFactory,
    ClientFactory,
    ContractFactory,
    DepartmentFactory,
    PartnerFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# --- People and helpers -------------------------------------------------------------------------------------


def contract_of(owner, **fields) -> Contract:
    """A contract on a client of ``owner``, owned by them."""
    return ContractFactory(client=ClientFactory(owner=owner), **fields)


def active_contract_of(owner, **fields) -> Contract:
    return ActiveContractFactory(client=ClientFactory(owner=owner), **fields)


def in_stage(owner, stage: str) -> Contract:
    """A contract of ``owner`` in ``stage``, with the dates that stage implies."""
    if stage in (Stage.ACTIVE, Stage.RENEWED, Stage.EXPIRED, Stage.TERMINATED):
        return active_contract_of(owner, stage=stage, probability=DEFAULT_PROBABILITY[stage])
    return contract_of(owner, stage=stage, probability=DEFAULT_PROBABILITY[stage])


def unchanged(contract: Contract) -> bool:
    """Nothing was written: same stage and version, no stage history."""
    fresh = Contract.objects.get(pk=contract.pk)
    return (fresh.stage, fresh.version) == (contract.stage, contract.version) and not fresh.stage_changes.exists()


# --- Visibility and permissions -----------------------------------------------------------------------------


def test_an_account_manager_sees_own_and_team_clients_contracts_and_own_deals(api, am, teammate, stranger):
    own, teams = contract_of(am), active_contract_of(teammate)
    own_deal_elsewhere = ContractFactory(client=ClientFactory(owner=stranger), owner=am)
    hidden = contract_of(stranger)

    response = as_user(api, am).get("/api/v1/contracts")

    assert ids(response) == {own.pk, teams.pk, own_deal_elsewhere.pk}
    assert error_of(api.get(f"/api/v1/contracts/{hidden.pk}"), 404)["code"] == "not_found"


def test_sales_sees_the_whole_pipeline_and_its_own_signed_deals_only(api, am, sales):
    pipeline = [in_stage(am, stage) for stage in ("draft", "negotiation", "awaiting_signature")]
    others_signed = [in_stage(am, stage) for stage in ("active", "expired", "lost")]
    own_signed = ActiveContractFactory(owner=sales)

    assert ids(as_user(api, sales).get("/api/v1/contracts")) == {*(c.pk for c in pipeline), own_signed.pk}
    for contract in others_signed:
        assert error_of(api.get(f"/api/v1/contracts/{contract.pk}"), 404)["code"] == "not_found"


def test_finance_reads_every_contract_and_changes_none(api, am, stranger, finance):
    contracts = [contract_of(am), active_contract_of(stranger)]
    draft, active = contracts
    client = ClientFactory(owner=am)
    as_user(api, finance)

    assert ids(api.get("/api/v1/contracts")) == {contract.pk for contract in contracts}
    assert api.get(f"/api/v1/contracts/{active.pk}").status_code == 200
    refused = [
        api.post("/api/v1/contracts", {"client": client.pk, "title": "Finance deal"}),
        api.patch(f"/api/v1/contracts/{draft.pk}", {"title": "x"}),
        api.post(f"/api/v1/contracts/{draft.pk}/transition", {"to": "negotiation"}),
        api.post(f"/api/v1/contracts/{active.pk}/renew"),
        api.post(f"/api/v1/contracts/{draft.pk}/rounds", {"proposed_by": "client", "value": "1"}),
        api.post(f"/api/v1/contracts/{active.pk}/phases", {"name": "Launch"}),
        api.post(f"/api/v1/contracts/{active.pk}/costs", {"description": "x", "amount": "1"}),
    ]

    assert [error_of(response, 403)["code"] for response in refused] == ["permission_denied"] * len(refused)
    assert unchanged(draft) and unchanged(active)
    assert Contract.objects.count() == 2
    assert not (NegotiationRound.objects.exists() or Phase.objects.exists() or CostEntry.objects.exists())


def test_a_team_contract_is_read_only_for_an_account_manager(api, am, teammate):
    contract = contract_of(teammate, title="Tết 2027")
    phase = Phase.objects.create(contract=contract, name="Launch")
    as_user(api, am)

    assert api.get(f"/api/v1/contracts/{contract.pk}").json()["title"] == "Tết 2027"
    assert api.get(f"/api/v1/phases/{phase.pk}").status_code == 200
    error = error_of(api.patch(f"/api/v1/contracts/{contract.pk}", {"title": "Mine"}), 403)
    refused = [
        api.post(f"/api/v1/contracts/{contract.pk}/transition", {"to": "negotiation"}),
        api.post(f"/api/v1/contracts/{contract.pk}/rounds", {"proposed_by": "client", "value": "1"}),
        api.post(f"/api/v1/contracts/{contract.pk}/phases", {"name": "More"}),
        api.post(f"/api/v1/contracts/{contract.pk}/costs", {"description": "x", "amount": "1"}),
        api.patch(f"/api/v1/phases/{phase.pk}", {"name": "Mine"}),
    ]

    assert error == {
        "code": "permission_denied",
        "message": "Only the deal's owner, the client's owner or a director can change this contract.",
        "fields": {},
    }
    assert [response.status_code for response in refused] == [403] * len(refused)
    assert unchanged(contract)
    assert Contract.objects.get(pk=contract.pk).title == "Tết 2027"
    assert list(Phase.objects.values_list("name", flat=True)) == ["Launch"]


def test_sales_may_read_but_not_move_a_deal_it_does_not_own(api, am, sales):
    contract = contract_of(am)

    response = as_user(api, sales).post(f"/api/v1/contracts/{contract.pk}/transition", {"to": "negotiation"})

    assert error_of(response, 403)["code"] == "permission_denied"
    assert unchanged(contract)


def test_an_invisible_contract_is_404_on_every_endpoint(api, am, stranger):
    contract = active_contract_of(stranger)
    phase = Phase.objects.create(contract=contract, name="Launch")
    base = f"/api/v1/contracts/{contract.pk}"
    as_user(api, am)

    responses = [
        api.get(base),
        api.patch(base, {"title": "x"}),
        api.post(f"{base}/transition", {"to": "expired"}),
        api.post(f"{base}/renew"),
        api.get(f"{base}/rounds"),
        api.post(f"{base}/rounds", {"proposed_by": "client", "value": "1"}),
        api.get(f"{base}/phases"),
        api.post(f"{base}/phases", {"name": "x"}),
        api.get(f"{base}/costs"),
        api.post(f"{base}/costs", {"description": "x", "amount": "1"}),
        api.get(f"/api/v1/phases/{phase.pk}"),
        api.patch(f"/api/v1/phases/{phase.pk}", {"name": "x"}),
    ]

    assert [error_of(response, 404)["code"] for response in responses] == ["not_found"] * len(responses)
    assert unchanged(contract) and not Contract.objects.filter(renewal_of=contract).exists()


def test_a_director_sees_and_changes_every_contract(api, am, stranger, director):
    contracts = [contract_of(am), contract_of(stranger)]
    as_user(api, director)

    assert ids(api.get("/api/v1/contracts")) == {contract.pk for contract in contracts}
    response = api.patch(f"/api/v1/contracts/{contracts[1].pk}", {"title": "Đổi tên"})
    assert response.status_code == 200 and response.json()["title"] == "Đổi tên"


def test_anonymous_callers_get_401(api):
    assert error_of(api.get("/api/v1/contracts"), 401)["code"] == "not_authenticated"
    assert error_of(api.get("/api/v1/contracts/pipeline"), 401)["code"] == "not_authenticated"


# --- Create, read, update -----------------------------------------------------------------------------------


def test_an_account_manager_creates_a_draft_deal_they_own(api, am, director):
    client = ClientFactory(owner=am)

    response = as_user(api, am).post(
        "/api/v1/contracts",
        {
            "client": client.pk,
            "title": "Chiến dịch Tết 2027",
            "value": "250000000",
            "currency": "VND",
            "expected_close": "2026-12-15",
            # Not the caller's to set: ignored.
            "stage": "active",
            "probability": 90,
            "number": "HD-1999-00001",
            "version": 7,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    contract = Contract.objects.get()
    assert body["id"] == contract.pk
    assert body["number"] == f"HD-{timezone.localdate().year}-00001"
    assert (body["stage"], body["probability"], body["version"]) == ("draft", 10, 1)
    assert body["owner"] == {"id": am.pk, "full_name": "Lan Nguyễn"}
    assert (body["value"], body["weighted_value"]) == ("250000000.00", "25000000.00")
    assert body["budget_summary"]["spent"] == "0.00" and body["stage_changes"] == []
    assert (body["renewal_of"], body["successor"]) == (None, None)


def test_only_a_director_creates_a_deal_for_someone_else(api, am, teammate, director):
    client = ClientFactory(owner=am)

    refused = as_user(api, am).post("/api/v1/contracts", {"client": client.pk, "title": "x", "owner": teammate.pk})
    assert error_of(refused, 403)["code"] == "permission_denied"
    assert not Contract.objects.exists()

    created = as_user(api, director).post("/api/v1/contracts", {"client": client.pk, "title": "x", "owner": am.pk})
    assert created.status_code == 201 and created.json()["owner"]["id"] == am.pk


def test_a_deal_needs_a_client_you_can_see_and_valid_terms(api, am, stranger):
    hidden_client = ClientFactory(owner=stranger)
    client = ClientFactory(owner=am)
    as_user(api, am)

    hidden = error_of(api.post("/api/v1/contracts", {"client": hidden_client.pk, "title": "x"}), 400)
    negative = error_of(api.post("/api/v1/contracts", {"client": client.pk, "title": "x", "value": "-1"}), 400)
    backwards = error_of(
        api.post(
            "/api/v1/contracts",
            {"client": client.pk, "title": "x", "start_date": "2026-06-01", "end_date": "2026-05-01"},
        ),
        400,
    )

    assert hidden["code"] == "invalid" and list(hidden["fields"]) == ["client"]
    assert "does not exist" in hidden["fields"]["client"][0]
    assert list(negative["fields"]) == ["value"]
    assert backwards["code"] == "invalid"
    assert not Contract.objects.exists()


def test_the_card_shows_terms_weighted_value_notice_deadline_renewal_links_and_budget(api, am):
    previous = active_contract_of(am, end_date=datetime.date(2026, 12, 31), start_date=datetime.date(2026, 1, 1))
    contract = ContractFactory(
        client=previous.client,
        renewal_of=previous,
        kind="renewal",
        stage="negotiation",
        probability=40,
        value=Decimal("300000000"),
        budget=Decimal("200000000"),
        start_date=datetime.date(2027, 1, 1),
        end_date=datetime.date(2027, 12, 31),
        notice_days=45,
        notice_deadline=datetime.date(2027, 11, 16),
    )
    as_user(api, am)

    body = api.get(f"/api/v1/contracts/{contract.pk}").json()
    previous_body = api.get(f"/api/v1/contracts/{previous.pk}").json()

    assert body["weighted_value"] == "120000000.00"
    assert (body["stage"], body["kind"], body["probability"]) == ("negotiation", "renewal", 40)
    assert body["notice_deadline"] == "2027-11-16"
    assert (body["renewal_of"], previous_body["successor"]) == (previous.pk, contract.pk)
    assert body["budget_summary"] == {
        "budget": "200000000.00",
        "spent": "0.00",
        "remaining": "200000000.00",
        "used_percent": 0,
        "margin": "300000000.00",
        "roi_percent": None,
        "warning": None,
    }
    assert body["team"] == {"id": am.team.pk, "name": "Hà Nội"}


def test_patching_changes_terms_only_and_bumps_the_version(api, am, teammate):
    contract = contract_of(am, title="Old", notice_days=30)
    number = contract.number

    response = as_user(api, am).patch(
        f"/api/v1/contracts/{contract.pk}",
        {
            "title": "Tết 2027",
            "end_date": "2027-02-28",
            "notice_days": 60,
            "version": 1,
            "stage": "active",
            "probability": 90,
            "owner": teammate.pk,
            "number": "HD-1999-00001",
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["version"], body["notice_deadline"]) == ("Tết 2027", 2, "2026-12-30")
    contract.refresh_from_db()
    assert (contract.stage, contract.probability, contract.owner, contract.number) == ("draft", 10, am, number)


def test_two_stale_writers_one_is_refused_and_no_update_is_lost(api, am, director):
    contract = contract_of(am, title="Original", value=Decimal("100000000"))
    url = f"/api/v1/contracts/{contract.pk}"
    owner, boss = as_user(APIClient(), am), as_user(APIClient(), director)
    read_by_owner, read_by_boss = owner.get(url).json()["version"], boss.get(url).json()["version"]

    first = owner.patch(url, {"value": "300000000", "version": read_by_owner})
    second = boss.patch(url, {"title": "Late", "version": read_by_boss})

    assert first.status_code == 200
    assert error_of(second, 409) == {
        "code": "conflict",
        "message": "Someone else changed this contract while you were editing it. Reload to see their changes.",
        "fields": {},
    }
    contract.refresh_from_db()
    assert (contract.title, contract.value, contract.version) == ("Original", Decimal("300000000"), 2)


def test_two_stale_movers_one_is_refused_and_the_first_move_stands(api, am, director):
    contract = contract_of(am)

    first = as_user(APIClient(), am).post(
        f"/api/v1/contracts/{contract.pk}/transition", {"to": "negotiation", "version": 1}
    )
    second = as_user(APIClient(), director).post(
        f"/api/v1/contracts/{contract.pk}/transition", {"to": "lost", "lost_reason": "Budget cut", "version": 1}
    )

    assert first.status_code == 200 and first.json()["version"] == 2
    assert error_of(second, 409)["code"] == "conflict"
    contract.refresh_from_db()
    assert (contract.stage, contract.lost_reason, contract.version) == ("negotiation", "", 2)
    assert list(contract.stage_changes.values_list("target", flat=True)) == ["negotiation"]


def test_a_stale_terms_edit_after_a_move_is_refused(api, am):
    contract = contract_of(am, title="Original")
    as_user(api, am)

    api.post(f"/api/v1/contracts/{contract.pk}/transition", {"to": "negotiation", "version": 1})
    stale = api.patch(f"/api/v1/contracts/{contract.pk}", {"title": "Late", "version": 1})

    assert error_of(stale, 409)["code"] == "conflict"
    assert Contract.objects.get(pk=contract.pk).title == "Original"


def test_an_ended_contract_cannot_be_changed(api, am):
    contract = in_stage(am, "expired")

    response = as_user(api, am).patch(f"/api/v1/contracts/{contract.pk}", {"title": "x"})

    assert error_of(response, 400)["code"] == "invalid_transition"
    assert Contract.objects.get(pk=contract.pk).title == contract.title


def test_contracts_are_never_deleted_or_replaced(api, director):
    contract = ContractFactory()
    as_user(api, director)

    assert error_of(api.delete(f"/api/v1/contracts/{contract.pk}"), 405)["code"] == "method_not_allowed"
    assert api.put(f"/api/v1/contracts/{contract.pk}", {"title": "x"}).status_code == 405
    assert Contract.objects.filter(pk=contract.pk).exists()


# --- Filters and ordering -----------------------------------------------------------------------------------


def test_the_list_takes_the_pipeline_filters(api, am, teammate, director):
    vinamilk = ClientFactory(owner=am, name="Vinamilk")
    tet = ContractFactory(
        client=vinamilk, title="Tết", kind="upsell", currency="USD", expected_close=datetime.date(2026, 12, 15)
    )
    summer = ContractFactory(
        client=ClientFactory(owner=teammate, name="Masan"),
        title="Hè",
        stage="negotiation",
        probability=40,
        expected_close=datetime.date(2027, 6, 1),
    )
    other_team = ContractFactory(client=ClientFactory(owner=UserFactory(team=TeamFactory(name="Đà Nẵng"))))
    as_user(api, director)

    assert ids(api.get("/api/v1/contracts", {"q": "vinamilk"})) == {tet.pk}
    assert ids(api.get("/api/v1/contracts", {"q": summer.number})) == {summer.pk}
    assert ids(api.get("/api/v1/contracts", {"owner": teammate.pk})) == {summer.pk}
    assert ids(api.get("/api/v1/contracts", {"team": am.team.pk})) == {tet.pk, summer.pk}
    assert ids(api.get("/api/v1/contracts", {"client": vinamilk.pk})) == {tet.pk}
    assert ids(api.get("/api/v1/contracts", {"stage": "negotiation"})) == {summer.pk}
    assert ids(api.get("/api/v1/contracts", {"kind": "upsell"})) == {tet.pk}
    assert ids(api.get("/api/v1/contracts", {"currency": "USD"})) == {tet.pk}
    assert ids(api.get("/api/v1/contracts", {"close_month": "2027-06"})) == {summer.pk}
    assert ids(api.get("/api/v1/contracts", {"close_month": "june"})) == set()
    assert ids(api.get("/api/v1/contracts")) == {tet.pk, summer.pk, other_team.pk}
    assert list(error_of(api.get("/api/v1/contracts", {"stage": "signed"}), 400)["fields"]) == ["stage"]


def test_the_list_orders_by_number_value_expected_close_and_creation(api, am):
    small = contract_of(am, value=Decimal("1000"), expected_close=datetime.date(2026, 9, 1))
    large = contract_of(am, value=Decimal("9000"), expected_close=datetime.date(2026, 7, 1))
    middle = contract_of(am, value=Decimal("5000"), expected_close=datetime.date(2026, 8, 1))
    as_user(api, am)

    assert ordered_ids(api.get("/api/v1/contracts")) == [middle.pk, large.pk, small.pk]  # newest first
    assert ordered_ids(api.get("/api/v1/contracts", {"ordering": "value"})) == [small.pk, middle.pk, large.pk]
    assert ordered_ids(api.get("/api/v1/contracts", {"ordering": "-value"})) == [large.pk, middle.pk, small.pk]
    assert ordered_ids(api.get("/api/v1/contracts", {"ordering": "expected_close"})) == [
        large.pk,
        middle.pk,
        small.pk,
    ]
    assert ordered_ids(api.get("/api/v1/contracts", {"ordering": "number"})) == [small.pk, large.pk, middle.pk]
    assert ordered_ids(api.get("/api/v1/contracts", {"ordering": "created_at"})) == [small.pk, large.pk, middle.pk]


# --- Transitions --------------------------------------------------------------------------------------------

EVERY_MOVE = [(source, target) for source in Stage.values for target in Stage.values if source != target]
MOVE_PAYLOAD = {
    "note": "Agreed on the call.",
    "lost_reason": "Went with another agency.",
    "signed_at": "2026-03-01T10:00:00+07:00",
    "start_date": "2026-04-01",
    "end_date": "2027-03-31",
}


@pytest.mark.parametrize(("source", "target"), EVERY_MOVE)
def test_every_move_the_rules_allow_is_made_and_every_other_is_refused(api, am, director, source, target):
    contract = in_stage(am, source)
    # Termination needs a director; every other move is the owner's.
    actor = director if target == Stage.TERMINATED else am

    response = as_user(api, actor).post(
        f"/api/v1/contracts/{contract.pk}/transition", {"to": target, **MOVE_PAYLOAD, "version": 1}
    )

    if target in MOVES[source]:
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["stage"], body["probability"], body["version"]) == (target, DEFAULT_PROBABILITY[target], 2)
        change = StageChange.objects.get(contract=contract)
        assert (change.source, change.target, change.actor, change.note) == (
            source,
            target,
            actor,
            MOVE_PAYLOAD["note"],
        )
    else:
        error = error_of(response, 400)
        assert error["code"] == "invalid_transition"
        assert error["fields"] == {"stage": ["Not allowed from here."]}
        assert unchanged(contract)


def test_signing_needs_the_signature_date_start_and_end(api, am):
    contract = in_stage(am, "awaiting_signature")
    as_user(api, am)

    missing = error_of(api.post(f"/api/v1/contracts/{contract.pk}/transition", {"to": "active"}), 400)
    backwards = error_of(
        api.post(
            f"/api/v1/contracts/{contract.pk}/transition",
            {"to": "active", **MOVE_PAYLOAD, "start_date": "2026-04-01", "end_date": "2026-03-01"},
        ),
        400,
    )
    assert unchanged(contract)
    signed = api.post(
        f"/api/v1/contracts/{contract.pk}/transition",
        {
            "to": "active",
            "signed_at": "2026-03-01T23:30:00+07:00",
            "start_date": "2026-04-01",
            "end_date": "2027-03-31",
        },
    )

    assert missing["code"] == "invalid_transition"
    assert set(missing["fields"]) == {"signed_at", "start_date", "end_date"}
    assert backwards["fields"] == {"end_date": ["Before the start."]}
    assert signed.status_code == 200, signed.content
    body = signed.json()
    assert (body["stage"], body["probability"]) == ("active", 100)
    assert (body["start_date"], body["end_date"], body["notice_deadline"]) == ("2026-04-01", "2027-03-31", "2027-03-01")
    assert body["signed_at"].startswith("2026-03-01T23:30:00")  # shown in Asia/Ho_Chi_Minh


def test_a_lost_deal_needs_a_reason(api, am):
    contract = in_stage(am, "negotiation")
    as_user(api, am)

    refused = error_of(api.post(f"/api/v1/contracts/{contract.pk}/transition", {"to": "lost"}), 400)
    assert unchanged(contract)
    lost = api.post(f"/api/v1/contracts/{contract.pk}/transition", {"to": "lost", "lost_reason": "Price"})

    assert (refused["code"], list(refused["fields"])) == ("invalid_transition", ["lost_reason"])
    assert (lost.json()["stage"], lost.json()["probability"], lost.json()["lost_reason"]) == ("lost", 0, "Price")


def test_only_a_director_terminates_and_says_why(api, am, director):
    contract = in_stage(am, "active")

    by_owner = as_user(api, am).post(f"/api/v1/contracts/{contract.pk}/transition", {"to": "terminated", "note": "x"})
    assert error_of(by_owner, 403) == {
        "code": "permission_denied",
        "message": "Only a director can terminate a contract.",
        "fields": {},
    }
    assert unchanged(contract)

    without_note = as_user(api, director).post(f"/api/v1/contracts/{contract.pk}/transition", {"to": "terminated"})
    assert (error_of(without_note, 400)["code"], list(error_of(without_note, 400)["fields"])) == (
        "invalid_transition",
        ["note"],
    )
    assert unchanged(contract)

    terminated = api.post(f"/api/v1/contracts/{contract.pk}/transition", {"to": "terminated", "note": "Breach"})
    assert terminated.status_code == 200 and terminated.json()["stage"] == "terminated"


def test_dates_that_end_before_they_start_are_refused_on_any_move(api, am):
    contract = contract_of(am, start_date=datetime.date(2026, 4, 1))
    as_user(api, am)

    sent = api.post(
        f"/api/v1/contracts/{contract.pk}/transition",
        {"to": "negotiation", "start_date": "2026-06-01", "end_date": "2026-05-01"},
    )
    against_the_start_on_file = api.post(
        f"/api/v1/contracts/{contract.pk}/transition", {"to": "negotiation", "end_date": "2026-03-01"}
    )

    assert error_of(sent, 400)["fields"] == {"end_date": ["Before the start."]}
    assert error_of(against_the_start_on_file, 400)["fields"] == {"end_date": ["Before the start."]}
    assert unchanged(contract) and Contract.objects.get(pk=contract.pk).end_date is None


def test_whoever_signs_a_deal_gets_the_answer_even_when_it_leaves_their_sight(api, am, sales):
    # Sales may change the deals on its clients, but sees only the pipeline and the deals it owns: once signed,
    # this one is out of its sight (ContractQuerySet decides that), yet the move it made is answered in full.
    contract = ContractFactory(client=ClientFactory(owner=sales), owner=am, stage="awaiting_signature", probability=80)
    as_user(api, sales)

    response = api.post(
        f"/api/v1/contracts/{contract.pk}/transition",
        {"to": "active", **MOVE_PAYLOAD},
    )

    assert response.status_code == 200, response.content
    assert (response.json()["stage"], response.json()["budget_summary"]["spent"]) == ("active", "0.00")


def test_a_transition_to_an_unknown_stage_is_invalid_input(api, am):
    contract = contract_of(am)

    error = error_of(as_user(api, am).post(f"/api/v1/contracts/{contract.pk}/transition", {"to": "signed"}), 400)

    assert (error["code"], list(error["fields"])) == ("invalid", ["to"])
    assert unchanged(contract)


def test_the_stage_history_shows_on_the_card(api, am):
    contract = contract_of(am)
    as_user(api, am)

    api.post(f"/api/v1/contracts/{contract.pk}/transition", {"to": "negotiation", "note": "Brief received"})
    body = api.get(f"/api/v1/contracts/{contract.pk}").json()

    assert [(row["source"], row["target"], row["actor"]["id"], row["note"]) for row in body["stage_changes"]] == [
        ("draft", "negotiation", am.pk, "Brief received")
    ]


# --- Renewal ------------------------------------------------------------------------------------------------


def test_renewing_creates_the_successor_draft_once(api, am):
    contract = active_contract_of(
        am,
        title="Retainer 2026",
        value=Decimal("600000000"),
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 12, 31),
    )
    as_user(api, am)

    response = api.post(f"/api/v1/contracts/{contract.pk}/renew")
    again = api.post(f"/api/v1/contracts/{contract.pk}/renew")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["stage"], body["kind"], body["renewal_of"], body["title"]) == (
        "draft",
        "renewal",
        contract.pk,
        "Retainer 2026",
    )
    assert (body["value"], body["start_date"], body["end_date"]) == ("600000000.00", "2027-01-01", "2027-12-31")
    assert api.get(f"/api/v1/contracts/{contract.pk}").json()["successor"] == body["id"]
    assert error_of(again, 409)["code"] == "conflict"
    assert Contract.objects.filter(renewal_of=contract).count() == 1


def test_signing_the_renewal_marks_the_old_contract_renewed(api, am):
    contract = active_contract_of(am)
    as_user(api, am)
    successor = api.post(f"/api/v1/contracts/{contract.pk}/renew").json()

    signed = api.post(
        f"/api/v1/contracts/{successor['id']}/transition",
        {"to": "awaiting_signature", "version": successor["version"]},
    )
    api.post(
        f"/api/v1/contracts/{successor['id']}/transition",
        {"to": "active", "signed_at": "2026-03-01T10:00:00+07:00", "version": signed.json()["version"]},
    )

    assert api.get(f"/api/v1/contracts/{successor['id']}").json()["stage"] == "active"
    assert api.get(f"/api/v1/contracts/{contract.pk}").json()["stage"] == "renewed"


def test_only_a_running_or_expired_contract_is_renewed(api, am):
    contract = contract_of(am)

    response = as_user(api, am).post(f"/api/v1/contracts/{contract.pk}/renew")

    assert error_of(response, 400)["code"] == "invalid_transition"
    assert Contract.objects.count() == 1


# --- Negotiation rounds -------------------------------------------------------------------------------------


def test_rounds_are_numbered_and_the_deal_follows_the_latest(api, am):
    contract = contract_of(am, value=Decimal("250000000"), payment_terms_days=30)
    as_user(api, am)

    offer = api.post(
        f"/api/v1/contracts/{contract.pk}/rounds",
        {"proposed_by": "agency", "value": "250000000", "scope_summary": "TVC + digital"},
    )
    counter = api.post(
        f"/api/v1/contracts/{contract.pk}/rounds",
        {"proposed_by": "client", "value": "220000000", "discount_percent": "12", "payment_terms_days": 45},
    )

    assert (offer.status_code, counter.status_code) == (201, 201)
    assert counter.json() | {"id": None, "created_at": None} == {
        "id": None,
        "contract": contract.pk,
        "number": 2,
        "proposed_by": "client",
        "value": "220000000.00",
        "discount_percent": "12.00",
        "payment_terms_days": 45,
        "scope_summary": "",
        "recorded_by": {"id": am.pk, "full_name": "Lan Nguyễn"},
        "created_at": None,
    }
    listed = api.get(f"/api/v1/contracts/{contract.pk}/rounds").json()
    assert [row["number"] for row in listed["results"]] == [1, 2] and listed["count"] == 2
    card = api.get(f"/api/v1/contracts/{contract.pk}").json()
    assert (card["value"], card["payment_terms_days"], card["version"]) == ("220000000.00", 45, 3)


def test_rounds_are_recorded_before_signature_only_and_validated(api, am):
    active = in_stage(am, "active")
    draft = contract_of(am)
    as_user(api, am)

    signed = error_of(api.post(f"/api/v1/contracts/{active.pk}/rounds", {"proposed_by": "client", "value": "1"}), 400)
    invalid = error_of(api.post(f"/api/v1/contracts/{draft.pk}/rounds", {"proposed_by": "boss", "value": "-1"}), 400)

    assert signed["code"] == "invalid_transition"
    assert (invalid["code"], set(invalid["fields"])) == ("invalid", {"proposed_by", "value"})
    assert not NegotiationRound.objects.exists()


# --- Phases -------------------------------------------------------------------------------------------------


def test_phases_are_added_listed_in_order_and_changed(api, am):
    contract = active_contract_of(am)
    as_user(api, am)

    second = api.post(f"/api/v1/contracts/{contract.pk}/phases", {"name": "Launch", "order": 2, "budget": "50000000"})
    first = api.post(
        f"/api/v1/contracts/{contract.pk}/phases",
        {"name": "Teaser", "order": 1, "planned_start": "2026-04-01", "planned_end": "2026-04-30"},
    )
    changed = api.patch(
        f"/api/v1/phases/{first.json()['id']}", {"actual_end": "2026-05-02", "achieved_results": "2.1M views"}
    )

    assert (second.status_code, first.status_code) == (201, 201)
    assert (second.json()["spent"], second.json()["budget"]) == ("0.00", "50000000.00")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["achieved_results"], changed.json()["planned_start"]) == ("2.1M views", "2026-04-01")
    listed = api.get(f"/api/v1/contracts/{contract.pk}/phases").json()["results"]
    assert [row["name"] for row in listed] == ["Teaser", "Launch"]


def test_a_phase_does_not_end_before_it_starts(api, am):
    contract = active_contract_of(am)
    phase = Phase.objects.create(contract=contract, name="Teaser", planned_start=datetime.date(2026, 4, 1))
    as_user(api, am)

    created = error_of(
        api.post(
            f"/api/v1/contracts/{contract.pk}/phases",
            {"name": "x", "planned_start": "2026-04-01", "planned_end": "2026-03-01"},
        ),
        400,
    )
    changed = error_of(api.patch(f"/api/v1/phases/{phase.pk}", {"planned_end": "2026-03-01"}), 400)

    assert created["fields"] == {"planned_end": ["Before the start."]}
    assert changed["fields"] == {"planned_end": ["Before the start."]}
    assert Phase.objects.get(pk=phase.pk).planned_end is None and Phase.objects.count() == 1


# --- Costs and budget ---------------------------------------------------------------------------------------


def test_costs_add_up_per_phase_and_against_the_budget(api, am):
    contract = active_contract_of(am, value=Decimal("250000000"), budget=Decimal("150000000"))
    phase = Phase.objects.create(contract=contract, name="Launch")
    creative, studio = DepartmentFactory(name="Creative"), PartnerFactory(name="Phim Trắng")
    as_user(api, am)

    by_department = api.post(
        f"/api/v1/contracts/{contract.pk}/costs",
        {"department": creative.pk, "phase": phase.pk, "description": "Key visual", "amount": "100000000"},
    )
    by_partner = api.post(
        f"/api/v1/contracts/{contract.pk}/costs",
        {"partner": studio.pk, "description": "TVC shoot", "amount": "20000000", "incurred_on": "2026-03-01"},
    )

    assert (by_department.status_code, by_partner.status_code) == (201, 201)
    assert by_department.json()["department_name"] == "Creative" and by_department.json()["phase_name"] == "Launch"
    assert by_partner.json()["partner_name"] == "Phim Trắng" and by_partner.json()["phase"] is None
    costs = api.get(f"/api/v1/contracts/{contract.pk}/costs").json()
    assert costs["count"] == 2
    assert api.get(f"/api/v1/phases/{phase.pk}").json()["spent"] == "100000000.00"
    assert api.get(f"/api/v1/contracts/{contract.pk}").json()["budget_summary"] == {
        "budget": "150000000.00",
        "spent": "120000000.00",
        "remaining": "30000000.00",
        "used_percent": 80,
        "margin": "130000000.00",
        "roi_percent": "108.3",
        "warning": "near",
    }


def test_the_owner_hears_once_at_80_and_once_at_100_percent_of_the_budget(api, am):
    contract = active_contract_of(am, budget=Decimal("100000000"))
    creative = DepartmentFactory(name="Creative")
    as_user(api, am)

    def spend(amount: str) -> None:
        response = api.post(
            f"/api/v1/contracts/{contract.pk}/costs",
            {"department": creative.pk, "description": "Work", "amount": amount},
        )
        assert response.status_code == 201, response.content

    spend("80000000")
    spend("5000000")
    assert Notification.objects.filter(recipient=am).count() == 1
    spend("15000000")
    spend("1000000")
    assert Notification.objects.filter(recipient=am).count() == 2
    assert api.get(f"/api/v1/contracts/{contract.pk}").json()["budget_summary"]["warning"] == "over"


def test_a_cost_needs_a_payee_and_a_phase_of_the_same_contract(api, am, stranger):
    contract = active_contract_of(am)
    elsewhere = Phase.objects.create(contract=active_contract_of(stranger), name="Hidden")
    creative = DepartmentFactory(name="Creative")
    as_user(api, am)

    no_payee = error_of(api.post(f"/api/v1/contracts/{contract.pk}/costs", {"description": "x", "amount": "1"}), 400)
    other_phase = error_of(
        api.post(
            f"/api/v1/contracts/{contract.pk}/costs",
            {"department": creative.pk, "phase": elsewhere.pk, "description": "x", "amount": "1"},
        ),
        400,
    )
    nothing = error_of(
        api.post(
            f"/api/v1/contracts/{contract.pk}/costs", {"department": creative.pk, "description": "x", "amount": "0"}
        ),
        400,
    )

    assert (no_payee["code"], list(no_payee["fields"])) == ("invalid", ["department"])
    assert list(other_phase["fields"]) == ["phase"] and "does not exist" in other_phase["fields"]["phase"][0]
    assert list(nothing["fields"]) == ["amount"]
    assert not CostEntry.objects.exists()


# --- Pipeline summary ---------------------------------------------------------------------------------------


def pipeline_deal(owner, stage: str, value: str, currency: str = "VND", **fields) -> Contract:
    return ContractFactory(
        client=ClientFactory(owner=owner),
        stage=stage,
        probability=DEFAULT_PROBABILITY[stage],
        value=Decimal(value),
        currency=currency,
        **fields,
    )


def column(stage: str, label: str, count: int, *totals) -> dict:
    return {
        "stage": stage,
        "label": label,
        "count": count,
        "totals": [
            {"currency": currency, "total": total, "weighted": weighted} for currency, total, weighted in totals
        ],
    }


def test_the_pipeline_summary_counts_and_totals_each_stage_per_currency(api, am, stranger):
    pipeline_deal(am, "draft", "100000000")
    pipeline_deal(am, "draft", "200000000")
    pipeline_deal(am, "draft", "10000", "USD")
    pipeline_deal(am, "negotiation", "500000000")
    pipeline_deal(am, "awaiting_signature", "1000000000")
    in_stage(am, "active")  # signed or lost: not on the board
    pipeline_deal(am, "lost", "900000000")
    pipeline_deal(stranger, "draft", "700000000")  # not the account manager's to see

    response = as_user(api, am).get("/api/v1/contracts/pipeline")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "columns": [
            column("draft", "Draft", 3, ("VND", "300000000.00", "30000000.00"), ("USD", "10000.00", "1000.00")),
            column("negotiation", "Negotiation", 1, ("VND", "500000000.00", "200000000.00")),
            column("awaiting_signature", "Awaiting signature", 1, ("VND", "1000000000.00", "800000000.00")),
        ]
    }


def test_the_pipeline_summary_takes_the_list_filters_and_the_sales_view(api, am, sales):
    pipeline_deal(am, "draft", "100000000", expected_close=datetime.date(2026, 12, 1))
    pipeline_deal(am, "negotiation", "10000", "USD", expected_close=datetime.date(2027, 1, 15))
    pipeline_deal(sales, "negotiation", "300000000", expected_close=datetime.date(2027, 1, 20))
    as_user(api, sales)

    everything = api.get("/api/v1/contracts/pipeline").json()["columns"]
    in_january = api.get("/api/v1/contracts/pipeline", {"close_month": "2027-01"}).json()["columns"]
    in_dollars = api.get("/api/v1/contracts/pipeline", {"currency": "USD"}).json()["columns"]
    own = api.get("/api/v1/contracts/pipeline", {"owner": sales.pk}).json()["columns"]

    assert [col["count"] for col in everything] == [1, 2, 0]
    assert [col["count"] for col in in_january] == [0, 2, 0]
    assert in_dollars[1]["totals"] == [{"currency": "USD", "total": "10000.00", "weighted": "4000.00"}]
    assert own == [
        column("draft", "Draft", 0),
        column("negotiation", "Negotiation", 1, ("VND", "300000000.00", "120000000.00")),
        column("awaiting_signature", "Awaiting signature", 0),
    ]
    assert list(error_of(api.get("/api/v1/contracts/pipeline", {"owner": 0}), 400)["fields"]) == ["owner"]


# --- Query counts -------------------------------------------------------------------------------------------


def add_contracts(owner, count: int) -> Contract:
    """``count`` contracts of ``owner`` across the pipeline and signed, each with a predecessor, rounds, phases and
    costs; and ``count`` of other people. Returns the first one."""
    creative, studio = DepartmentFactory(name="Creative"), PartnerFactory()
    stages = ["draft", "negotiation", "awaiting_signature", "active"]
    first = None
    for index in range(count):
        client = ClientFactory(owner=owner)
        previous = ActiveContractFactory(client=client, stage="renewed")
        contract = ActiveContractFactory(
            client=client, stage=stages[index % 4], renewal_of=previous, currency=["VND", "USD"][index % 2]
        )
        first = first or contract
        phase = Phase.objects.create(contract=contract, name=f"Phase {index}")
        NegotiationRound.objects.create(
            contract=contract, number=1, proposed_by="client", value=Decimal("1"), recorded_by=owner
        )
        CostEntry.objects.create(
            contract=contract, phase=phase, department=creative, partner=studio, amount=1, recorded_by=owner
        )
        StageChange.objects.create(contract=contract, source="draft", target=contract.stage, actor=owner)
        ContractFactory()  # someone else's
    return first


def grow_parts(contract: Contract, owner, count: int) -> None:
    creative, studio = DepartmentFactory(name="Creative"), PartnerFactory()
    start = contract.rounds.count()
    for index in range(count):
        phase = Phase.objects.create(contract=contract, name=f"Phase {start + index}", order=start + index)
        NegotiationRound.objects.create(
            contract=contract, number=start + index + 1, proposed_by="agency", value=Decimal("1"), recorded_by=owner
        )
        CostEntry.objects.create(
            contract=contract, phase=phase, department=creative, partner=studio, amount=1, recorded_by=owner
        )
        StageChange.objects.create(contract=contract, source="draft", target="negotiation", actor=owner)


# Requests made with force_authenticate: no query for the user.
LIST_QUERIES = {
    # the contracts' revision (the count is cached under it), the count, the page with client, owner, team and
    # successor joined, which of their renewal links the user sees
    "/api/v1/contracts": 4,
    "/api/v1/contracts/pipeline": 2,  # the revision, the count and sums per stage and currency in one GROUP BY
}
PART_QUERIES = {
    "rounds": 3,  # the contract, the count, the page with who recorded each
    "phases": 3,  # the contract, the count, the page with each phase's costs summed
    "costs": 3,  # the contract, the count, the page with phase, department, partner and who recorded it
}
# The contract with client, owner, team, predecessor and successor joined, then its rounds, phases (with costs
# summed), costs (with phase, department, partner, recorder) and stage history (with who moved it); which of its
# renewal links the user sees.
CARD_QUERIES = 6


@pytest.mark.parametrize("path", list(LIST_QUERIES))
@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SALES, Role.FINANCE, Role.DIRECTOR])
def test_list_endpoints_query_count_does_not_grow_with_rows(api, path, role, django_assert_num_queries):
    user = UserFactory(role=role, team=TeamFactory())
    as_user(api, user)

    add_contracts(user, 2)
    with django_assert_num_queries(LIST_QUERIES[path]):
        assert api.get(path).status_code == 200
    add_contracts(user, 18)
    with django_assert_num_queries(LIST_QUERIES[path]):
        response = api.get(path)
    body = response.json()
    if path == "/api/v1/contracts":
        assert len(body["results"]) >= 20
    else:
        assert sum(col["count"] for col in body["columns"]) >= 15


@pytest.mark.parametrize("part", list(PART_QUERIES))
def test_a_contracts_lists_query_count_does_not_grow_with_rows(api, am, part, django_assert_num_queries):
    contract = add_contracts(am, 1)
    as_user(api, am)

    grow_parts(contract, am, 1)
    with django_assert_num_queries(PART_QUERIES[part]):
        assert api.get(f"/api/v1/contracts/{contract.pk}/{part}").json()["count"] == 2
    grow_parts(contract, am, 18)
    with django_assert_num_queries(PART_QUERIES[part]):
        assert api.get(f"/api/v1/contracts/{contract.pk}/{part}").json()["count"] == 20


def test_the_cards_query_count_does_not_grow_with_its_parts(api, am, django_assert_num_queries):
    contract = add_contracts(am, 1)
    as_user(api, am)

    grow_parts(contract, am, 1)
    with django_assert_num_queries(CARD_QUERIES):
        assert len(api.get(f"/api/v1/contracts/{contract.pk}").json()["stage_changes"]) == 2
    grow_parts(contract, am, 18)
    with django_assert_num_queries(CARD_QUERIES):
        assert len(api.get(f"/api/v1/contracts/{contract.pk}").json()["stage_changes"]) == 20
