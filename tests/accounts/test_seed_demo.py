import re
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F, Max, Sum
from django.test import override_settings
from django.utils import timezone

from accounts.models import Notification, Role, Team, User
from clients.health import AT_RISK_BELOW, annotate_health
from clients.models import (
    TAX_CODE_PATTERN,
    Activity,
    Client,
    ClientStatus,
    Contact,
    Department,
    Handover,
    Industry,
    Partner,
    PartnerKind,
    PartnerRelationship,
    Priority,
    Request,
    RequestKind,
    RequestStatus,
)
from clients.services import client_create
from contracts.billing.collections import LEVEL_DAYS, send_follow_ups
from contracts.billing.schedule import create_scheduled_invoices, schedule_items
from contracts.billing.selectors import BUCKET_KEYS, aging_totals, client_payment_rating, rating_for, with_payment_delay
from contracts.models import (
    OPEN_STATUSES,
    PIPELINE_STAGES,
    BudgetAlert,
    CollectionLevel,
    CollectionPause,
    CollectionStep,
    Contract,
    ContractKind,
    CostEntry,
    Invoice,
    InvoiceEvent,
    InvoiceNumber,
    InvoiceStatus,
    NegotiationRound,
    Payment,
    Phase,
    Stage,
    StageChange,
    WriteOffRequest,
    WriteOffStatus,
)
from contracts.services import budget_spent
from kpis.metrics import Scope, average_days_to_close
from kpis.periods import Period, PeriodKind
from tests.conftest import FAST_PASSWORD_HASHERS, restore_migration_departments, tasks_run_in_process

pytestmark = pytest.mark.django_db

