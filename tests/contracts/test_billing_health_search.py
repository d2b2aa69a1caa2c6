"""Receivables in the client health score, and invoices in the header search."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.health import annotate_health, health_factors
from clients.models import Client
from clients.selectors import global_search
from tests.factories import ActiveContractFactory, ActivityFactory, ClientFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def overdue_invoice(client, days: int, **fields):
    """An invoice of ``client`` due ``days`` days ago (issued 30 days before its due date)."""
    due = timezone.localdate() - timedelta(days=days)
    contract = ActiveContractFactory(client=client)
    return InvoiceFactory(contract=contract, issue_date=due - timedelta(days=30), due_date=due, **fields)


def scored(client) -> Client:
    return annotate_health(Client.objects.filter(pk=client.pk)).get()


# --- Health ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "points"), [(-5, 0), (0, 0), (1, 0), (30, 0), (31, 10), (60, 10), (61, 20), (90, 20), (91, 30), (400, 30)]
)
def test_the_oldest_overdue_invoice_costs_points(am, days, points):
    client = ClientFactory(owner=am)
    overdue_invoice(client, days)

    assert scored(client).health_score == 100 - points


@pytest.mark.parametrize(("days", "points"), [(45, 10), (61, 20), (91, 30)])
def test_the_explanation_says_how_late_the_oldest_invoice_is(am, days, points):
    client = ClientFactory(owner=am)
    overdue_invoice(client, 31)
    overdue_invoice(client, days)

    factors = health_factors(scored(client))

    assert [(factor.label, factor.points, factor.detail) for factor in factors] == [
        ("Overdue receivables", points, f"Invoices overdue: the oldest is {days} days past due.")
    ]


def test_an_invoice_overdue_less_than_a_month_costs_nothing_and_says_nothing(am):
    client = ClientFactory(owner=am)
    overdue_invoice(client, 30)

    assert health_factors(scored(client)) == []


@pytest.mark.parametrize("status", ["paid", "void", "written_off", "draft"])
def test_invoices_no_longer_owed_cost_nothing(am, status):
    client = ClientFactory(owner=am)
    overdue_invoice(client, 120, status=status, number=None if status == "draft" else "INV-1999-09999")

    assert scored(client).health_score == 100


def test_a_partly_paid_invoice_still_counts(am):
    client = ClientFactory(owner=am)
    invoice = overdue_invoice(client, 70, status="partially_paid")
    invoice.paid_amount = invoice.gross_amount / 2
    invoice.save(update_fields=["paid_amount"])

    assert scored(client).health_score == 80


def test_a_disputed_invoice_or_one_promised_still_counts_the_money_is_late_all_the_same(am):
    """Follow-ups pause for them; the account's health does not pretend the money came in."""
    disputed, promised = ClientFactory(owner=am), ClientFactory(owner=am)
    overdue_invoice(disputed, 95, disputed=True, dispute_note="The March report is missing")
    overdue_invoice(promised, 65, promise_to_pay=timezone.localdate() + timedelta(days=5))

    assert scored(disputed).health_score == 70
    assert scored(promised).health_score == 80


def test_overdue_receivables_add_to_the_other_factors(am):
    client = ClientFactory(owner=am)
    Client.objects.filter(pk=client.pk).update(created_at=timezone.now() - timedelta(days=120))
    ActivityFactory(client=client, occurred_at=timezone.now() - timedelta(days=45))
    overdue_invoice(client, 100)

    client = scored(client)

    assert client.health_score == 100 - 15 - 30
    assert [factor.points for factor in health_factors(client)] == [15, 30]


def test_another_clients_invoices_do_not_count(am):
    healthy, late = ClientFactory(owner=am), ClientFactory(owner=am)
    overdue_invoice(late, 100)

    assert {client.pk: client.health_score for client in annotate_health(Client.objects.all())} == {
        healthy.pk: 100,
        late.pk: 70,
    }


