from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from contracts.billing import selectors, services
from tests.factories import ActiveContractFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_smoke():
    finance = UserFactory(role=Role.FINANCE)
    director = UserFactory(role=Role.DIRECTOR)
    contract = ActiveContractFactory()
    invoice = services.invoice_create(contract=contract, actor=finance, net_amount=Decimal("1234567"), description="x")
    assert invoice.number is None
    invoice = services.invoice_issue(invoice=invoice, actor=finance)
    assert invoice.number.startswith("INV-")
    assert invoice.vat_amount == Decimal("123457") and invoice.gross_amount == Decimal("1358024")
    services.payment_record(invoice=invoice, actor=finance, amount=Decimal("358024"))
    invoice.refresh_from_db()
    assert invoice.status == "partially_paid"
    rows = selectors.aging(selectors.invoice_list(user=finance), by="owner", today=invoice.due_date + timedelta(days=40))
    assert rows[0]["d31_60"] == Decimal("1000000")
    st = selectors.client_statement(client=contract.client, currency="VND", start=invoice.issue_date, end=timezone.localdate())
    assert st.closing_balance == Decimal("1000000")
    services.write_off_request(invoice=invoice, actor=finance, reason="bankrupt")
    req = invoice.write_off_requests.get()
    services.write_off_decide(request=req, actor=director, approve=True)
    invoice.refresh_from_db()
    assert invoice.status == "written_off"
    print(selectors.client_payment_rating(contract.client, today=invoice.due_date + timedelta(days=40)))