DEMO_INDUSTRIES = {Industry.FMCG, Industry.BANKING, Industry.REAL_ESTATE, Industry.ECOMMERCE, Industry.TELECOM}


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_output(module_transaction, django_db_blocker) -> str:
    """The demo agency, seeded once for the module (the full run takes about a minute); what seed_demo printed,
    logins included. Each test sees it in its own savepoint, so what a test changes, or seeds again, is rolled
    back after it; the whole is rolled back after the module (``module_transaction``)."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS),
        tasks_run_in_process(),
    ):
        restore_migration_departments()
        return seed()


def demo_user(local_part: str) -> User:
    return User.objects.get(email=f"{local_part}@agency.example")


def row_counts() -> dict[str, int]:
    models = [User, Team, Client, Contact, Partner, PartnerRelationship, Activity, Request, Handover]
    return {model.__name__: model.objects.count() for model in models}


def fingerprint() -> list:
    """What a person exploring the demo sees, without ids; days rather than instants, since request_transition
    stamps its timeline note with the moment of the run."""
    return [
        sorted(Client.objects.values_list("tax_code", "name", "owner__email", "status", "address")),
        sorted(Contact.objects.values_list("client__tax_code", "full_name", "title", "email")),
        sorted(
            Activity.objects.values_list("client__tax_code", "kind", "subject", "occurred_at__date", "next_step_due")
        ),
        sorted(Request.objects.values_list("client__tax_code", "title", "priority", "status", "received_at__date")),
        sorted(Handover.objects.values_list("request__title", "department__name", "assignee__email", "status")),
        sorted(PartnerRelationship.objects.values_list("partner__name", "client__tax_code", "role", "value")),
    ]


def test_seed_demo_builds_the_agency_and_prints_the_logins(demo_output):
    output = demo_output

    assert User.objects.count() == 11
    roles = list(User.objects.values_list("role", flat=True))
    assert {role: roles.count(role) for role in Role.values} == {
        "account_manager": 6,
        "sales": 2,
        "finance": 1,
        "director": 1,
        "admin": 1,
    }
    assert set(Team.objects.values_list("name", flat=True)) == {"Hà Nội", "Sài Gòn"}
    assert all(team.members.filter(role=Role.ACCOUNT_MANAGER).count() == 3 for team in Team.objects.all())
    assert "director@agency.example" in output and "accord-demo-2026" in output
    assert User.objects.get(email="am.nhung@agency.example").full_name == "Đặng Thị Hồng Nhung"
    assert User.objects.get(email="director@agency.example").check_password("accord-demo-2026")


def test_seed_demo_builds_forty_vietnamese_clients_owned_across_the_team(demo_output):
    output = demo_output

    clients = Client.objects.select_related("owner")
    assert clients.count() == 40
    assert Counter(clients.values_list("industry", flat=True)) == dict.fromkeys(DEMO_INDUSTRIES, 8)
    tax_codes = list(clients.values_list("tax_code", flat=True))
    assert len(set(tax_codes)) == 40 and all(re.fullmatch(TAX_CODE_PATTERN, code) for code in tax_codes)
    assert sum("-" in code for code in tax_codes) == 4  # branches
    assert all(client.legal_name.startswith(("Công ty", "Ngân hàng", "Chi nhánh")) for client in clients)
    assert set(clients.values_list("city", flat=True)) == {
        "Hà Nội",
        "TP. Hồ Chí Minh",
        "Đà Nẵng",
        "Hải Phòng",
        "Cần Thơ",
    }
    statuses = Counter(clients.values_list("status", flat=True))
    assert statuses == {
        ClientStatus.ACTIVE: 31,
        ClientStatus.PROSPECT: 6,
        ClientStatus.AT_RISK: 2,
        ClientStatus.CHURNED: 1,
    }
    assert set(clients.filter(status=ClientStatus.PROSPECT).values_list("owner__role", flat=True)) == {Role.SALES}
    owned = Counter(clients.filter(owner__role=Role.ACCOUNT_MANAGER).values_list("owner__email", flat=True))
    assert len(owned) == 6 and all(5 <= count <= 6 for count in owned.values())
    assert all(client.team_id == client.owner.team_id is not None for client in clients)
    assert clients.filter(tags__isnull=False).distinct().count() == 40
    assert "Demo clients created: 40 clients" in output


def test_every_client_has_two_to_four_contacts_with_someone_to_decide_and_someone_to_bill(demo_output):
    for client in Client.objects.prefetch_related("contacts"):
        contacts = list(client.contacts.all())
        assert 2 <= len(contacts) <= 4, client
        assert any(contact.is_decision_maker for contact in contacts), client
        assert any(contact.is_billing for contact in contacts), client
        assert any(contact.is_day_to_day for contact in contacts), client
        assert all(contact.title and contact.email.endswith(".example") for contact in contacts), client
    assert set(Contact.objects.values_list("preferred_language", flat=True)) == {"vi", "en"}
    names = Contact.objects.values_list("full_name", flat=True)
    assert sum(name != fold_ascii(name) for name in names) > len(names) * 0.8  # written with diacritics


def fold_ascii(text: str) -> str:
    return text.encode("ascii", "ignore").decode()


def test_fifteen_partners_of_every_kind_work_on_the_clients(demo_output):
    assert Partner.objects.count() == 15
    assert set(Partner.objects.values_list("kind", flat=True)) == set(PartnerKind.values)
    assert not Partner.objects.filter(relationships__isnull=True).exists()
    links = PartnerRelationship.objects.select_related("client")
    assert links.count() >= 30
    assert not links.filter(client__status=ClientStatus.PROSPECT).exists()
    assert {link.link for link in links} == {"direct", "indirect"}


def test_a_year_of_timeline_leaves_every_account_manager_overdue_next_steps(demo_output):
    today = timezone.localdate()

    activities = Activity.objects.all()
    assert activities.count() > 500
    assert set(activities.values_list("kind", flat=True)) == {"call", "meeting", "email", "note", "status_report"}
    assert activities.order_by("occurred_at").first().occurred_at < timezone.now() - timedelta(days=330)
    assert not activities.filter(occurred_at__gt=timezone.now()).exists()
    for manager in User.objects.filter(role=Role.ACCOUNT_MANAGER):
        overdue = Activity.objects.open_next_steps().filter(next_step_owner=manager, next_step_due__lt=today)
        assert overdue.count() >= 2, manager
    assert Activity.objects.filter(next_step_done_at__isnull=False).exists()
    assert Activity.objects.filter(author=demo_user("director"), kind="meeting").exists()  # business reviews


def test_quiet_accounts_lose_health_and_two_fall_below_the_at_risk_line(demo_output):
    now = timezone.now()

    clients = annotate_health(Client.objects.all())
    quiet = clients.filter(last_activity_at__lt=now - timedelta(days=45))
    assert quiet.filter(status=ClientStatus.ACTIVE, last_activity_at__gte=now - timedelta(days=60)).count() == 2
    assert quiet.filter(last_activity_at__lt=now - timedelta(days=75)).count() >= 3
    at_risk = clients.filter(health_score__lt=AT_RISK_BELOW).exclude(status=ClientStatus.CHURNED)
    assert sorted(at_risk.values_list("name", flat=True)) == ["Mẹ và Bé Bống", "Tài chính Nhà Mới"]
    assert set(at_risk.values_list("status", flat=True)) == {ClientStatus.AT_RISK}


def test_requests_cover_every_kind_priority_and_status_some_breached_some_near_the_sla(demo_output):
    requests = Request.objects.all()
    assert set(requests.values_list("kind", flat=True)) == set(RequestKind.values)
    assert set(requests.values_list("priority", flat=True)) == set(Priority.values)
    assert set(requests.values_list("status", flat=True)) == set(RequestStatus.values)
    assert requests.open().breached().count() >= 10
    assert requests.near_sla().count() >= 3
    done = requests.filter(status__in=[RequestStatus.RESOLVED, RequestStatus.CLOSED])
    assert done.count() > done.breached().count() > 0  # mostly in time, a few late
    assert set(requests.open().breached().values_list("owner__role", flat=True)) == {Role.ACCOUNT_MANAGER}


def test_every_department_gets_hand_overs_assigned_to_agency_people(demo_output):
    for department in Department.objects.all():
        assert department.handovers.count() >= 2, department
    handovers = Handover.objects.all()
    assert set(handovers.values_list("status", flat=True)) == {"open", "in_progress", "done", "cancelled"}
    assert all(email.endswith("@agency.example") for email in handovers.values_list("assignee__email", flat=True))
    assert not handovers.filter(assignee=F("request__owner")).exists()  # a colleague takes the work


def test_seed_demo_is_idempotent(demo_output):
    before = row_counts()

    output = seed()

    assert row_counts() == before
    assert before["User"] == 11 and before["Team"] == 2 and before["Client"] == 40
    assert "nothing to add" in output


def test_reset_rebuilds_from_scratch_with_the_same_data(demo_output):
    snapshot = fingerprint()
    User.objects.filter(email="am.tung@agency.example").update(full_name="Changed")
    Client.objects.filter(tax_code="0346425246").update(name="Changed")
    Contact.objects.filter(client__tax_code="0145881390").first().delete()

    output = seed("--reset", "--quiet")

    assert User.objects.count() == 11
    assert User.objects.get(email="am.tung@agency.example").full_name == "Phan Thanh Tùng"
    assert Client.objects.get(tax_code="0346425246").name == "Chợ Phố"
    assert fingerprint() == snapshot
    assert "Demo clients created: 40 clients" in output


def test_reset_refuses_while_demo_people_own_clients_added_later(demo_output):
    manager = demo_user("am.ha")
    client_create(actor=manager, name="Công ty Khách Thật", tax_code="0101234568")

    with pytest.raises(CommandError, match="Công ty Khách Thật"):
        seed("--reset", "--quiet")

    assert Client.objects.count() == 41
    assert User.objects.count() == 11


# --- Contracts (contracts/demo.py) -----------------------------------------------------------------------------


def contract_fingerprint() -> list:
    """The demo contracts as a person sees them, without numbers (taken from a counter that a reset does not
    rewind) or instants."""
    return sorted(
        Contract.objects.values_list(
            "client__tax_code", "title", "kind", "stage", "value", "budget", "owner__email", "start_date", "end_date",
            "notice_deadline", "renewal_of__title",
        )
    )  # fmt: skip


def test_seed_demo_builds_contracts_in_every_stage_for_the_account_managers_and_sales(demo_output):
    output = demo_output

    contracts = Contract.objects.select_related("client", "owner")
    assert set(contracts.values_list("stage", flat=True)) == set(Stage.values)
    by_sales = contracts.filter(owner__role=Role.SALES)
    assert by_sales.count() >= 6
    assert set(by_sales.values_list("stage", flat=True)) <= {*PIPELINE_STAGES, Stage.LOST}
    assert by_sales.exclude(client__owner=F("owner")).filter(kind=ContractKind.UPSELL).count() == 2  # AMs' clients
    others = contracts.exclude(owner__role=Role.SALES)
    assert not others.exclude(owner=F("client__owner")).exists()  # everything else belongs to the client's AM
    assert not contracts.filter(client__status=ClientStatus.PROSPECT, stage=Stage.ACTIVE).exists()
    assert all(contract.notice_deadline == contract.compute_notice_deadline() for contract in contracts)
    assert contracts.filter(currency="USD").exists()
    assert f"Demo contracts created: {contracts.count()} contracts" in output


def test_several_demo_contracts_expire_soon_and_one_already_has_its_renewal_drafted(demo_output):
    today = timezone.localdate()

    expiring = Contract.objects.expiring()
    days_left = sorted((contract.notice_deadline - today).days for contract in expiring)
    windows = ((0, 7), (8, 30), (31, 60), (61, 90))
    assert all(any(low <= days <= high for days in days_left) for low, high in windows), days_left
    assert expiring.filter(notice_days=0).exists()
    assert expiring.filter(auto_renew=True).exists()
    drafted = expiring.filter(successor__stage=Stage.DRAFT).get()
    assert drafted.successor.kind == ContractKind.RENEWAL


def test_demo_budgets_pass_80_and_100_percent_and_their_owners_were_told(demo_output):
    spent = {contract: budget_spent(contract) * 100 / contract.budget for contract in Contract.objects.all()}
    assert any(80 <= share < 100 for share in spent.values())
    assert any(share >= 100 for share in spent.values())
    assert set(BudgetAlert.objects.values_list("threshold", flat=True)) == {80, 100}
    for alert in BudgetAlert.objects.select_related("contract"):
        assert spent[alert.contract] >= alert.threshold
        assert Notification.objects.filter(recipient=alert.contract.owner, title__contains=alert.contract.number)
    assert not CostEntry.objects.filter(department__isnull=True, partner__isnull=True).exists()
    assert CostEntry.objects.filter(partner__isnull=False).exists()
    assert not CostEntry.objects.filter(incurred_on__gt=timezone.localdate()).exists()


def test_demo_deals_have_rounds_phases_with_reports_a_renewal_chain_and_dated_history(demo_output):
    now = timezone.now()

    assert set(NegotiationRound.objects.values_list("proposed_by", flat=True)) == {"agency", "client"}
    for contract in Contract.objects.filter(rounds__isnull=False).distinct():
        assert contract.rounds.order_by("number").last().value == contract.value
    phases = Phase.objects.all()
    assert phases.filter(actual_end__isnull=False).count() == phases.exclude(report="").count() > 10
    assert phases.filter(actual_start__isnull=True).exists()  # planned, not started
    renewed = Contract.objects.filter(stage=Stage.RENEWED)
    assert renewed.count() == 2
    for contract in renewed:
        assert (contract.successor.stage, contract.successor.kind) == (Stage.ACTIVE, ContractKind.RENEWAL)
    assert StageChange.objects.filter(target=Stage.TERMINATED, actor__role=Role.DIRECTOR).exclude(note="").exists()
    assert not Contract.objects.filter(stage=Stage.LOST, lost_reason="").exists()
    assert not StageChange.objects.filter(changed_at__gt=now).exists()
    assert StageChange.objects.filter(changed_at__lt=now - timedelta(days=300)).exists()  # signed a year ago
    idle = Contract.objects.pipeline().filter(stage_changed_at__lt=now - timedelta(days=14))
    assert idle.count() >= 4


def test_no_demo_contract_is_signed_before_it_was_created_so_days_to_close_are_positive(demo_output):
    today = timezone.localdate()

    contracts = Contract.objects.all()
    signed = contracts.filter(signed_at__isnull=False)
    assert signed.count() >= 20
    assert not signed.filter(signed_at__lt=F("created_at")).exists()
    assert not contracts.filter(stage_changed_at__lt=F("created_at")).exists()
    assert not StageChange.objects.filter(changed_at__lt=F("contract__created_at")).exists()
    assert contracts.filter(created_at__lt=timezone.now() - timedelta(days=300)).exists()  # deals of a year ago
    last_year = Period(PeriodKind.YEAR, today - timedelta(days=365), today)
    assert average_days_to_close(Scope.agency(), last_year).value > 0


def test_contracts_seed_once_and_a_reset_rebuilds_the_same_ones(demo_output):
    snapshot = contract_fingerprint()
    counts = [model.objects.count() for model in (Contract, NegotiationRound, Phase, CostEntry, StageChange)]

    output = seed("--quiet")

    assert [model.objects.count() for model in (Contract, NegotiationRound, Phase, CostEntry, StageChange)] == counts
    assert "Demo contracts created" not in output
    seed("--reset", "--quiet")
    assert contract_fingerprint() == snapshot


# --- Billing (contracts/billing/demo.py) -----------------------------------------------------------------------

SIGNED_STAGES = (Stage.ACTIVE, Stage.RENEWED, Stage.EXPIRED, Stage.TERMINATED)
LEVEL_START = dict(LEVEL_DAYS)  # level → days past the due date it starts


def billing_fingerprint() -> list:
    """The demo's invoices, payments and follow-ups as finance sees them, without ids (a milestone's schedule key
    holds its phase's) or instants."""
    return [
        sorted(
            Invoice.objects.values_list(
                "number", "client__tax_code", "contract__title", "phase__name", "issue_date", "due_date", "currency",
                "gross_amount", "paid_amount", "paid_on", "status", "disputed", "promise_to_pay",
            )
        ),
        sorted(Payment.objects.values_list("invoice__number", "amount", "received_on", "reference")),
        sorted(CollectionStep.objects.values_list("invoice__number", "level", "taken_on")),
        sorted(WriteOffRequest.objects.values_list("invoice__number", "status")),
    ]  # fmt: skip


