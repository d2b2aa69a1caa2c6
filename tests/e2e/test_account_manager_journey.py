"""Journey: an account manager takes on a client and hands its first urgent request to Creative."""

import pytest
from django.utils import timezone

from accounts.models import Role
from clients.models import Activity, Client, Handover, Request
from tests.e2e.test_sign_in_journey import sign_in
from tests.factories import DepartmentFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_client_to_handover_journey(page):
    team = TeamFactory(name="Hà Nội")
    am = UserFactory(role=Role.ACCOUNT_MANAGER, team=team, email="ha@agency.test", full_name="Nguyễn Thu Hà")
    designer = UserFactory(role=Role.ACCOUNT_MANAGER, email="lan@agency.test", full_name="Hoàng Ngọc Lan")
    DepartmentFactory(name="Creative")
    sign_in(page, am.email)

    # A new client
    page.get_by_test_id("main-nav").get_by_role("link", name="Clients").click()
    page.get_by_role("link", name="New client").click()
    page.get_by_label("Name", exact=True).fill("Sữa Tươi Ba Vì")
    page.get_by_label("Tax code").fill("0101234567")
    page.get_by_label("Industry").select_option("fmcg")
    page.get_by_label("Tier").select_option("A")
    page.get_by_role("button", name="Create client").click()
    page.wait_for_url("**/clients/*/")
    assert page.get_by_role("heading", name="Sữa Tươi Ba Vì").is_visible()

    # A contact, through the Contacts tab (htmx)
    tabs = page.locator("#client-tabs .nav-tabs")
    tabs.get_by_role("link", name="Contacts").click()
    page.get_by_role("heading", name="Add a contact").wait_for()
    page.get_by_label("Full name").fill("Nguyễn Thị Minh Thư")
    page.get_by_label("E-mail").fill("thu@suabavi.example")
    page.get_by_role("button", name="Add contact").click()
    page.get_by_test_id("contacts-table").get_by_text("Nguyễn Thị Minh Thư").wait_for()

    # A call with a next step
    tabs.get_by_role("link", name="Timeline").click()
    page.get_by_role("heading", name="Log an activity").wait_for()
    page.get_by_label("Kind").select_option("call")
    page.get_by_label("Subject").fill("Kick-off call for Tết")
    page.get_by_label("Contact", exact=True).select_option(label="Nguyễn Thị Minh Thư")
    page.get_by_label("Next step", exact=True).fill("Send the moodboard")
    page.get_by_label("Next step due").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Add to the timeline").click()
    page.get_by_text("Send the moodboard").first.wait_for()

    # An urgent request, handed over to Creative
    tabs.get_by_role("link", name="Requests").click()
    page.get_by_role("heading", name="Record a request").wait_for()
    page.get_by_label("Priority").select_option("urgent")
    page.get_by_label("Title").fill("Key visual for Tết 2027")
    page.get_by_role("button", name="Record request").click()
    page.wait_for_url("**/requests/*/")
    page.get_by_role("link", name="Hand over").click()
    page.get_by_label("Department").select_option(label="Creative")
    page.get_by_label("Assignee").select_option(label=designer.full_name)
    page.get_by_label("Due date").fill(timezone.localdate().isoformat())
    page.get_by_label("Brief").fill("Three key visual directions, red and gold.")
    page.get_by_role("button", name="Hand over").click()
    page.wait_for_url("**/requests/*/")
    assert page.get_by_text("Handed over to Creative; Hoàng Ngọc Lan has been notified.").is_visible()
    assert page.console_errors == []

    client = Client.objects.get()
    assert (client.owner, client.team, client.contacts.count()) == (am, team, 1)
    assert Activity.objects.filter(client=client, kind="call", next_step="Send the moodboard").exists()
    request = Request.objects.get(client=client)
    assert (request.priority, request.status) == ("urgent", "in_progress")
    assert Handover.objects.get(request=request).assignee == designer

    # The assignee sees the notification
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")
    sign_in(page, designer.email)
    assert page.get_by_test_id("notifications-bell").inner_text().strip() == "1"
    page.get_by_test_id("notifications-bell").click()
    assert page.get_by_text("Hand-over for Creative: Key visual for Tết 2027").is_visible()


def test_header_search_finds_a_contact_without_diacritics(page):
    from tests.factories import ClientFactory, ContactFactory

    am = UserFactory(role=Role.ACCOUNT_MANAGER, email="ha@agency.test")
    ContactFactory(client=ClientFactory(owner=am, name="Sữa Tươi Ba Vì"), full_name="Nguyễn Thị Minh Thư")
    sign_in(page, am.email)

    page.get_by_test_id("header-search").fill("nguyen thi")
    results = page.get_by_test_id("search-results")
    results.get_by_text("Nguyễn Thị Minh Thư").wait_for()
    page.keyboard.press("Escape")
    assert results.count() == 0

    page.get_by_test_id("header-search").fill("minh thu")
    page.get_by_test_id("search-results").get_by_role("link", name="Nguyễn Thị Minh Thư").click()
    page.wait_for_url("**/clients/*/?tab=contacts")
    assert page.get_by_test_id("contacts-table").get_by_text("Nguyễn Thị Minh Thư").is_visible()
    assert page.console_errors == []
