"""Journey: an account manager writes a proposal from a client's brief, adding lines inline with a 20 % discount,
and asks a director to approve it; the director approves; the AM sends it; the client opens the link, accepts
with a typed name, and the deal the proposal serves awaits signature."""

from decimal import Decimal

import pytest

from accounts.models import Role
from proposals import services
from proposals.models import Proposal
from tests.e2e.test_deal_journey import sign_out
from tests.e2e.test_sign_in_journey import sign_in
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ContractFactory,
    DepartmentFactory,
    RequestFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_line(page, description: str, price: str, *, discount: str = "0", department: str = "") -> None:
    form = page.get_by_test_id("line-add-form")
    form.get_by_label("Description").fill(description)
    if department:
        form.get_by_label("Department").select_option(label=department)
    form.get_by_label("Unit price").fill(price)
    form.get_by_label("Discount (%)").fill(discount)
    count = page.get_by_test_id("line").count()
    form.get_by_role("button", name="Add line").click()
    page.get_by_test_id("line").nth(count).wait_for()


def test_a_proposal_goes_from_brief_to_approval_to_the_clients_acceptance(page, browser, live_server):
    team = TeamFactory(name="Hà Nội")
    am = UserFactory(role=Role.ACCOUNT_MANAGER, team=team, email="ha@agency.test", full_name="Nguyễn Thu Hà")
    director = UserFactory(role=Role.DIRECTOR, email="duc@agency.test", full_name="Trần Minh Đức")
    customer = ClientFactory(owner=am, name="Sữa Tươi Ba Vì")
    hoa = ContactFactory(client=customer, full_name="Lê Thị Hoa", email="hoa@bavi.vn", preferred_language="en")
    brief = RequestFactory(client=customer, contact=hoa, title="Tết 2027 campaign", description="Grow awareness.")
    deal = ContractFactory(client=customer, owner=am, title="Tết 2027", stage="negotiation", probability=40)
    DepartmentFactory(name="Creative")

    # The AM writes a proposal answering the brief
    sign_in(page, am.email)
    page.goto(f"/proposals/new/?brief={brief.pk}")
    page.get_by_role("button", name="Write the proposal").click()
    page.wait_for_url("**/proposals/*/")
    proposal = Proposal.objects.get()
    assert page.get_by_role("heading", name="Tết 2027 campaign").is_visible()

    # ... links it to the deal, then adds lines inline: the totals follow each change
    header = page.get_by_test_id("header-form")
    header.get_by_label("Deal").select_option(str(deal.pk))
    header.get_by_role("button", name="Save details").click()
    page.get_by_text("Proposal saved.").wait_for()
    add_line(page, "Key visual, three directions", "50000000", department="Creative")
    assert page.get_by_test_id("total-total").inner_text() == "55,000,000 ₫"
    add_line(page, "TVC 30s", "100000000", discount="20")
    page.get_by_test_id("line").first.get_by_test_id("line-edit").click()
    edit = page.get_by_test_id("line-edit-form")
    edit.get_by_label("Discount (%)").fill("20")
    edit.get_by_role("button", name="Save line").click()
    edit.wait_for(state="detached")
    assert page.get_by_test_id("total-discount-percent").inner_text() == "20 %"
    assert page.get_by_test_id("total-net").inner_text() == "120,000,000 ₫"
    assert page.get_by_test_id("total-total").inner_text() == "132,000,000 ₫"
    assert page.get_by_test_id("total-words").inner_text() == "One hundred and thirty-two million dong"

    # The discount is above 15 %: Send gives way to asking a director
    assert page.get_by_test_id("send-form").count() == 0
    page.get_by_role("button", name="Ask a director to approve (discount 20 % > 15 %)").click()
    page.get_by_test_id("lock-banner").wait_for()
    assert page.get_by_test_id("line-add-form").count() == 0
    sign_out(page)

    # A director approves
    sign_in(page, director.email)
    page.goto(f"/proposals/{proposal.pk}/")
    page.get_by_role("button", name="Approve the discount").click()
    page.get_by_text("Discount approved: the owner can send the proposal.").wait_for()
    assert page.get_by_test_id("status-badge").inner_text() == "Approved"
    sign_out(page)

    # The AM sends it to the person who asked
    sign_in(page, am.email)
    page.goto(f"/proposals/{proposal.pk}/")
    send = page.get_by_test_id("send-form")
    assert send.get_by_label("Send to").input_value() == str(hoa.pk)
    send.get_by_role("button", name="Send to the client").click()
    page.get_by_test_id("sent-details").wait_for()
    assert page.get_by_test_id("status-badge").inner_text() == "Sent"
    assert page.get_by_test_id("first-viewed").inner_text() == "Not yet"
    proposal.refresh_from_db()
    link = page.get_by_test_id("public-link").input_value()
    token = link.rstrip("/").rsplit("/p/", 1)[1]
    assert services.proposal_for_token(token) == proposal  # a signed link to this very proposal

    # The client opens the link, without an account, and accepts with a typed name
    client_context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    client_page = client_context.new_page()
    client_page.goto(f"/p/{token}/")
    assert client_page.get_by_test_id("public-total").inner_text() == "132,000,000 ₫"
    client_page.get_by_label("Your full name").fill("Lê Thị Hoa")
    client_page.get_by_role("button", name="Accept the proposal").click()
    client_page.get_by_test_id("public-accepted").wait_for()
    assert "Thank you, Lê Thị Hoa!" in client_page.get_by_test_id("public-accepted").inner_text()
    client_context.close()

    # The AM sees the answer; the deal awaits signature
    page.reload()
    assert page.get_by_test_id("status-badge").inner_text() == "Accepted"
    assert "by Lê Thị Hoa" in page.get_by_test_id("answer").inner_text()
    proposal.refresh_from_db()
    deal.refresh_from_db()
    assert (proposal.status, proposal.total, proposal.discount_percent) == (
        "accepted",
        Decimal("132000000"),
        Decimal("20.00"),
    )
    assert deal.stage == "awaiting_signature"
    assert page.console_errors == []