def test_demo_invoices_are_the_billing_schedules_items_so_the_sweep_has_nothing_left_to_invoice(demo_output):
    output = demo_output
    today = timezone.localdate()

    for contract in Contract.objects.filter(stage__in=SIGNED_STAGES).exclude(stage=Stage.TERMINATED):
        due = {item.key for item in schedule_items(contract) if item.day is not None and item.day <= today}
        assert set(contract.invoices.exclude(schedule_key="").values_list("schedule_key", flat=True)) == due
    assert create_scheduled_invoices(today=today) == 0
    terminated = Contract.objects.get(stage=Stage.TERMINATED)
    assert not terminated.invoices.filter(issue_date__gt=timezone.localdate(terminated.stage_changed_at)).exists()
    for year in set(Invoice.objects.values_list("issue_date__year", flat=True)):
        numbers = Invoice.objects.filter(issue_date__year=year).order_by("number").values_list("number", "issue_date")
        assert [number for number, _day in numbers] == [f"INV-{year}-{n:05d}" for n in range(1, len(numbers) + 1)]
        assert [day for _number, day in numbers] == sorted(day for _number, day in numbers)  # numbers follow dates
    assert Contract.objects.filter(currency="USD").count() == 2
    assert Invoice.objects.filter(currency="USD").exists()
    assert f"Demo billing created: {Invoice.objects.count()} invoices" in output


