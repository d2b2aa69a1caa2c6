"""Journey: finance opens the collections board, records a partial payment on an overdue invoice's card, the card
shows the new outstanding and its bucket's total drops, and the receivables page shows the amount moved."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from contracts.models import Invoice, Payment
from tests.e2e.test_sign_in_journey import sign_in
from tests.factories import ActiveContractFactory, ClientFactory, InvoiceFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def overdue_invoice(contract, days_past_due: int, net: str) -> Invoice:
    due = timezone.localdate() - datetime.timedelta(days=days_past_due)
    return InvoiceFactory(
        contract=contract, net_amount=Decimal(net), issue_date=due - datetime.timedelta(days=30), due_date=due
    )


def test_finance_records_a_partial_payment_on_the_board_and_the_aging_moves(page):
    am = UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Hà Nội"), full_name="Nguyễn Thu Hà")
    finance = UserFactory(role=Role.FINANCE, email="mai@agency.test", full_name="Lê Thị Mai")
    contract = ActiveContractFactory(client=ClientFactory(owner=am, name="Sữa Tươi Ba Vì"), owner=am)
    invoice = overdue_invoice(contract, 45, "300000000")  # 330,000,000 ₫ gross, 31–60 days past due
    overdue_invoice(contract, 10, "100000000")  # 110,000,000 ₫, 1–30 days past due

    sign_in(page, finance.email)
    page.get_by_test_id("nav-billing").click()
    page.get_by_test_id("main-nav").get_by_role("link", name="Collections", exact=True).click()
    page.wait_for_url("**/collections/")
    column = page.get_by_test_id("column-d31_60")
    assert column.get_by_test_id("bucket-totals-d31_60").inner_text().endswith("330,000,000 ₫")
    assert page.get_by_test_id("overdue-summary").get_by_text("440,000,000 ₫").is_visible()

    # A partial payment, right on the card
    card = page.locator(f"#card-{invoice.pk}")
    card.get_by_text("Record a payment").click()
    card.get_by_label("Amount (VND)").fill("130000000")
    card.get_by_label("Reference").fill("UNC 0042")
    card.get_by_role("button", name="Record payment").click()

    card = page.locator(f"#card-{invoice.pk}")
    card.get_by_test_id("card-recorded").wait_for()
    assert card.get_by_test_id("card-outstanding").inner_text() == "200,000,000 ₫"
    assert "Payment of 130,000,000 ₫ recorded" in card.get_by_test_id("card-recorded").inner_text()
    assert column.get_by_test_id("bucket-totals-d31_60").inner_text().endswith("200,000,000 ₫")
    assert page.get_by_test_id("overdue-summary").get_by_text("310,000,000 ₫").is_visible()
    payment = Payment.objects.get()
    assert (payment.amount, payment.reference, payment.recorded_by) == (Decimal("130000000"), "UNC 0042", finance)

    # The receivables page: the 31–60 days bucket now holds what is left
    page.get_by_test_id("nav-billing").click()
    page.get_by_test_id("main-nav").get_by_role("link", name="Receivables", exact=True).click()
    page.wait_for_url("**/receivables/")
    assert page.get_by_test_id("total-VND-d31_60").inner_text() == "200,000,000 ₫"
    assert page.get_by_test_id("total-VND-d1_30").inner_text() == "110,000,000 ₫"

    # ... and its amount opens the invoice list that adds up to it
    page.get_by_test_id("total-VND-d31_60").get_by_role("link").click()
    page.wait_for_url("**/invoices/?*bucket=d31_60*")
    assert page.get_by_test_id("total-outstanding").inner_text() == "200,000,000 ₫"
    assert page.get_by_test_id("invoice-row").count() == 1
    assert page.console_errors == []
