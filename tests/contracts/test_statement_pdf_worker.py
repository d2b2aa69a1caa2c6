"""The statement PDF rendered by a real ``celery worker`` process on Redis, then read back with pdftotext."""

import shutil
import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import translation

from contracts.billing.statement_pdf import request_statement_document
from contracts.models import DocumentStatus, StatementDocument
from core.money import format_money
from tests.conftest import require, wait_for
from tests.factories import ActiveContractFactory, ClientFactory, InvoiceFactory, PaymentFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

NAME = "Công ty Cổ phần Sữa Việt Nam"


@pytest.fixture
def statement_client(am):
    """Two invoices of 110,000,000 ₫ (gross), 40,000,000 ₫ of the first paid: 180,000,000 ₫ owed at the end of
    June, of which the first invoice's 70,000,000 ₫ overdue."""
    contract = ActiveContractFactory(client=ClientFactory(owner=am, name=NAME, tax_code="0300588569"))
    first = InvoiceFactory(
        contract=contract,
        issue_date=date(2026, 2, 1),
        due_date=date(2026, 3, 3),
        paid_amount=Decimal("40000000"),
        status="partially_paid",
    )
    InvoiceFactory(contract=contract, issue_date=date(2026, 6, 1), due_date=date(2026, 7, 1))
    PaymentFactory(invoice=first, amount=Decimal("40000000"), received_on=date(2026, 3, 1), recorded_by=am)
    return contract.client


@pytest.fixture
def stored_documents():
    """The worker writes to the configured documents storage: the files this test made are removed after it."""
    yield
    for document in StatementDocument.objects.exclude(file=""):
        document.file.delete(save=False)


def test_the_worker_renders_the_statement_pdf(celery_worker_process, statement_client, am, stored_documents):
    require(shutil.which("pdftotext") is not None, "needs pdftotext (apt-get install poppler-utils)")

    with transaction.atomic():
        document = request_statement_document(
            client=statement_client,
            currency="VND",
            start=date(2026, 1, 1),
            end=date(2026, 6, 30),
            language="vi",
            actor=am,
        )
        assert document.status == DocumentStatus.PENDING  # queued when the transaction commits

    status = wait_for(lambda: _finished(document.pk), timeout=60)

    document.refresh_from_db()
    assert status == DocumentStatus.READY, document.error
    assert "render_statement_pdf_task" in celery_worker_process["log"].read_text()
    with document.file.open("rb") as pdf:
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf.read(), capture_output=True, check=True).stdout
    text = text.decode()
    with translation.override("vi"):
        closing, overdue = format_money(Decimal("180000000"), "VND"), format_money(Decimal("70000000"), "VND")
    assert NAME in text
    assert closing == "180.000.000 ₫" and closing in text
    assert overdue in text
    assert "1/1" in text


def _finished(document_id: int) -> str | None:
    status = StatementDocument.objects.values_list("status", flat=True).get(pk=document_id)
    return status if status != DocumentStatus.PENDING else None