def test_most_demo_invoices_are_paid_and_the_open_ones_fill_every_aging_bucket(demo_output):
    today = timezone.localdate()

    invoices = Invoice.objects.all()
    statuses = Counter(invoices.values_list("status", flat=True))
    assert statuses[InvoiceStatus.PAID] > 0.7 * invoices.count()
    assert statuses[InvoiceStatus.PARTIALLY_PAID] >= 2
    assert (statuses[InvoiceStatus.VOID], statuses[InvoiceStatus.WRITTEN_OFF]) == (1, 1)
    assert invoices.filter(issue_date__lt=today - timedelta(days=330)).exists()  # a year of them
    rows = {row["currency"]: row for row in aging_totals(invoices, today=today)}
    assert set(rows) == {"VND", "USD"}
    assert all(rows["VND"][bucket] > 0 for bucket in BUCKET_KEYS), rows["VND"]
    void = invoices.get(status=InvoiceStatus.VOID)
    assert void.close_reason and void.closed_on == void.issue_date + timedelta(days=1) and not void.payments.exists()


def test_demo_payments_add_up_to_what_each_invoice_was_paid_on_realistic_days(demo_output):
    today = timezone.localdate()

    invoices = Invoice.objects.annotate(total=Sum("payments__amount"), last=Max("payments__received_on"))
    for invoice in invoices:
        assert (invoice.total or 0) == invoice.paid_amount, invoice
        assert invoice.paid_on == (invoice.last if invoice.status == InvoiceStatus.PAID else None), invoice
    payments = Payment.objects.all()
    assert not payments.filter(received_on__lt=F("invoice__issue_date")).exists()
    assert not payments.filter(received_on__gt=today).exists()
    assert payments.filter(received_on__gt=F("invoice__due_date") + timedelta(days=30)).exists()  # some late
    assert set(payments.values_list("recorded_by__email", flat=True)) == {"finance@agency.example"}
    assert invoices.filter(status=InvoiceStatus.PAID, payments__received_on__lt=F("paid_on")).exists()  # instalments


