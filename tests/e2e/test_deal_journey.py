"""Journey: sales opens a deal for an account manager's client; the AM drags it to negotiation, records the
client's counter-offer and marks it signed, and the contract is active."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from contracts.models import Contract, NegotiationRound, StageChange
from tests.e2e.test_sign_in_journey import sign_in
from tests.factories import ClientFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_out(page) -> None:
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")


def test_sales_opens_a_deal_and_the_account_manager_signs_it(page):
    team = TeamFactory(name="Hà Nội")
    am = UserFactory(role=Role.ACCOUNT_MANAGER, team=team, email="ha@agency.test", full_name="Nguyễn Thu Hà")
    sales = UserFactory(role=Role.SALES, team=team, email="nhu@agency.test", full_name="Phạm Quỳnh Như")
    ClientFactory(owner=am, name="Sữa Tươi Ba Vì", status="prospect")
    close = timezone.localdate() + datetime.timedelta(days=20)

    # Sales opens the deal for the AM's client (sales knows every client by name)
    sign_in(page, sales.email)
    page.get_by_test_id("nav-deals").click()
    page.get_by_test_id("main-nav").get_by_role("link", name="Pipeline").click()
    page.get_by_role("link", name="New deal").click()
    form = page.get_by_test_id("contract-form")
    form.get_by_label("Client", exact=True).select_option(label="Sữa Tươi Ba Vì")
    form.get_by_label("Title", exact=True).fill("Chiến dịch Tết 2027")
    form.get_by_label("Value", exact=True).fill("250000000")
    form.get_by_label("Expected close", exact=True).fill(close.isoformat())
    form.get_by_role("button", name="Create deal").click()
    page.wait_for_url("**/contracts/*/")
    deal = Contract.objects.get()
    assert page.get_by_text(f"Deal {deal.number} created in Draft.").is_visible()
    assert (deal.owner, deal.stage, deal.value) == (sales, "draft", Decimal("250000000"))
    sign_out(page)

    # The AM drags it from Draft to Negotiation on the board
    sign_in(page, am.email)
    page.get_by_test_id("nav-deals").click()
    page.get_by_test_id("main-nav").get_by_role("link", name="Pipeline").click()
    card = page.get_by_test_id("column-draft").locator(f"#deal-{deal.pk}")
    assert card.get_by_role("link", name="Chiến dịch Tết 2027").is_visible()
    card.drag_to(page.get_by_test_id("column-negotiation").locator(".pipeline-cards"))
    # The board comes back from the server with the card in its new column and its new version.
    page.get_by_test_id("column-negotiation").locator(f'#deal-{deal.pk}[data-version="2"]').wait_for()
    assert page.get_by_test_id("column-draft").get_by_test_id("column-count").inner_text() == "0 deals"
    assert page.get_by_test_id("board-alert").inner_text() == ""
    deal.refresh_from_db()
    assert (deal.stage, deal.probability) == ("negotiation", 40)

    # The client's counter-offer, on the contract page
    page.get_by_test_id("column-negotiation").get_by_role("link", name="Chiến dịch Tết 2027").click()
    page.wait_for_url(f"**/contracts/{deal.pk}/")
    page.get_by_text("Record a round").click()
    round_form = page.get_by_test_id("round-form")
    round_form.get_by_label("Proposed by").select_option("client")
    round_form.get_by_label("Value").fill("220000000")
    round_form.get_by_label("Discount (%)").fill("5")
    round_form.get_by_label("Payment terms (days)").fill("45")
    round_form.get_by_label("Scope").fill("TVC 30s and social; no KOLs")
    round_form.get_by_role("button", name="Record round").click()
    page.get_by_text("Round 1 recorded.").wait_for()
    assert NegotiationRound.objects.get(contract=deal).proposed_by == "client"

    # Signed: the move page asks for the signature date, start and end
    page.get_by_test_id("contract-head").get_by_role("link", name="Move").click()
    page.wait_for_url(f"**/contracts/{deal.pk}/move/")
    move_form = page.get_by_test_id("move-form")
    move_form.get_by_label("Move to").select_option("active")
    move_form.get_by_role("button", name="Move").click()
    move_form = page.get_by_test_id("move-form")
    assert move_form.get_by_text("An active contract needs its signature date, start and end.").is_visible()
    move_form.get_by_label("Signed", exact=True).fill(f"{timezone.localdate().isoformat()}T10:30")
    move_form.get_by_label("Start", exact=True).fill("2027-01-01")
    move_form.get_by_label("End", exact=True).fill("2027-12-31")
    move_form.get_by_label("Note", exact=True).fill("Signed at the client's office")
    move_form.get_by_role("button", name="Move").click()
    page.wait_for_url(f"**/contracts/{deal.pk}/")
    assert page.get_by_test_id("stage-badge").inner_text() == "Active"
    # The only console error is the browser noting the 400 of the deliberately incomplete move form.
    assert page.console_errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]

    deal.refresh_from_db()
    assert (deal.stage, deal.probability, deal.value, deal.payment_terms_days) == (
        "active",
        100,
        Decimal("220000000"),
        45,
    )
    assert (deal.start_date, deal.end_date) == (datetime.date(2027, 1, 1), datetime.date(2027, 12, 31))
    assert deal.client.status == "active"  # a prospect's first signed contract makes it a client
    assert list(StageChange.objects.filter(contract=deal).order_by("changed_at").values_list("target", "actor")) == [
        ("negotiation", am.pk),
        ("active", am.pk),
    ]