def test_scoring_adds_no_query_however_many_clients_owe(am):
    def score_all() -> int:
        with CaptureQueriesContext(connection) as queries:
            list(annotate_health(Client.objects.all()))
        return len(queries)

    for _ in range(2):
        overdue_invoice(ClientFactory(owner=am), 95)
    two = score_all()
    for _ in range(18):
        overdue_invoice(ClientFactory(owner=am), 45)

    assert score_all() == two == 1


def test_the_client_list_query_count_does_not_grow_with_overdue_clients(client, am, django_assert_num_queries):
    client.force_login(am)

    def add(count):
        for _ in range(count):
            overdue_invoice(ClientFactory(owner=am), 75)

    add(2)
    # session, user, unread count, team (header); the revisions, the list's ids in order, the page's rows with
    # health, tags, visible details; the owner and team choices of the filter form (as in tests/clients:
    # receivables add none)
    with django_assert_num_queries(11):
        client.get("/clients/?sort=-health")
    add(18)
    with django_assert_num_queries(11):
        response = client.get("/clients/?sort=-health")

    assert [row.health_score for row in response.context["page"].object_list] == [80] * 20


# --- Search ----------------------------------------------------------------------------------------------------


def invoice_search(user, query: str) -> list:
    groups = global_search(user=user, query=query)["groups"]
    return [hit for group in groups if group["group"].label == "Invoices" for hit in group["hits"]]


def invoice_hits(user, query: str) -> list[str]:
    return [hit.title.split(" · ")[0] for hit in invoice_search(user, query)]


@pytest.fixture
def invoices(am, stranger):
    mine = ClientFactory(owner=am, name="Sữa Việt Nam")
    theirs = ClientFactory(owner=stranger, name="Sữa Ba Vì")
    return {
        "mine": InvoiceFactory(contract=ActiveContractFactory(client=mine), number="INV-2026-00042"),
        "theirs": InvoiceFactory(contract=ActiveContractFactory(client=theirs), number="INV-2026-00043"),
    }


def test_an_account_manager_finds_only_the_invoices_they_may_see(am, invoices):
    assert invoice_hits(am, "2026-0004") == ["INV-2026-00042"]
    assert invoice_hits(am, "00043") == []
    assert invoice_hits(am, "sua") == ["INV-2026-00042"]


def test_finance_finds_every_invoice_by_number_or_client_name(finance, invoices):
    assert sorted(invoice_hits(finance, "2026-0004")) == ["INV-2026-00042", "INV-2026-00043"]
    assert invoice_hits(finance, "ba vi") == ["INV-2026-00043"]


def test_the_hit_shows_amount_client_and_status_and_links_to_the_invoice(finance, invoices):
    [hit] = invoice_search(finance, "00042")

    assert hit.title == "INV-2026-00042 · 110,000,000 ₫"
    assert hit.subtitle == "Sữa Việt Nam · Issued"
    assert hit.url == f"/invoices/{invoices['mine'].pk}/"


def test_words_without_a_digit_do_not_match_every_number(finance, invoices):
    assert invoice_hits(finance, "inv") == []
    assert invoice_hits(finance, "INV-") == []


def test_the_beginning_of_a_number_finds_the_numbers_it_begins_in_any_case(am, finance, invoices):
    assert sorted(invoice_hits(finance, "inv-2026-0004")) == ["INV-2026-00042", "INV-2026-00043"]
    assert invoice_hits(finance, " INV-2026-00043 ") == ["INV-2026-00043"]
    assert invoice_hits(am, "INV-2026-0004") == ["INV-2026-00042"]  # still only what the user may see
    assert invoice_hits(finance, "INV-2025") == []


def test_sales_find_no_invoice_of_a_client_they_do_not_own(sales, invoices):
    assert invoice_hits(sales, "sua") == []
    assert invoice_hits(sales, "INV-2026") == []