def test_demo_clients_earn_every_payment_rating_from_a_to_d(demo_output):
    clients = with_payment_delay(Client.objects.filter(invoices__isnull=False).distinct())
    ratings = Counter(rating_for(client.average_payment_delay) for client in clients)
    assert {"A", "B", "C", "D"} <= set(ratings)
    assert ratings["A"] > ratings["D"]  # most pay on time
    assert client_payment_rating(Client.objects.get(tax_code="0145881390"))[0] == "A"
    assert client_payment_rating(Client.objects.get(tax_code="0198486482"))[0] == "D"


def test_finance_finds_a_dispute_a_promise_a_paused_client_and_write_offs_pending_and_approved(demo_output):
    today, three_days_ago = timezone.localdate(), timezone.localdate() - timedelta(days=3)

    disputed = Invoice.objects.get(disputed=True)
    assert disputed.status in OPEN_STATUSES and disputed.due_date < today and disputed.dispute_note
    promised = Invoice.objects.get(promise_to_pay__isnull=False)
    assert promised.promise_to_pay > today and promised.due_date < today and promised.status in OPEN_STATUSES
    pause = CollectionPause.objects.get()
    assert pause.reason and pause.client.invoices.overdue(today).exists()
    pending = WriteOffRequest.objects.get(status=WriteOffStatus.PENDING)
    assert pending.invoice.status in OPEN_STATUSES and pending.requested_by == demo_user("finance")
    assert Notification.objects.filter(recipient=demo_user("director"), url=pending.invoice.get_absolute_url())
    approved = WriteOffRequest.objects.get(status=WriteOffStatus.APPROVED)
    assert approved.decided_by == demo_user("director")
    assert approved.invoice.status == InvoiceStatus.WRITTEN_OFF and approved.invoice.paid_amount > 0
    assert approved.invoice.closed_on == three_days_ago
    stories = InvoiceEvent.objects.filter(kind__in=["disputed", "promise", "write_off_requested", "write_off_approved"])
    assert {timezone.localdate(event.created_at) for event in stories} == {three_days_ago}  # dated, not the run's


