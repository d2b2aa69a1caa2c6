"""The contract page: rounds and what changed, phases and results reports, budget vs actual, costs, renewal;
the expiring list; who may see and change what; query counts that do not grow with rows."""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Notification, Role
from clients.models import Activity
from contracts import reports, services
from contracts.models import Contract, CostEntry, NegotiationRound, Phase
from contracts.rounds import round_changes
from contracts.tasks import send_phase_report_task
from core.errors import PermissionDeniedError
from tests.factories import (
    ActiveContractFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    DepartmentFactory,
    PartnerFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# Numbers of our own, so they never meet the HD-<year>-<n> numbers the renewal service takes.
_numbers = itertools.count(1)


@pytest.fixture
def team():
    return TeamFactory(name="Hà Nội")


@pytest.fixture
def am(team):
    return UserFactory(role=Role.ACCOUNT_MANAGER, team=team, full_name="Nguyễn Thu Hà")


@pytest.fixture
def teammate(team):
    return UserFactory(role=Role.ACCOUNT_MANAGER, team=team, full_name="Trần Minh Khoa")


def signed_in(client, user):
    client.force_login(user)
    return client


def active_contract(owner, **fields) -> Contract:
    fields.setdefault("client", ClientFactory(owner=owner))
    return ActiveContractFactory(owner=owner, number=f"T-{next(_numbers):05d}", **fields)


def pipeline_deal(owner, **fields) -> Contract:
    fields.setdefault("client", ClientFactory(owner=owner))
    fields.setdefault("stage", "negotiation")
    return ContractFactory(owner=owner, number=f"T-{next(_numbers):05d}", probability=40, **fields)


def url(contract: Contract, suffix: str = "") -> str:
    return f"/contracts/{contract.pk}/{suffix}"


# --- What changed between rounds (pure) ------------------------------------------------------------------------


def offer(number, value, discount="0", terms=30, scope="TVC 30s, 3 KOLs") -> NegotiationRound:
    return NegotiationRound(
        number=number,
        proposed_by="agency" if number % 2 else "client",
        value=Decimal(value),
        discount_percent=Decimal(discount),
        payment_terms_days=terms,
        scope_summary=scope,
    )


def test_round_changes_compare_each_round_with_the_one_before():
    first = offer(1, "500000000", "5", 30)
    counter = offer(2, "450000000", "7.5", 45, "TVC 30s, 2 KOLs")
    final = offer(3, "480000000", "7.5", 45, " TVC 30s, 2 KOLs ")

    changes = round_changes([final, first, counter])  # any order in, round order out

    assert [change.round.number for change in changes] == [1, 2, 3]
    assert changes[0].is_first and changes[0].value_delta is None and changes[0].value_delta_percent is None
    assert changes[1].value_delta == Decimal("-50000000")
    assert changes[1].value_delta_size == Decimal("50000000")
    assert changes[1].value_delta_percent == Decimal("-10.0")
    assert changes[1].discount_delta == Decimal("2.5")
    assert changes[1].payment_terms_delta == 15
    assert changes[1].scope_changed is True
    assert changes[2].value_delta == Decimal("30000000")
    assert changes[2].value_delta_percent == Decimal("6.7")
    assert changes[2].discount_delta == 0 and changes[2].payment_terms_delta == 0
    assert changes[2].scope_changed is False  # surrounding blanks are not a change of scope


def test_a_change_from_a_zero_value_has_no_percentage():
    changes = round_changes([offer(1, "0"), offer(2, "100000000")])

    assert changes[1].value_delta == Decimal("100000000")
    assert changes[1].value_delta_percent is None


# --- The page per role -----------------------------------------------------------------------------------------

FORMS = ('data-testid="phase-form"', 'data-testid="cost-form"', 'href="/contracts/{pk}/edit/"')


@pytest.mark.parametrize(
    ("role", "whose", "status", "can_change"),
    [
        ("account_manager", "own", 200, True),
        ("account_manager", "team", 200, False),
        ("account_manager", "other", 404, False),
        ("finance", "other", 200, False),
        ("director", "other", 200, True),
        ("sales", "other", 404, False),  # an active contract is not the shared pipeline
    ],
)
def test_who_sees_the_contract_page_and_its_forms(client, team, role, whose, status, can_change):
    user = UserFactory(role=role, team=team)
    owner = {"own": user, "team": UserFactory(team=team), "other": UserFactory(team=TeamFactory(name="Sài Gòn"))}
    contract = active_contract(owner[whose])
    signed_in(client, user)

    response = client.get(url(contract))

    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        for marker in FORMS:
            assert (marker.format(pk=contract.pk) in html) is can_change
        assert ("You can read this contract" in html) is not can_change


def test_sales_sees_a_pipeline_deal_of_others_read_only(client):
    deal = pipeline_deal(UserFactory(role=Role.SALES))
    signed_in(client, UserFactory(role=Role.SALES))

    html = client.get(url(deal)).content.decode()

    assert deal.title in html and 'data-testid="round-form"' not in html
    assert f'href="{deal.client.get_absolute_url()}"' not in html  # the client's page is not theirs to open


def test_the_header_shows_terms_renewal_links_and_history(client, am):
    previous = active_contract(am, value=Decimal("300000000"), auto_renew=True)
    successor = services.contract_renew(contract=previous, actor=am)
    services.contract_move(contract=successor, to="negotiation", actor=am, note="Client wants a 10 % discount")
    signed_in(client, am)

    old_page = client.get(url(previous)).content.decode()
    new_page = client.get(url(successor)).content.decode()

    assert "300,000,000 ₫" in old_page and f'data-testid="successor-link">{successor.number}' in old_page
    assert 'data-testid="renew-button"' not in old_page  # it has its successor already
    assert f'data-testid="renewal-of-link">{previous.number}' in new_page
    assert "120,000,000 ₫" in new_page  # weighted: 300,000,000 × 40 %
    assert "Client wants a 10 % discount" in new_page and am.full_name in new_page


# --- Negotiation rounds -------------------------------------------------------------------------------------------


def test_recording_rounds_shows_what_changed(client, am):
    deal = pipeline_deal(am)
    signed_in(client, am)
    first = {"proposed_by": "agency", "value": "500000000", "discount_percent": "5", "payment_terms_days": "30"}
    second = {"proposed_by": "client", "value": "450000000", "discount_percent": "7.5", "payment_terms_days": "45"}

    response = client.post(url(deal, "rounds/new/"), {**first, "scope_summary": "TVC + 3 KOLs"})
    client.post(url(deal, "rounds/new/"), {**second, "scope_summary": "TVC + 2 KOLs"})

    assert response.status_code == 302 and response["Location"].endswith("#rounds")
    rounds = list(deal.rounds.order_by("number").values_list("number", "proposed_by", "value"))
    assert rounds == [(1, "agency", Decimal("500000000")), (2, "client", Decimal("450000000"))]
    assert Contract.objects.get(pk=deal.pk).value == Decimal("450000000")  # the deal follows the latest round
    html = client.get(url(deal)).content.decode()
    assert "−50,000,000 ₫ (-10.0 %)" in html
    assert "+2.50 pts" in html and "+15 days" in html and 'data-testid="scope-changed"' in html


def test_a_round_with_errors_is_shown_again_and_nothing_is_recorded(client, am):
    deal = pipeline_deal(am)
    signed_in(client, am)

    response = client.post(url(deal, "rounds/new/"), {"value": "-5", "discount_percent": "120"})

    assert response.status_code == 400
    form = response.context["round_form"]
    assert "proposed_by" in form.errors
    assert '<details class="inline-form" open>' in response.content.decode()  # the form stays open
    assert not NegotiationRound.objects.exists()


def test_the_service_refusal_of_a_round_shows_on_the_form(client, am):
    deal = pipeline_deal(am)
    signed_in(client, am)

    response = client.post(
        url(deal, "rounds/new/"),
        {"proposed_by": "client", "value": "100", "discount_percent": "101", "payment_terms_days": "30"},
    )

    assert response.status_code == 400
    assert "discount_percent" in response.context["round_form"].errors
    assert not NegotiationRound.objects.exists()


def test_no_rounds_after_signature(client, am):
    contract = active_contract(am)
    signed_in(client, am)

    page = client.get(url(contract)).content.decode()
    response = client.post(
        url(contract, "rounds/new/"),
        {"proposed_by": "client", "value": "100", "discount_percent": "0", "payment_terms_days": "30"},
    )

    assert 'data-testid="round-form"' not in page
    assert response.status_code == 400
    assert "Rounds are recorded before the contract is signed." in response.content.decode()
    assert not NegotiationRound.objects.exists()


# --- Phases -----------------------------------------------------------------------------------------------------

PHASE = {
    "name": "Tết key visual",
    "order": "1",
    "planned_start": "2026-12-01",
    "planned_end": "2026-12-20",
    "budget": "40000000",
    "planned_results": "3 directions, 1 chosen",
    "report": "",
}


def test_adding_and_editing_a_phase(client, am):
    contract = active_contract(am)
    signed_in(client, am)

    created = client.post(url(contract, "phases/new/"), PHASE)
    phase = Phase.objects.get(contract=contract)
    edit_page = client.get(f"/phases/{phase.pk}/edit/")
    edited = client.post(
        f"/phases/{phase.pk}/edit/",
        {**PHASE, "actual_start": "2026-12-02", "achieved_results": "2 directions", "report": "Round 1 done."},
    )

    assert created.status_code == 302 and created["Location"].endswith(f"#phase-{phase.pk}")
    assert edit_page.status_code == 200 and "Tết key visual" in edit_page.content.decode()
    assert edited.status_code == 302
    phase.refresh_from_db()
    assert (phase.budget, phase.actual_start, phase.report) == (
        Decimal("40000000"),
        datetime.date(2026, 12, 2),
        "Round 1 done.",
    )
    html = client.get(url(contract)).content.decode()
    assert "3 directions, 1 chosen" in html and "2 directions" in html


def test_a_phase_cannot_end_before_it_starts(client, am):
    contract = active_contract(am)
    signed_in(client, am)

    response = client.post(url(contract, "phases/new/"), {**PHASE, "planned_end": "2026-11-01"})

    assert response.status_code == 400
    assert "planned_end" in response.context["phase_form"].errors
    assert not Phase.objects.exists()


# --- Results reports -------------------------------------------------------------------------------------------


@pytest.fixture
def reported_phase(am):
    contract = active_contract(am, title="Tết 2027")
    client_record = contract.client
    ContactFactory(client=client_record, full_name="Lê Hoàng Yến", email="yen@client.test", is_decision_maker=True)
    ContactFactory(
        client=client_record,
        full_name="Emily Carter",
        email="emily@client.test",
        is_day_to_day=True,
        preferred_language="en",
    )
    ContactFactory(client=client_record, email="billing@client.test", is_billing=True)  # not a report recipient
    ContactFactory(client=client_record, email="", is_decision_maker=True)  # no address to send to
    return services.phase_save(
        contract=contract,
        actor=am,
        name="Key visual",
        planned_start=datetime.date(2026, 12, 1),
        planned_end=datetime.date(2026, 12, 20),
        planned_results="Reach 2 million",
        achieved_results="Reach 2.4 million",
        report="The key visual was approved on 18 December.",
    )


def test_sending_a_report_emails_each_contact_in_their_language_and_logs_it(
    client, am, reported_phase, django_capture_on_commit_callbacks
):
    signed_in(client, am)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/phases/{reported_phase.pk}/send-report/")

    assert response.status_code == 302
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {"yen@client.test", "emily@client.test"}
    vietnamese, english = by_recipient["yen@client.test"], by_recipient["emily@client.test"]
    assert vietnamese.extra_headers["Content-Language"] == "vi" and "01-12-2026" in vietnamese.body
    assert english.extra_headers["Content-Language"] == "en" and "01/12/2026" in english.body
    assert "Dear Emily Carter," in english.body and "Reach 2.4 million" in english.body
    assert "The key visual was approved on 18 December." in vietnamese.body
    assert vietnamese.reply_to == [am.email]
    reported_phase.refresh_from_db()
    assert reported_phase.report_sent_at is not None
    activity = Activity.objects.get(client=reported_phase.contract.client)
    assert activity.kind == "status_report" and activity.author == am
    assert "Key visual" in activity.subject and "yen@client.test" in activity.body
    assert "Report sent" in client.get(url(reported_phase.contract)).content.decode()


def test_a_report_is_sent_once(client, am, reported_phase, django_capture_on_commit_callbacks):
    signed_in(client, am)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/phases/{reported_phase.pk}/send-report/")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = client.post(f"/phases/{reported_phase.pk}/send-report/", follow=True)
    redelivered = send_phase_report_task.delay(reported_phase.pk, am.pk).get()

    assert callbacks == [] and redelivered is False
    assert "already sent" in again.content.decode()
    assert len(mail.outbox) == 2
    assert Activity.objects.filter(kind="status_report").count() == 1


def test_a_rolled_back_send_mails_nobody(am, reported_phase, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reports.phase_send_report(phase=reported_phase, actor=am)

    # Nothing happens before commit: no mail, no timestamp, no timeline entry.
    assert len(callbacks) == 1 and mail.outbox == []
    assert Phase.objects.get(pk=reported_phase.pk).report_sent_at is None
    assert not Activity.objects.exists()


def test_an_empty_report_or_no_recipient_is_refused(client, am, reported_phase, django_capture_on_commit_callbacks):
    signed_in(client, am)
    services.phase_save(contract=reported_phase.contract, actor=am, phase=reported_phase, report="  ")

    with django_capture_on_commit_callbacks(execute=True):
        empty = client.post(f"/phases/{reported_phase.pk}/send-report/", follow=True)
    reported_phase.contract.client.contacts.update(email="")
    services.phase_save(contract=reported_phase.contract, actor=am, phase=reported_phase, report="Done.")
    with django_capture_on_commit_callbacks(execute=True):
        nobody = client.post(f"/phases/{reported_phase.pk}/send-report/", follow=True)

    assert "Write the report before sending it." in empty.content.decode()
    assert "No decision maker or day-to-day contact" in nobody.content.decode()
    assert mail.outbox == [] and Phase.objects.get(pk=reported_phase.pk).report_sent_at is None


def test_only_the_client_owner_sends_reports_to_the_client(am, reported_phase):
    """A deal owner who does not own the client may edit the deal, but not write to the client's timeline."""
    deal_owner = UserFactory(role=Role.ACCOUNT_MANAGER)
    Contract.objects.filter(pk=reported_phase.contract_id).update(owner=deal_owner)

    with pytest.raises(PermissionDeniedError):
        reports.phase_send_report(phase=reported_phase, actor=deal_owner)


# --- Costs and the budget --------------------------------------------------------------------------------------


def test_costs_fill_the_budget_with_a_banner_and_one_alert_per_threshold(client, am):
    contract = active_contract(am, budget=Decimal("100000000"), value=Decimal("200000000"))
    phase = services.phase_save(contract=contract, actor=am, name="Production", budget=Decimal("60000000"))
    department = DepartmentFactory(name="Production")
    signed_in(client, am)

    def record(amount, **fields):
        data = {"department": department.pk, "description": "Shoot day", "amount": amount, "incurred_on": "2026-11-20"}
        return client.post(url(contract, "costs/new/"), {**data, **fields})

    def alerts():
        return Notification.objects.filter(recipient=am, title__contains="of its budget").count()

    first = record("50000000", phase=phase.pk)
    page_at_50 = client.get(url(contract)).content.decode()
    record("30000000")
    page_at_80 = client.get(url(contract)).content.decode()
    alerts_at_80 = alerts()
    record("5000000")
    alerts_at_85 = alerts()
    record("20000000", phase=phase.pk)
    page_at_105 = client.get(url(contract)).content.decode()
    record("1000000")

    assert first.status_code == 302 and first["Location"].endswith("#costs")
    assert CostEntry.objects.filter(contract=contract).count() == 5
    assert 'data-testid="budget-banner"' not in page_at_50
    assert "Budget nearly used:" in page_at_80 and "80 % of the 100,000,000 ₫ budget" in page_at_80
    assert "Over budget:" in page_at_105 and "105 %" in page_at_105
    assert (alerts_at_80, alerts_at_85, alerts()) == (1, 1, 2)
    # Margin 200 − 106 = 94 million; ROI 94 ÷ 106 = 88.7 %; the phase spent 70 of its 60 million.
    assert "94,000,000 ₫" in page_at_105 or "94,000,000 ₫" in client.get(url(contract)).content.decode()
    final = client.get(url(contract))
    summary = final.context["summary"]
    assert (summary["spent"], summary["margin"], summary["roi_percent"]) == (
        Decimal("106000000"),
        Decimal("94000000"),
        Decimal("88.7"),
    )
    bars = {bar["label"]: bar for bar in final.context["chart"]["bars"]}
    assert bars["Production"]["over"] and bars["Production"]["spent"] == Decimal("70000000")
    assert bars["Not in a phase"]["spent"] == Decimal("36000000")
    assert bars["Whole contract"]["spent_text"] == "Spent · 106,000,000 ₫ · 106 % of budget, over"


def test_the_chart_and_its_table_carry_the_same_figures(client, am):
    contract = active_contract(am, budget=Decimal("100000000"))
    phase = services.phase_save(contract=contract, actor=am, name="Media", budget=Decimal("40000000"))
    services.cost_record(
        contract=contract,
        actor=am,
        phase=phase,
        partner=PartnerFactory(),
        description="Facebook ads",
        amount=Decimal("10000000"),
        incurred_on=timezone.localdate(),
    )
    signed_in(client, am)

    html = client.get(url(contract)).content.decode()

    chart = html[html.index('data-testid="budget-chart"') : html.index("</svg>")]
    table = html[html.index('data-testid="budget-table"') : html.index("</table>", html.index("budget-table"))]
    assert "Budget · 40,000,000 ₫" in chart and "Spent · 10,000,000 ₫ · 25 % of budget" in chart
    assert 'width="25.0%"' in chart and 'width="100.0%"' in chart
    assert "40,000,000 ₫" in table and "10,000,000 ₫" in table and "25 %" in table
    assert "style=" not in html and "<script>" not in html  # CSP: no inline styles or scripts


def test_a_cost_needs_a_department_or_partner(client, am):
    contract = active_contract(am)
    signed_in(client, am)

    response = client.post(
        url(contract, "costs/new/"), {"description": "Taxi", "amount": "200000", "incurred_on": "2026-11-20"}
    )

    assert response.status_code == 400
    assert "department" in response.context["cost_form"].errors
    assert not CostEntry.objects.exists()


def test_a_cost_cannot_use_another_contracts_phase(client, am):
    contract = active_contract(am)
    elsewhere = services.phase_save(contract=active_contract(am), actor=am, name="Elsewhere")
    signed_in(client, am)

    response = client.post(
        url(contract, "costs/new/"),
        {
            "department": DepartmentFactory().pk,
            "phase": elsewhere.pk,
            "description": "Print",
            "amount": "1000",
            "incurred_on": "2026-11-20",
        },
    )

    assert response.status_code == 400 and "phase" in response.context["cost_form"].errors
    assert not CostEntry.objects.exists()


# --- Renewal ------------------------------------------------------------------------------------------------------


def test_renew_creates_the_successor_draft_once(client, am):
    contract = active_contract(
        am, value=Decimal("600000000"), budget=Decimal("400000000"), scope="Always-on social", auto_renew=True
    )
    signed_in(client, am)

    response = client.post(url(contract, "renew/"))
    again = client.post(url(contract, "renew/"), follow=True)

    successor = Contract.objects.get(renewal_of=contract)
    assert response.status_code == 302 and response["Location"] == f"/contracts/{successor.pk}/"
    assert (successor.kind, successor.stage, successor.owner, successor.client) == (
        "renewal",
        "draft",
        am,
        contract.client,
    )
    assert (successor.value, successor.budget, successor.scope, successor.auto_renew) == (
        Decimal("600000000"),
        Decimal("400000000"),
        "Always-on social",
        True,
    )
    assert successor.start_date == contract.end_date + datetime.timedelta(days=1)
    assert Contract.objects.filter(renewal_of=contract).count() == 1
    assert "already has a renewal" in again.content.decode()


def test_a_draft_cannot_be_renewed(client, am):
    deal = pipeline_deal(am)
    signed_in(client, am)

    response = client.post(url(deal, "renew/"), follow=True)

    assert "Only an active or expired contract can be renewed." in response.content.decode()
    assert not Contract.objects.filter(renewal_of=deal).exists()


# --- Expiring contracts --------------------------------------------------------------------------------------------


def ending(owner, notice_in_days: int, **fields) -> Contract:
    """An active contract whose notice deadline (end − 30 days' notice) is ``notice_in_days`` from today."""
    end = timezone.localdate() + datetime.timedelta(days=notice_in_days + 30)
    return active_contract(owner, end_date=end, notice_deadline=end - datetime.timedelta(days=30), **fields)


def test_the_expiring_list(client, am):
    soon = ending(am, 5, title="Soon")
    later = ending(am, 80, title="Later")
    renewed_soon = ending(am, 40, title="Has a draft")
    successor = services.contract_renew(contract=renewed_soon, actor=am)
    ending(am, 91, title="Beyond 90 days")
    ending(am, -1, title="Deadline passed")
    ending(UserFactory(team=TeamFactory(name="Đà Nẵng")), 10, title="Not mine")
    signed_in(client, am)

    response = client.get("/contracts/expiring/")

    rows = response.context["rows"]
    assert [row["contract"].title for row in rows] == ["Soon", "Has a draft", "Later"]
    assert [row["days_left"] for row in rows] == [5, 40, 80]
    assert rows[1]["successor"] == successor and rows[0]["successor"] is None
    html = response.content.decode()
    assert "5 days left" in html and f'data-testid="renewal-draft">{successor.number}' in html
    assert html.count(f'action="/contracts/{soon.pk}/renew/"') == 1
    assert f'action="/contracts/{later.pk}/renew/"' in html
    assert f'action="/contracts/{renewed_soon.pk}/renew/"' not in html


def test_the_expiring_list_hides_renew_from_readers(client, am, teammate):
    contract = ending(teammate, 20, client=ClientFactory(owner=teammate))
    signed_in(client, am)

    html = client.get("/contracts/expiring/").content.decode()

    assert contract.title in html and f'action="/contracts/{contract.pk}/renew/"' not in html


def test_the_expiring_list_query_count_does_not_grow(client, am, django_assert_num_queries):
    signed_in(client, am)

    def add(count):
        for index in range(count):
            contract = ending(am, 10 + index)
            if index % 2:
                services.contract_renew(contract=contract, actor=am)

    add(2)
    # session, user, unread count and team (header); count, page with client, owner and successor; editable ids
    with django_assert_num_queries(8):  # with the revision its cached count is kept under
        client.get("/contracts/expiring/")
    add(18)
    with django_assert_num_queries(8):  # with the revision its cached count is kept under
        response = client.get("/contracts/expiring/")
    assert len(response.context["rows"]) == 20


# --- Query count of the contract page ---------------------------------------------------------------------------


def test_the_contract_page_query_count_does_not_grow(client, am, django_assert_num_queries):
    deal = pipeline_deal(am)
    department, partner = DepartmentFactory(), PartnerFactory()
    ContactFactory(client=deal.client, is_decision_maker=True)
    signed_in(client, am)

    def add(count):
        for _ in range(count):
            services.round_record(contract=deal, actor=am, proposed_by="client", value=Decimal("1000000"))
            phase = services.phase_save(contract=deal, actor=am, name="Phase", budget=Decimal("100"))
            for payee in ({"department": department}, {"partner": partner}):
                services.cost_record(
                    contract=deal,
                    actor=am,
                    phase=phase,
                    description="Work",
                    amount=Decimal("10"),
                    incurred_on=timezone.localdate(),
                    **payee,
                )
        services.contract_move(contract=deal, to="draft", actor=am)
        services.contract_move(contract=deal, to="negotiation", actor=am, note="Back to the table")

    add(2)
    # session, user, unread count and team (header); contract with client, owner, renewal and successor; rounds,
    # phases with spent, costs, stage changes; may edit the contract, the client, open the client; report
    # recipients; the cost form's departments, partners and phases
    with django_assert_num_queries(16):
        client.get(url(deal))
    add(18)
    with django_assert_num_queries(16):
        response = client.get(url(deal))
    assert len(response.context["round_changes"]) == 20 and len(response.context["costs"]) == 40


# --- Permissions on the forms --------------------------------------------------------------------------------------


def post_endpoints(contract: Contract, phase: Phase) -> list[str]:
    return [
        url(contract, "rounds/new/"),
        url(contract, "phases/new/"),
        url(contract, "costs/new/"),
        url(contract, "renew/"),
        f"/phases/{phase.pk}/edit/",
        f"/phases/{phase.pk}/send-report/",
    ]


def test_a_reader_gets_403_and_changes_nothing(client, am, teammate, django_capture_on_commit_callbacks):
    contract = active_contract(teammate, client=ClientFactory(owner=teammate))
    phase = services.phase_save(contract=contract, actor=teammate, name="Launch", report="Done.")
    ContactFactory(client=contract.client, is_decision_maker=True)
    signed_in(client, am)

    with django_capture_on_commit_callbacks(execute=True):
        statuses = [
            client.post(endpoint, {"name": "x", "value": "1"}).status_code
            for endpoint in post_endpoints(contract, phase)
        ]

    assert statuses == [403] * 6
    assert client.get(f"/phases/{phase.pk}/edit/").status_code == 403
    assert Phase.objects.count() == 1 and not Contract.objects.filter(renewal_of=contract).exists()
    assert mail.outbox == [] and not Activity.objects.exists()


def test_an_invisible_contract_is_404_everywhere(client, am):
    stranger = UserFactory(team=TeamFactory(name="Cần Thơ"))
    contract = active_contract(stranger)
    phase = services.phase_save(contract=contract, actor=stranger, name="Launch")
    signed_in(client, am)

    statuses = [client.post(endpoint).status_code for endpoint in post_endpoints(contract, phase)]

    assert statuses == [404] * 6
    assert client.get(url(contract)).status_code == 404


def test_the_post_endpoints_do_not_answer_get(client, am):
    contract = active_contract(am)
    signed_in(client, am)

    assert client.get(url(contract, "renew/")).status_code == 405
    assert not Contract.objects.filter(renewal_of=contract).exists()
