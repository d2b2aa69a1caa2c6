import csv
import io

import pytest
from django.utils import timezone

from accounts.models import Notification, Role
from clients.models import Activity, Client, Contact, Request
from tests.factories import (
    ActivityFactory,
    ClientFactory,
    ContactFactory,
    DepartmentFactory,
    HandoverFactory,
    PartnerFactory,
    PartnerRelationshipFactory,
    RequestFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return TeamFactory(name="Hà Nội")


@pytest.fixture
def am(team):
    return UserFactory(role=Role.ACCOUNT_MANAGER, team=team, full_name="Nguyễn Thu Hà")


def signed_in(client, user):
    client.force_login(user)
    return client


# --- The permission matrix: role × page × own, team and other records ---------------------------------------

PAGES = [
    "/clients/{pk}/",
    "/clients/{pk}/?tab=contacts",
    "/clients/{pk}/?tab=partners",
    "/clients/{pk}/?tab=timeline",
    "/clients/{pk}/?tab=requests",
    "/clients/{pk}/edit/",
    "/clients/{pk}/reassign/",
    "/requests/{request}/",
    "/requests/{request}/handover/",
    "/contacts/{contact}/edit/",
]
# Expected status per page above, for (role, whose client): 200 opens, 403 seen but not allowed, 404 invisible.
MATRIX = {
    ("account_manager", "own"): [200, 200, 200, 200, 200, 200, 403, 200, 200, 200],
    ("account_manager", "team"): [200, 200, 200, 200, 200, 403, 403, 200, 403, 403],
    ("account_manager", "other"): [404, 404, 404, 404, 404, 404, 403, 404, 404, 404],
    ("sales", "own"): [200, 200, 200, 200, 200, 200, 403, 200, 200, 200],
    ("sales", "other"): [404, 404, 404, 404, 404, 404, 403, 404, 404, 404],
    ("finance", "other"): [200, 200, 200, 200, 200, 403, 403, 200, 403, 403],
    ("director", "other"): [200] * 10,
    ("admin", "other"): [200] * 10,
}


@pytest.mark.parametrize(("role", "whose"), list(MATRIX))
def test_permission_matrix(client, team, role, whose):
    user = UserFactory(role=role, team=team)
    owner = {"own": user, "team": UserFactory(team=team), "other": UserFactory(team=TeamFactory(name="Sài Gòn"))}[whose]
    record = ClientFactory(owner=owner)
    ids = {"pk": record.pk, "request": RequestFactory(client=record).pk, "contact": ContactFactory(client=record).pk}
    signed_in(client, user)

    statuses = [client.get(page.format(**ids)).status_code for page in PAGES]

    assert statuses == MATRIX[(role, whose)]


@pytest.mark.parametrize(
    ("role", "sees_details"), [("account_manager", False), ("sales", False), ("finance", True), ("director", True)]
)
def test_the_client_list_shows_names_and_owners_to_sales_only(client, role, sees_details):
    other = ClientFactory(name="Hồng Lam Land", owner=UserFactory(full_name="Bùi Quốc Bảo"))
    signed_in(client, UserFactory(role=role))

    html = client.get("/clients/").content.decode()

    if role == "account_manager":
        assert "Hồng Lam Land" not in html  # not own, not team: not even the name
        return
    assert "Hồng Lam Land" in html and "Bùi Quốc Bảo" in html
    assert (f'href="/clients/{other.pk}/"' in html) is sees_details
    assert ('class="health ' in html) is sees_details
    assert ('name="industry"' in html) is sees_details


# --- Client list ----------------------------------------------------------------------------------------------


def test_client_list_searches_filters_and_sorts(client, am):
    ClientFactory(owner=am, name="Sữa Tươi Ba Vì", industry="fmcg", tier="A")
    banking = ClientFactory(owner=am, name="Ngân hàng Phương Nam Số", industry="banking", tier="B")
    ContactFactory(client=banking, full_name="Lê Hoàng Yến", email="yen@phuongnam.example")
    signed_in(client, am)

    def names(query: str) -> list[str]:
        return [c.name for c in client.get(f"/clients/?{query}").context["page"].object_list]

    assert names("q=sua tuoi") == ["Sữa Tươi Ba Vì"]
    assert names("q=SỮA") == ["Sữa Tươi Ba Vì"]
    assert names("q=hoang yen") == ["Ngân hàng Phương Nam Số"]  # a contact's name, without diacritics
    assert names("q=yen@phuongnam") == ["Ngân hàng Phương Nam Số"]
    assert names("industry=banking") == ["Ngân hàng Phương Nam Số"]
    assert names("tier=A") == ["Sữa Tươi Ba Vì"]
    assert names("sort=-name") == ["Sữa Tươi Ba Vì", "Ngân hàng Phương Nam Số"]


def test_client_list_filter_by_owner_and_team(client, am):
    other_team = TeamFactory(name="Sài Gòn")
    ClientFactory(owner=am, name="Mine")
    ClientFactory(owner=UserFactory(team=other_team), name="Theirs")
    signed_in(client, UserFactory(role=Role.DIRECTOR))

    assert [c.name for c in client.get(f"/clients/?owner={am.pk}").context["page"].object_list] == ["Mine"]
    assert [c.name for c in client.get(f"/clients/?team={other_team.pk}").context["page"].object_list] == ["Theirs"]


def test_an_invalid_filter_shows_no_rows_rather_than_failing(client, am):
    ClientFactory(owner=am)
    signed_in(client, am)

    response = client.get("/clients/?status=nonsense")

    assert response.status_code == 200
    assert list(response.context["page"].object_list) == []


def test_client_list_query_count_does_not_grow(client, am, django_assert_num_queries):
    signed_in(client, am)

    def add(count):
        for _ in range(count):
            record = ClientFactory(owner=am)
            ActivityFactory(client=record)
            RequestFactory(client=record)
            record.tags.create(name=f"tag-{record.pk}")

    add(2)
    # session, user, unread count, team (header); the revisions, the list's ids in order (kept in the cache: one
    # query fewer on the next visit), the page's rows with health, tags, visible details; the owner and team
    # choices of the filter form. A search alike.
    for path in ("/clients/?sort=-health", "/clients/?q=khach&sort=-health"):
        with django_assert_num_queries(11):
            client.get(path)
        with django_assert_num_queries(10):
            client.get(path)
    add(18)
    for path in ("/clients/?sort=-health", "/clients/?q=khach&sort=-health"):
        with django_assert_num_queries(11):
            response = client.get(path)
        assert len(response.context["page"].object_list) == 20


def test_htmx_filtering_returns_only_the_results(client, am):
    ClientFactory(owner=am, name="Sữa Tươi Ba Vì")
    signed_in(client, am)

    response = client.get("/clients/?q=sua", headers={"HX-Request": "true", "HX-Target": "client-results"})

    html = response.content.decode()
    assert "Sữa Tươi Ba Vì" in html and "<html" not in html


def test_csv_export_of_the_filtered_list(client, am):
    ClientFactory(owner=am, name="Sữa Tươi Ba Vì", industry="fmcg")
    ClientFactory(owner=am, name="Ngân hàng Phương Nam Số", industry="banking")
    signed_in(client, am)

    response = client.get("/clients/export.csv?industry=banking")

    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Name", "Legal name", "Tax code"]
    assert [row[0] for row in rows[1:]] == ["Ngân hàng Phương Nam Số"]
    assert "attachment" in response["Content-Disposition"]


def test_sales_export_has_names_and_owners_only(client):
    ClientFactory(name="Hồng Lam Land", owner=UserFactory(full_name="Bùi Quốc Bảo"))
    signed_in(client, UserFactory(role=Role.SALES))

    content = b"".join(client.get("/clients/export.csv").streaming_content).decode("utf-8-sig")

    assert list(csv.reader(io.StringIO(content))) == [["Name", "Owner"], ["Hồng Lam Land", "Bùi Quốc Bảo"]]


# --- Create, edit, reassign -----------------------------------------------------------------------------------


def test_create_a_client_from_the_form(client, am):
    signed_in(client, am)

    response = client.post(
        "/clients/new/",
        {
            "name": "Hồng Lam Land",
            "tax_code": "0312345678",
            "industry": "real_estate",
            "tier": "A",
            "status": "prospect",
            "billing_currency": "VND",
            "payment_terms_days": "45",
            "tags": "launch, hcmc",
        },
    )

    created = Client.objects.get()
    assert response.status_code == 302 and response.url == f"/clients/{created.pk}/"
    assert (created.owner, created.team, created.payment_terms_days) == (am, am.team, 45)


def test_form_errors_are_shown_and_nothing_is_saved(client, am):
    ClientFactory(owner=am, tax_code="0312345678")
    signed_in(client, am)
    base = {"industry": "fmcg", "tier": "B", "status": "active", "billing_currency": "VND", "payment_terms_days": "30"}

    bad_format = client.post("/clients/new/", {**base, "name": "X", "tax_code": "12-34"})
    duplicate = client.post("/clients/new/", {**base, "name": "Y", "tax_code": "0312345678"})

    assert "A Vietnamese tax code has 10 digits" in bad_format.content.decode()
    assert "A client with this tax code already exists." in duplicate.content.decode()
    assert Client.objects.count() == 1


def test_a_stale_edit_shows_a_conflict_message(client, am):
    record = ClientFactory(owner=am, name="Before")
    signed_in(client, am)
    form = {
        "name": "Mine",
        "industry": "fmcg",
        "tier": "B",
        "status": "active",
        "billing_currency": "VND",
        "payment_terms_days": "30",
        "version": "1",
    }
    client.post(f"/clients/{record.pk}/edit/", form)

    response = client.post(f"/clients/{record.pk}/edit/", {**form, "name": "Stale"})

    assert response.status_code == 200
    assert "Someone else changed this record" in response.content.decode()
    assert Client.objects.get(pk=record.pk).name == "Mine"


def test_a_director_reassigns_from_the_page(client, am):
    record = ClientFactory(owner=am)
    new_owner = UserFactory(role=Role.ACCOUNT_MANAGER)
    signed_in(client, UserFactory(role=Role.DIRECTOR))

    response = client.post(f"/clients/{record.pk}/reassign/", {"to_owner": new_owner.pk, "note": "Workload"})

    assert response.status_code == 302
    assert Client.objects.get(pk=record.pk).owner == new_owner
    assert Notification.objects.filter(recipient__in=[am, new_owner]).count() == 2


# --- Tabs: contacts, timeline, requests, hand-over -------------------------------------------------------------


def test_add_a_contact_and_see_form_errors(client, am):
    record = ClientFactory(owner=am)
    signed_in(client, am)

    bad = client.post(f"/clients/{record.pk}/contacts/new/", {"full_name": "", "preferred_language": "vi"})
    good = client.post(
        f"/clients/{record.pk}/contacts/new/",
        {"full_name": "Nguyễn Thị Minh Thư", "email": "thu@suabavi.example", "preferred_language": "vi"},
    )

    assert bad.status_code == 400 and "is-invalid" in bad.content.decode()
    assert good.status_code == 302
    assert Contact.objects.get().full_name == "Nguyễn Thị Minh Thư"


def test_log_a_call_with_a_next_step_then_complete_it_with_htmx(client, am):
    record = ClientFactory(owner=am)
    signed_in(client, am)
    due = timezone.localdate().isoformat()

    client.post(
        f"/clients/{record.pk}/activities/new/",
        {
            "kind": "call",
            "subject": "Brief call",
            "occurred_at": "2026-11-20T10:00",
            "next_step": "Send deck",
            "next_step_due": due,
        },
    )
    activity = Activity.objects.get()
    response = client.post(f"/activities/{activity.pk}/done/", headers={"HX-Request": "true"})

    assert activity.next_step_owner == am
    assert "done" in response.content.decode()
    assert Activity.objects.get().next_step_done_at is not None


def test_timeline_tab_counts_queries(client, am, django_assert_max_num_queries):
    record = ClientFactory(owner=am)
    signed_in(client, am)
    ActivityFactory.create_batch(2, client=record, contact=ContactFactory(client=record))
    with django_assert_max_num_queries(15) as small:
        client.get(f"/clients/{record.pk}/?tab=timeline")
    ActivityFactory.create_batch(18, client=record, contact=ContactFactory(client=record))
    with django_assert_max_num_queries(15) as large:
        client.get(f"/clients/{record.pk}/?tab=timeline")
    assert len(small.captured_queries) == len(large.captured_queries)


@pytest.mark.parametrize("tab", ["overview", "contacts", "partners", "requests"])
def test_detail_tabs_query_count_does_not_grow(client, am, tab, django_assert_max_num_queries):
    record = ClientFactory(owner=am)
    signed_in(client, am)

    def add(count):
        for _ in range(count):
            ContactFactory(client=record)
            PartnerRelationshipFactory(client=record)
            HandoverFactory(request=RequestFactory(client=record))
            ActivityFactory(
                client=record, next_step="Call back", next_step_due=timezone.localdate(), next_step_owner=am
            )

    add(2)
    with django_assert_max_num_queries(15) as small:
        client.get(f"/clients/{record.pk}/?tab={tab}")
    add(18)
    with django_assert_max_num_queries(15) as large:
        client.get(f"/clients/{record.pk}/?tab={tab}")
    assert len(small.captured_queries) == len(large.captured_queries)


def test_htmx_tab_switch_returns_only_the_tabs(client, am):
    record = ClientFactory(owner=am)
    signed_in(client, am)

    response = client.get(
        f"/clients/{record.pk}/?tab=contacts", headers={"HX-Request": "true", "HX-Target": "client-tabs"}
    )

    html = response.content.decode()
    assert "Add a contact" in html and "<html" not in html


def test_raise_an_urgent_request_and_hand_it_to_creative(client, am):
    record = ClientFactory(owner=am)
    assignee = UserFactory(full_name="Hoàng Ngọc Lan")
    creative = DepartmentFactory(name="Creative")
    signed_in(client, am)

    client.post(
        f"/clients/{record.pk}/requests/new/",
        {
            "kind": "incident",
            "priority": "urgent",
            "title": "Negative post going viral",
            "received_at": "2026-11-24T09:00",
        },
    )
    item = Request.objects.get()
    response = client.post(
        f"/requests/{item.pk}/handover/",
        {
            "department": creative.pk,
            "assignee": assignee.pk,
            "due_date": (timezone.localdate() + timezone.timedelta(days=1)).isoformat(),
            "brief": "Response visual",
        },
    )

    assert item.sla_due_at == timezone.datetime(2026, 11, 24, 13, 0, tzinfo=timezone.get_default_timezone())
    assert response.status_code == 302
    assert Notification.objects.filter(recipient=assignee).exists()
    assert "Creative" in client.get(f"/requests/{item.pk}/").content.decode()


def test_the_assignee_opens_the_request_handed_to_them_even_without_access_to_the_client(client, am):
    handover = HandoverFactory(request=RequestFactory(client=ClientFactory(owner=am)))
    outsider = handover.assignee
    signed_in(client, outsider)

    assert client.get(f"/clients/{handover.request.client_id}/").status_code == 404
    assert client.get(f"/requests/{handover.request_id}/").status_code == 200
    client.post(f"/handovers/{handover.pk}/status/", {"to": "done"})
    handover.refresh_from_db()
    assert handover.status == "done"


def test_a_forbidden_request_move_is_a_message_not_a_change(client, am):
    item = RequestFactory(client=ClientFactory(owner=am))
    signed_in(client, am)

    response = client.post(f"/requests/{item.pk}/move/", {"to": "closed"}, follow=True)

    assert "cannot go from New to Closed" in response.content.decode()
    assert Request.objects.get(pk=item.pk).status == "new"


def test_request_list_filters_and_counts_queries(client, am, django_assert_num_queries):
    from datetime import timedelta

    signed_in(client, am)
    record = ClientFactory(owner=am)
    RequestFactory(client=record, received_at=timezone.now() - timedelta(days=10), title="Late one")
    RequestFactory(client=record, title="Fresh one")

    breached = client.get("/requests/?state=breached").context["page"].object_list
    assert [item.title for item in breached] == ["Late one"]

    def add(count):
        for _ in range(count):
            HandoverFactory(request=RequestFactory(client=record))

    with django_assert_num_queries(9):
        client.get("/requests/")
    add(20)
    with django_assert_num_queries(9):
        client.get("/requests/")


# --- Partners -------------------------------------------------------------------------------------------------


def test_partner_pages_show_only_visible_clients(client, am):
    partner = PartnerFactory(name="Phim Trường Sao Mai")
    PartnerRelationshipFactory(partner=partner, client=ClientFactory(owner=am, name="Mine"))
    PartnerRelationshipFactory(partner=partner, client=ClientFactory(name="Not mine"))
    signed_in(client, am)

    listing = client.get("/partners/")
    detail = client.get(f"/partners/{partner.pk}/").content.decode()

    assert listing.context["page"].object_list[0].client_count == 1
    assert "Mine" in detail and "Not mine" not in detail


def test_partner_list_query_count(client, am, django_assert_num_queries):
    signed_in(client, am)
    PartnerRelationshipFactory.create_batch(2, client=ClientFactory(owner=am))
    with django_assert_num_queries(6):
        client.get("/partners/")
    PartnerRelationshipFactory.create_batch(18, client=ClientFactory(owner=am))
    with django_assert_num_queries(6):
        client.get("/partners/")


def test_sales_cannot_create_partners(client):
    signed_in(client, UserFactory(role=Role.SALES))

    assert client.get("/partners/new/").status_code == 403


# --- Home ------------------------------------------------------------------------------------------------------


def test_my_day_shows_overdue_steps_breaches_and_risk(client, am):
    from datetime import timedelta

    record = ClientFactory(owner=am, name="Sữa Tươi Ba Vì")
    ActivityFactory(
        client=record,
        next_step="Send the moodboard",
        next_step_due=timezone.localdate() - timedelta(days=2),
        next_step_owner=am,
    )
    RequestFactory(client=record, title="Late KV", received_at=timezone.now() - timedelta(days=10))
    quiet = ClientFactory(owner=am, name="Quiet Client")
    Client.objects.filter(pk=quiet.pk).update(created_at=timezone.now() - timedelta(days=100))
    RequestFactory.create_batch(2, client=quiet, priority="urgent", received_at=timezone.now())
    signed_in(client, am)

    html = client.get("/").content.decode()

    assert "My day" in html
    assert "Send the moodboard" in html and "Late KV" in html and "Quiet Client" in html


def test_directors_see_agency_breaches_on_home(client, am):
    from datetime import timedelta

    RequestFactory(client=ClientFactory(owner=am), title="Late KV", received_at=timezone.now() - timedelta(days=10))
    signed_in(client, UserFactory(role=Role.DIRECTOR))

    html = client.get("/").content.decode()

    assert "Client service across the agency" in html and "Late KV" in html


def test_next_step_done_refuses_an_outside_redirect(client, am):
    activity = ActivityFactory(client=ClientFactory(owner=am), next_step="Call", next_step_due=timezone.localdate())
    signed_in(client, am)

    response = client.post(f"/activities/{activity.pk}/done/", {"next": "https://evil.example/"})

    assert response.url == "/"


def test_handover_status_goes_back_to_the_request(client, am):
    handover = HandoverFactory(request=RequestFactory(client=ClientFactory(owner=am)))
    signed_in(client, am)

    response = client.post(f"/handovers/{handover.pk}/status/", {"to": "in_progress", "next": "//evil.example/"})

    assert response.url == f"/requests/{handover.request_id}/"


def test_finance_and_directors_see_hand_overs_assigned_to_them(client, am):
    for role in (Role.FINANCE, Role.DIRECTOR):
        person = UserFactory(role=role)
        HandoverFactory(
            request=RequestFactory(client=ClientFactory(owner=am), title=f"Check for {role}"), assignee=person
        )
        client.force_login(person)

        assert f"Check for {role}" in client.get("/").content.decode()


def test_raising_the_priority_recomputes_the_sla(client, am):
    item = RequestFactory(client=ClientFactory(owner=am), priority="low")
    low_due = item.sla_due_at
    client.force_login(am)

    response = client.post(
        f"/requests/{item.pk}/edit/", {"kind": "brief", "priority": "urgent", "title": item.title, "version": "1"}
    )

    item.refresh_from_db()
    assert response.status_code == 302
    assert item.priority == "urgent" and item.sla_due_at < low_due and item.version == 2


def test_a_stale_request_edit_is_refused(client, am):
    item = RequestFactory(client=ClientFactory(owner=am))
    client.force_login(am)
    form = {"kind": "brief", "priority": "high", "title": "First", "version": "1"}
    client.post(f"/requests/{item.pk}/edit/", form)

    response = client.post(f"/requests/{item.pk}/edit/", {**form, "title": "Stale"})

    assert "Someone else changed this record" in response.content.decode()
    assert Request.objects.get(pk=item.pk).title == "First"


def test_a_team_mate_cannot_edit_a_request(client, am):
    item = RequestFactory(client=ClientFactory(owner=am))
    client.force_login(UserFactory(role=Role.ACCOUNT_MANAGER, team=am.team))

    assert client.get(f"/requests/{item.pk}/edit/").status_code == 403


def test_a_kept_search_follows_the_contacts(client, am, django_capture_on_commit_callbacks):
    """A list's order is kept in the cache (selectors.client_order_kept), a search's too: a contact renamed, added
    or deleted shows on the next visit, in the page and in the API."""
    from django.core.cache import cache

    from clients.services import contact_create, contact_delete, contact_update

    cache.clear()
    signed_in(client, am)
    first = ClientFactory(owner=am, name="Công ty Ánh Dương")
    contact = ContactFactory(client=first, full_name="Trần Minh Thư")
    second = ClientFactory(owner=am, name="Công ty Bảo Ngọc")

    def found() -> tuple[list[str], list[str]]:
        page = [row.name for row in client.get("/clients/?q=minh thu").context["page"].object_list]
        api = [row["name"] for row in client.get("/api/v1/clients?q=minh thu").json()["results"]]
        return page, api

    assert found() == (["Công ty Ánh Dương"], ["Công ty Ánh Dương"])
    assert found() == (["Công ty Ánh Dương"], ["Công ty Ánh Dương"])  # from the cache

    contact_update(contact=contact, actor=am, full_name="Trần Thu Hà")
    assert found() == ([], [])
    added = contact_create(client=second, actor=am, full_name="Lê Minh Thư")
    assert found() == (["Công ty Bảo Ngọc"], ["Công ty Bảo Ngọc"])
    with django_capture_on_commit_callbacks(execute=True):
        contact_delete(contact=added, actor=am)
    assert found() == ([], [])