def test_overdue_demo_invoices_carry_the_follow_up_log_of_the_past_sweeps(demo_output):
    today, now = timezone.localdate(), timezone.now()

    steps = CollectionStep.objects.select_related("invoice")
    assert set(steps.values_list("level", flat=True)) == set(CollectionLevel.values)
    assert not steps.filter(taken_on__gte=today).exists()
    assert all(step.taken_on == step.invoice.due_date + timedelta(days=LEVEL_START[step.level]) for step in steps)
    assert not steps.filter(invoice__status=InvoiceStatus.PAID).exists()
    events = InvoiceEvent.objects.filter(kind__in=["follow_up", "escalated"])
    assert events.count() == steps.count()
    assert not InvoiceEvent.objects.filter(created_at__gt=now).exists()
    assert {timezone.localdate(event.created_at) for event in events} == set(steps.values_list("taken_on", flat=True))
    timeline = set(Activity.objects.filter(is_system=True).values_list("client_id", "occurred_at__date"))
    assert all((step.invoice.client_id, step.taken_on) in timeline for step in steps)  # on the client's timeline too
    assert send_follow_ups(today=today - timedelta(days=1)) == 0  # the replay caught up to yesterday


def test_billing_seeds_once_and_a_reset_rebuilds_the_same_invoices(demo_output):
    snapshot = billing_fingerprint()

    output = seed("--quiet")

    assert billing_fingerprint() == snapshot
    assert "Demo billing created" not in output
    seed("--reset", "--quiet")
    assert billing_fingerprint() == snapshot
    assert (
        InvoiceNumber.objects.get(year=timezone.localdate().year).last
        == Invoice.objects.filter(number__startswith=f"INV-{timezone.localdate().year}-").count()
    )


def test_the_demo_records_audit_history_happened_when_the_story_says(demo_output):
    """The story backdates what it creates; the History tabs tell the same story: an invoice's issue moment never
    'changes', a payment's entry is dated with the payment, a contract's creation entry with its creation."""
    from django.db.models import Count, Min

    from contracts.models import Contract, Invoice, Payment

    changing_issue = (
        Invoice.history.exclude(issued_at=None)
        .values("id")
        .annotate(n=Count("issued_at", distinct=True))
        .filter(n__gt=1)
    )
    assert not changing_issue.exists()
    for payment in Payment.objects.all()[:20]:
        created = payment.history.get(history_type="+")
        assert created.history_date == payment.created_at
    started = Contract.history.values("id").annotate(first=Min("history_date"))
    for contract in Contract.objects.filter(pk__in=[row["id"] for row in started])[:20]:
        assert contract.history.get(history_type="+").history_date == contract.created_at
