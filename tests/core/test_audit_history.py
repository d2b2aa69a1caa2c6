"""The audit history (core/history.py): who changed which field from what to what, on pages, the API and in tasks.

Given a record changed through a page, the API (a real token, checked inside the view) or a background task, the
history row names the person (or no one: "System") and the History tab and ``/history`` endpoints show the field
differences in the pages' words; nobody else sees them, nobody edits them, and the queries do not grow with entries.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts import tokens
from accounts.models import ApiTokenScope, Role
from clients.models import Client, Contact
from clients.tasks import refresh_client_status_task
from contracts.models import Contract, Invoice, Payment
from core.history import HistorySource, history_page
from kpis import services as kpi_services
from kpis.models import KpiTarget
from kpis.periods import current_period
from tests.factories import (
    ActiveContractFactory,
    ClientFactory,
    ContactFactory,
    InvoiceFactory,
    RequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CLIENT_FORM = {
    "name": "Sữa Việt Xanh",
    "industry": "fmcg",
    "tier": "A",
    "status": "active",
    "billing_currency": "VND",
    "payment_terms_days": "45",
}


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", response.content.decode())


def token_header(user) -> dict:
    key = tokens.personal_token_create(user=user, name="audit", scope=ApiTokenScope.READ_WRITE).key
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def changes_of(row) -> dict:
    """The tracked fields that differ from the row before: {field: (old, new)}."""
    previous = row.prev_record
    delta = row.diff_against(previous)
    return {change.field: (change.old, change.new) for change in delta.changes}


# --- Who: pages, the API, tasks ----------------------------------------------------------------------------------


def test_a_change_on_the_edit_page_records_the_user_and_the_fields(client, am):
    record = ClientFactory(owner=am, name="Sữa Việt Xanh", tier="B", payment_terms_days=30, status="active")
    client.force_login(am)

    response = client.post(f"/clients/{record.pk}/edit/", {**CLIENT_FORM, "version": "1"})

    assert response.status_code == 302
    latest = record.history.latest()
    assert (latest.history_type, latest.history_user) == ("~", am)
    changes = changes_of(latest)
    assert (changes["tier"], changes["payment_terms_days"]) == (("B", "A"), (30, 45))
    assert "name" not in changes and "status" not in changes  # unchanged fields are not listed


def test_the_history_tab_shows_who_changed_what_in_the_pages_words(client, am):
    record = ClientFactory(owner=am, name="Sữa Việt Xanh", tier="B", payment_terms_days=30, status="active")
    client.force_login(am)
    client.post(f"/clients/{record.pk}/edit/", {**CLIENT_FORM, "version": "1"})

    html = html_of(client.get(f"/clients/{record.pk}/?tab=history"))

    assert 'data-testid="audit-history"' in html
    assert "Lan Nguyễn" in html
    assert 'Tier B</span> <span class="audit-arrow" aria-hidden="true">→</span>' in html  # a choice's label
    assert '<span class="visually-hidden">to </span>Tier A' in html
    assert "<dt>Payment terms (days)</dt>" in html


def test_a_change_through_the_api_with_a_token_records_the_tokens_user(api, am):
    record = ClientFactory(owner=am, tier="B", status="active")

    response = api.patch(f"/api/v1/clients/{record.pk}", {"tier": "C", "version": 1}, format="json", **token_header(am))

    assert response.status_code == 200, response.content
    latest = record.history.latest()
    assert latest.history_user == am
    assert changes_of(latest) == {"tier": ("B", "C")}


def test_the_api_history_gives_the_entries_with_labels_and_formatted_values(api, am):
    record = ClientFactory(owner=am, tier="B", status="active")
    api.patch(f"/api/v1/clients/{record.pk}", {"tier": "C", "version": 1}, format="json", **token_header(am))
    ContactFactory(client=record, full_name="Trần Thị Mai")

    body = api.get(f"/api/v1/clients/{record.pk}/history", **token_header(am)).json()

    kinds = [(entry["kind"], entry["object_type"]) for entry in body["results"]]
    assert kinds == [("created", "contact"), ("changed", "client"), ("created", "client")]
    changed = body["results"][1]
    assert changed["user"] == {"id": am.pk, "full_name": "Lan Nguyễn"}
    assert changed["changes"] == [{"field": "tier", "label": "Tier", "old": "Tier B", "new": "Tier C"}]
    assert body["results"][0]["object_label"] == "Trần Thị Mai"
    assert body["next"] is None


def test_a_task_run_inside_a_request_records_no_user(am, director, rf):
    sick = ClientFactory(owner=am, status="active")
    Client.objects.filter(pk=sick.pk).update(created_at=timezone.now() - timedelta(days=90))
    RequestFactory.create_batch(2, client=sick, priority="urgent")
    request = rf.get("/")
    request.user = director
    HistoricalRecords.context.request = request  # as HistoryRequestMiddleware leaves it during a page
    try:
        refresh_client_status_task.delay()  # eager in tests: runs here, in the request's thread
    finally:
        del HistoricalRecords.context.request

    latest = sick.history.latest()
    assert latest.history_user is None
    assert changes_of(latest) == {"status": ("active", "at_risk")}


def test_a_payment_recorded_on_the_page_shows_on_the_invoice_history_with_money(client, am, finance):
    invoice = InvoiceFactory(contract=ActiveContractFactory(owner=am, client=ClientFactory(owner=am)))
    client.force_login(finance)
    client.post(
        f"/invoices/{invoice.pk}/payments/new/",
        {
            "amount": "30000000",
            "received_on": timezone.localdate().isoformat(),
            "method": "bank_transfer",
            "reference": "UNC 7",
            "version": invoice.version,
        },
    )

    html = html_of(
        client.get(f"/invoices/{invoice.pk}/history/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="changes-body")
    )

    assert "<html" not in html  # the section's list alone
    assert "30,000,000 ₫" in html and "UNC 7" in html and "Payment" in html
    assert '<span class="visually-hidden">from </span>Issued' in html
    assert '<span class="visually-hidden">to </span>Partially paid' in html
    assert Invoice.history.filter(id=invoice.pk).latest().history_user == finance
    assert Payment.history.get(invoice_id=invoice.pk).history_user == finance


def test_a_contract_history_shows_people_by_name_and_deleted_records(client, am, director):
    contract = ActiveContractFactory(owner=am, client=ClientFactory(owner=am), title="Tết")
    other = UserFactory(role=Role.ACCOUNT_MANAGER, full_name="Phạm Minh Khoa")
    contract.owner = other
    contract.title = "Tết 2027"
    contract.save()
    client.force_login(director)

    html = html_of(client.get(f"/contracts/{contract.pk}/history/"))

    assert "Change history" in html
    assert '<span class="visually-hidden">from </span>Lan Nguyễn' in html  # a foreign key by name
    assert '<span class="visually-hidden">to </span>Phạm Minh Khoa' in html
    assert "Tết 2027" in html


def test_a_kpi_target_change_is_on_the_targets_history(client, director, am):
    period = current_period("month")
    fields = {"metric": "signed_revenue", "scope": "user", "user": am, "team": None, "period": period}
    kpi_services.target_set(actor=director, value=Decimal("1000000000"), currency="VND", **fields)
    kpi_services.target_set(actor=director, value=Decimal("1200000000"), currency="VND", **fields)
    client.force_login(director)

    html = html_of(client.get(f"/kpis/targets/history/?period={period.key}&scope=user:{am.pk}"))

    assert "1,000,000,000 ₫" in html and "1,200,000,000 ₫" in html
    assert KpiTarget.history.latest().history_user == director


def test_a_deleted_contact_stays_in_the_clients_history(client, am):
    record = ClientFactory(owner=am)
    contact = ContactFactory(client=record, full_name="Trần Thị Mai")
    client.force_login(am)

    client.post(f"/contacts/{contact.pk}/delete/")

    assert not Contact.objects.filter(pk=contact.pk).exists()
    html = html_of(client.get(f"/clients/{record.pk}/?tab=history"))
    assert "Deleted" in html and "Trần Thị Mai" in html


# --- Who may see it -------------------------------------------------------------------------------------------


def test_another_account_manager_gets_a_404_everywhere(client, api, am, stranger):
    record = ClientFactory(owner=am)
    invoice = InvoiceFactory(contract=ActiveContractFactory(owner=am, client=record))
    client.force_login(stranger)
    api.force_authenticate(stranger)

    for url in (f"/clients/{record.pk}/?tab=history", f"/contracts/{invoice.contract_id}/history/"):
        assert client.get(url).status_code == 404
    assert client.get(f"/invoices/{invoice.pk}/history/").status_code == 404
    for url in (
        f"/api/v1/clients/{record.pk}/history",
        f"/api/v1/contracts/{invoice.contract_id}/history",
        f"/api/v1/invoices/{invoice.pk}/history",
    ):
        assert api.get(url).status_code == 404


def test_a_malformed_cursor_is_a_400_on_the_api_and_a_404_on_a_page(client, api, am):
    record = ClientFactory(owner=am)
    api.force_authenticate(am)
    client.force_login(am)

    response = api.get(f"/api/v1/clients/{record.pk}/history", {"before": "yesterday"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"before": ["Enter a whole number of at least 1."]}
    assert client.get(f"/clients/{record.pk}/?tab=history&before=yesterday").status_code == 404
    assert api.get(f"/api/v1/clients/{record.pk}/history", {"before": "9" * 30}).status_code == 200


# --- Pages of history, and their queries ---------------------------------------------------------------------


def change_tier_times(record: Client, times: int) -> None:
    for number in range(times):
        record.tier = "ABC"[number % 3]
        record.save()


def queries_of(callable_) -> int:
    with CaptureQueriesContext(connection) as context:
        callable_()
    return len(context.captured_queries)


def test_the_tab_and_the_api_take_the_same_queries_for_23_and_64_entries(client, api, am):
    # Both fill more than a page (20 entries), so both read the rows before the page's oldest.
    few, many = ClientFactory(owner=am), ClientFactory(owner=am)
    change_tier_times(few, 21)
    change_tier_times(many, 60)
    ContactFactory.create_batch(1, client=few)
    ContactFactory.create_batch(3, client=many)
    client.force_login(am)
    api.force_authenticate(am)

    def tab(record):
        return lambda: html_of(client.get(f"/clients/{record.pk}/?tab=history"))

    def endpoint(record):
        return lambda: api.get(f"/api/v1/clients/{record.pk}/history").json()

    tab(few)()  # warm the session and the caches both pages share
    assert queries_of(tab(many)) == queries_of(tab(few))
    assert queries_of(endpoint(many)) == queries_of(endpoint(few))


def test_history_page_reads_a_bounded_number_of_queries(am, django_assert_max_num_queries):
    record = ClientFactory(owner=am)
    change_tier_times(record, 45)
    ContactFactory.create_batch(5, client=record)
    sources = [HistorySource(Client, Q(id=record.pk)), HistorySource(Contact, Q(client_id=record.pk))]

    # Per source, the page's rows and the rows before the page's oldest (2 × 2); then one per kind of record the
    # fields point to: people (owners and who saved), teams, clients (a contact's) — 7 at most, whatever the entries.
    with django_assert_max_num_queries(7):
        page = history_page(sources=sources)

    assert len(page.entries) == 20 and page.older is not None


def test_older_pages_follow_on_without_gaps_or_repeats(am):
    record = ClientFactory(owner=am)
    change_tier_times(record, 44)  # 45 entries with the creation
    sources = [HistorySource(Client, Q(id=record.pk))]

    seen, before = [], None
    while True:
        page = history_page(sources=sources, before=before)
        seen += [entry.id for entry in page.entries]
        if page.older is None:
            break
        before = page.older

    assert len(seen) == len(set(seen)) == 45
    assert seen == [f"clients.client:{row.history_id}" for row in record.history.order_by("-history_date")]


def test_the_tabs_older_link_gives_the_next_page(client, am):
    record = ClientFactory(owner=am)
    change_tier_times(record, 24)
    client.force_login(am)

    first = html_of(client.get(f"/clients/{record.pk}/?tab=history"))
    older = re.search(r'href="([^"]*before=\d+)" data-testid="audit-older"', first).group(1).replace("&amp;", "&")
    second = html_of(client.get(older))

    assert first.count('data-testid="audit-entry"') == 20
    assert second.count('data-testid="audit-entry"') == 5
    assert "Created" in second


# --- Nobody edits history ------------------------------------------------------------------------------------


def test_the_admin_shows_history_read_only(client):
    admin = UserFactory(role=Role.ADMIN, is_superuser=True)
    record = ClientFactory(owner=UserFactory(role=Role.ACCOUNT_MANAGER))
    row = record.history.get()
    client.force_login(admin)
    base = "/admin/clients/historicalclient/"

    assert client.get(base).status_code == 200
    assert client.get(f"{base}{row.pk}/change/").status_code == 200  # read-only view
    assert client.post(f"{base}{row.pk}/change/", {"tier": "C"}).status_code == 403
    assert client.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"{base}add/").status_code == 403
    assert record.history.get().tier == row.tier and record.history.count() == 1


def test_no_route_writes_history(api, am):
    record = ClientFactory(owner=am)
    api.force_authenticate(am)

    for method in ("post", "put", "patch", "delete"):
        assert getattr(api, method)(f"/api/v1/clients/{record.pk}/history", {}).status_code == 405
    assert record.history.count() == 1


def test_saves_of_caches_and_counters_alone_write_no_history(am):
    contract = ActiveContractFactory(owner=am, client=ClientFactory(owner=am))
    before = Contract.history.filter(id=contract.pk).count()

    contract.version += 1
    contract.save(update_fields=["version", "updated_at"])

    assert Contract.history.filter(id=contract.pk).count() == before


def test_history_paused_writes_none_and_history_resumes_after(am):
    from core.history import history_paused

    record = ClientFactory(owner=am)
    contact = ContactFactory(client=record)

    with history_paused():
        Contact.objects.filter(pk=contact.pk).delete()
        record.tier = "C"
        record.save()
    record.tier = "A"
    record.save()

    assert not Contact.history.filter(id=contact.pk, history_type="-").exists()
    assert [row.tier for row in record.history.order_by("history_id")] == ["B", "A"]


def test_a_record_older_than_its_history_shows_its_values_not_a_difference(client, am):
    record = ClientFactory(owner=am, tier="B")
    record.history.all().delete()  # as for rows that existed before the history was installed
    record.tier = "A"
    record.save()
    client.force_login(am)

    html = html_of(client.get(f"/clients/{record.pk}/?tab=history"))

    assert html.count('data-testid="audit-entry"') == 1
    assert "First values" in html and 'data-testid="audit-changes"' not in html
