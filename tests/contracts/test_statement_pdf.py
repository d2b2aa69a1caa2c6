"""The statement of account as a PDF: asked for, reused while the figures stand, rendered (in process here; by a
real worker in test_statement_pdf_worker.py), text-checked with pdftotext, and downloaded only by those who may."""

import shutil
import subprocess
import tempfile
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import connection, connections
from django.test import Client as BrowserClient
from django.utils import timezone, translation

from contracts.billing import statement_pdf
from contracts.billing.selectors import client_statement
from contracts.billing.services import payment_record
from contracts.billing.statement_pdf import (
    current_statement_document,
    render_statement_document,
    request_statement_document,
    statement_html,
)
from contracts.models import DocumentStatus, StatementDocument
from core import pdf
from core.errors import DomainError, PermissionDeniedError
from core.money import format_money
from tests.conftest import require
from tests.factories import ActiveContractFactory, ClientFactory, InvoiceFactory

pytestmark = pytest.mark.django_db

NAME = "Công ty Cổ phần Sữa Việt Nam"
START, END = date(2026, 1, 1), date(2026, 6, 30)


@pytest.fixture(autouse=True)
def documents(monkeypatch, tmp_path):
    """The PDFs go to a folder of this test's (the field's storage is bound when the model is defined)."""
    storage = FileSystemStorage(location=tmp_path / "documents")
    monkeypatch.setattr(StatementDocument._meta.get_field("file"), "storage", storage)
    return storage


def pdf_text(document: StatementDocument, *pages: int) -> str:
    """The PDF's text as pdftotext extracts it (``pages``: first and last page)."""
    require(shutil.which("pdftotext") is not None, "needs pdftotext (apt-get install poppler-utils)")
    with document.file.open("rb") as pdf:
        return text_of(pdf.read(), *pages)


def text_of(pdf: bytes, *pages: int) -> str:
    limits = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        return subprocess.run(["pdftotext", *limits, file.name, "-"], capture_output=True, check=True).stdout.decode()


def page_count(document: StatementDocument) -> int:
    with document.file.open("rb") as pdf, tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf.read())
        file.flush()
        info = subprocess.run(["pdfinfo", file.name], capture_output=True, check=True).stdout.decode()
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def vnd(amount: str, language: str = "vi") -> str:
    with translation.override(language):
        return format_money(Decimal(amount), "VND")


@pytest.fixture
def client_with_invoices(am):
    """Two invoices of 110,000,000 ₫ (gross) in the period, the first half paid: 165,000,000 ₫ owed on 30 June,
    the first invoice's 55,000,000 ₫ of it overdue."""
    contract = ActiveContractFactory(client=ClientFactory(owner=am, name=NAME, tax_code="0300588569"))
    first = InvoiceFactory(
        contract=contract, number="INV-1999-00101", issue_date=date(2026, 2, 1), due_date=date(2026, 3, 3)
    )
    InvoiceFactory(contract=contract, number="INV-1999-00102", issue_date=date(2026, 6, 1), due_date=date(2026, 7, 1))
    first.payments.create(
        amount=Decimal("55000000"), received_on=date(2026, 3, 10), reference="UNC 0042", recorded_by=am
    )
    first.paid_amount, first.status = Decimal("55000000"), "partially_paid"
    first.save(update_fields=["paid_amount", "status"])
    return contract.client


def ask(client, user, language="vi", start=START, end=END) -> StatementDocument:
    return request_statement_document(
        client=client, currency="VND", start=start, end=end, language=language, actor=user
    )


def ask_and_render(client, user, django_capture_on_commit_callbacks, **kwargs) -> StatementDocument:
    with django_capture_on_commit_callbacks(execute=True):
        document = ask(client, user, **kwargs)
    document.refresh_from_db()
    return document


# --- What the PDF says -----------------------------------------------------------------------------------------


def test_the_pdf_shows_the_client_the_balances_and_its_page_number(
    client_with_invoices, am, django_capture_on_commit_callbacks
):
    document = ask_and_render(client_with_invoices, am, django_capture_on_commit_callbacks)

    assert document.status == DocumentStatus.READY
    assert document.rendered_at is not None and document.error == ""
    text = pdf_text(document)
    assert NAME in text
    assert "0300588569" in text
    assert vnd("165000000") in text  # closing balance, as Vietnamese write it: 165.000.000 ₫
    assert vnd("55000000") in text  # overdue on 30 June
    assert "INV-1999-00101" in text and "UNC 0042" in text
    assert "1/1" in text


def test_english_statements_write_amounts_the_english_way(client_with_invoices, am, django_capture_on_commit_callbacks):
    document = ask_and_render(client_with_invoices, am, django_capture_on_commit_callbacks, language="en")

    text = pdf_text(document)
    assert "Statement of account".upper() in text.upper()
    assert "165,000,000 ₫" in text


def test_a_long_statement_repeats_the_table_header_and_numbers_its_pages(am, django_capture_on_commit_callbacks):
    contract = ActiveContractFactory(client=ClientFactory(owner=am, name=NAME))
    for day in range(60):
        issued = START + timedelta(days=day)
        InvoiceFactory(contract=contract, issue_date=issued, due_date=issued + timedelta(days=30))

    document = ask_and_render(contract.client, am, django_capture_on_commit_callbacks, language="en")

    pages = page_count(document)
    assert pages >= 2
    second_page = pdf_text(document, 2, 2)
    assert "REFERENCE" in second_page.upper() and "BALANCE" in second_page.upper()  # the header, again
    assert f"2/{pages}" in second_page
    assert f"1/{pages}" in pdf_text(document, 1, 1)


def test_user_text_is_escaped_in_the_html_and_printed_as_text(am, django_capture_on_commit_callbacks):
    name = '<script>alert("x")</script> Sữa & Co'
    contract = ActiveContractFactory(client=ClientFactory(owner=am, name=name))
    InvoiceFactory(contract=contract, issue_date=date(2026, 2, 1), description="<b>Tết</b> campaign")

    document = ask_and_render(contract.client, am, django_capture_on_commit_callbacks)
    statement = statement_pdf._statement(contract.client, "VND", START, END, "vi")
    html = statement_html(statement, rating=None, language="vi")

    assert "<script>" not in html and "<b>Tết</b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;Tết&lt;/b&gt;" in html
    text = pdf_text(document)
    assert '<script>alert("x")</script> Sữa & Co' in text
    assert "<b>Tết</b> campaign" in text


# --- Asking for it: reuse, permissions, retries ----------------------------------------------------------------


def test_unchanged_figures_reuse_the_ready_document(client_with_invoices, am, django_capture_on_commit_callbacks):
    first = ask_and_render(client_with_invoices, am, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks() as callbacks:
        again = ask(client_with_invoices, am)

    assert again.pk == first.pk and again.status == DocumentStatus.READY
    assert callbacks == []  # nothing rendered again
    assert StatementDocument.objects.count() == 1


def test_a_payment_makes_a_new_document_with_the_new_balance(
    client_with_invoices, am, finance, django_capture_on_commit_callbacks
):
    first = ask_and_render(client_with_invoices, am, django_capture_on_commit_callbacks)
    invoice = client_with_invoices.invoices.get(number="INV-1999-00102")
    payment_record(invoice=invoice, actor=finance, amount=Decimal("10000000"), received_on=date(2026, 6, 20))

    second = ask_and_render(client_with_invoices, am, django_capture_on_commit_callbacks)

    assert second.pk != first.pk and second.content_hash != first.content_hash
    assert vnd("155000000") in pdf_text(second)
    assert vnd("165000000") in pdf_text(first)  # the earlier PDF still says what it said


def test_the_statement_page_finds_the_document_of_the_figures_it_shows(
    client_with_invoices, am, finance, django_capture_on_commit_callbacks
):
    document = ask_and_render(client_with_invoices, am, django_capture_on_commit_callbacks)

    def shown_now(language="vi"):
        statement = client_statement(client=client_with_invoices, currency="VND", start=START, end=END)
        return current_statement_document(statement=statement, language=language)

    assert shown_now() == document
    assert shown_now("en") is None
    invoice = client_with_invoices.invoices.get(number="INV-1999-00102")
    payment_record(invoice=invoice, actor=finance, amount=Decimal("10000000"), received_on=date(2026, 6, 20))
    assert shown_now() is None  # the PDF of the figures before the payment is not offered


def test_a_request_before_the_first_is_rendered_reuses_the_pending_document(
    client_with_invoices, am, django_capture_on_commit_callbacks
):
    with_pending = ask(client_with_invoices, am)

    with django_capture_on_commit_callbacks() as callbacks:
        assert ask(client_with_invoices, am).pk == with_pending.pk

    assert with_pending.status == DocumentStatus.PENDING
    assert callbacks == []  # queued once, by the first request


def test_a_document_pending_for_minutes_is_queued_again(client_with_invoices, am, django_capture_on_commit_callbacks):
    stuck = ask(client_with_invoices, am)  # its task never ran: a lost message
    StatementDocument.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(minutes=6))

    again = ask_and_render(client_with_invoices, am, django_capture_on_commit_callbacks)

    assert again.pk == stuck.pk and again.status == DocumentStatus.READY


def test_each_language_is_its_own_document(client_with_invoices, am):
    assert ask(client_with_invoices, am, language="vi").pk != ask(client_with_invoices, am, language="en").pk


def test_who_cannot_open_the_client_gets_no_document(client_with_invoices, stranger, sales):
    for user in (stranger, sales):
        with pytest.raises(PermissionDeniedError):
            ask(client_with_invoices, user)

    assert not StatementDocument.objects.exists()


def test_finance_and_teammates_may_ask(client_with_invoices, finance, teammate):
    assert ask(client_with_invoices, finance).pk == ask(client_with_invoices, teammate).pk


@pytest.mark.parametrize(
    ("changes", "code"),
    [({"start": END, "end": START}, "invalid_period"), ({"language": "fr"}, "invalid_language")],
)
def test_a_period_backwards_or_an_unknown_language_is_refused(client_with_invoices, am, changes, code):
    with pytest.raises(DomainError) as refusal:
        ask(client_with_invoices, am, **changes)

    assert refusal.value.code == code
    assert not StatementDocument.objects.exists()


def test_rendering_twice_renders_once(client_with_invoices, am, monkeypatch):
    document = ask(client_with_invoices, am)
    assert render_statement_document(document_id=document.pk) == DocumentStatus.READY
    stored = StatementDocument.objects.get(pk=document.pk).file.name
    monkeypatch.setattr(pdf, "render_pdf", lambda html: pytest.fail("rendered again"))

    assert render_statement_document(document_id=document.pk) == DocumentStatus.READY
    assert StatementDocument.objects.get(pk=document.pk).file.name == stored


def test_a_rendering_error_fails_the_document_and_asking_again_retries_it(
    client_with_invoices, am, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(html):
        raise ValueError("the font went missing")

    with monkeypatch.context() as patch:
        patch.setattr(pdf, "render_pdf", broken)
        failed = ask_and_render(client_with_invoices, am, django_capture_on_commit_callbacks)

    assert failed.status == DocumentStatus.FAILED
    assert failed.error == "ValueError: the font went missing"
    assert not failed.file

    retried = ask_and_render(client_with_invoices, am, django_capture_on_commit_callbacks)

    assert retried.pk == failed.pk
    assert retried.status == DocumentStatus.READY and retried.error == ""
    assert NAME in pdf_text(retried)


def test_a_deleted_document_is_nothing_to_render(client_with_invoices, am):
    document = ask(client_with_invoices, am)
    StatementDocument.objects.filter(pk=document.pk).delete()

    assert render_statement_document(document_id=document.pk) == "missing"


# --- The button on the statement page, its polling and the download ---------------------------------------------


def post_for_pdf(browser, client, **data):
    payload = {"currency": "VND", "start": START.isoformat(), "end": END.isoformat(), **data}
    return browser.post(f"/statements/{client.pk}/pdf/", payload, headers={"HX-Request": "true"})


def test_the_button_polls_while_the_pdf_is_prepared_then_offers_the_download(client, client_with_invoices, am):
    client.force_login(am)

    asked = post_for_pdf(client, client_with_invoices)

    document = StatementDocument.objects.get()
    html = asked.content.decode()
    assert asked.status_code == 200 and document.status == DocumentStatus.PENDING
    assert "Preparing PDF…" in html
    assert f'hx-get="/statement-documents/{document.pk}/"' in html and 'hx-trigger="every 1s"' in html
    assert "<script" not in html and "style=" not in html

    render_statement_document(document_id=document.pk)
    polled = client.get(f"/statement-documents/{document.pk}/", headers={"HX-Request": "true"}).content.decode()

    assert "every 1s" not in polled
    assert f'href="/statement-documents/{document.pk}/download/"' in polled

    download = client.get(f"/statement-documents/{document.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == (
        'attachment; filename="statement-cong-ty-co-phan-sua-viet-nam-VND-2026-06-30.pdf"'
    )
    assert "no-store" in download["Cache-Control"]
    assert b"".join(download.streaming_content).startswith(b"%PDF")


def test_the_pdf_is_in_the_language_the_user_reads(client, client_with_invoices, am):
    client.force_login(am)

    post_for_pdf(client, client_with_invoices)
    client.cookies.load({"django_language": "vi"})
    post_for_pdf(client, client_with_invoices)

    assert sorted(StatementDocument.objects.values_list("language", flat=True)) == ["en", "vi"]


def test_without_javascript_the_form_goes_back_to_the_statement(client, client_with_invoices, am):
    client.force_login(am)

    response = client.post(
        f"/statements/{client_with_invoices.pk}/pdf/", {"currency": "VND", "start": "2026-01-01", "end": "2026-06-30"}
    )

    assert response.status_code == 302
    assert response["Location"] == (
        f"/statements/{client_with_invoices.pk}/?currency=VND&start=2026-01-01&end=2026-06-30"
    )
    assert StatementDocument.objects.get().requested_by == am


def test_a_failed_document_says_so_and_offers_to_try_again(client, client_with_invoices, am):
    document = ask(client_with_invoices, am)
    StatementDocument.objects.filter(pk=document.pk).update(status=DocumentStatus.FAILED, error="boom")
    client.force_login(am)

    html = client.get(f"/statement-documents/{document.pk}/", headers={"HX-Request": "true"}).content.decode()

    assert "The PDF could not be prepared." in html and "Try again" in html
    assert "boom" not in html  # the error is for the log, not the client's account manager
    assert f'hx-post="/statements/{client_with_invoices.pk}/pdf/"' in html
    assert 'name="start" value="2026-01-01"' in html and 'name="end" value="2026-06-30"' in html
    assert client.get(f"/statement-documents/{document.pk}/download/").status_code == 404


def test_a_backwards_period_is_a_400_with_the_reason(client, client_with_invoices, am):
    client.force_login(am)

    response = post_for_pdf(client, client_with_invoices, start=END.isoformat(), end=START.isoformat())

    assert response.status_code == 400
    assert "The period ends before it starts." in response.content.decode()
    assert not StatementDocument.objects.exists()


def test_who_cannot_open_the_client_gets_404_everywhere(client, client_with_invoices, am, stranger):
    document = ask(client_with_invoices, am)
    render_statement_document(document_id=document.pk)
    client.force_login(stranger)

    assert post_for_pdf(client, client_with_invoices).status_code == 404
    assert client.get(f"/statement-documents/{document.pk}/").status_code == 404
    assert client.get(f"/statement-documents/{document.pk}/download/").status_code == 404
    assert StatementDocument.objects.count() == 1


def test_anonymous_users_are_sent_to_log_in(client, client_with_invoices, am):
    document = ask(client_with_invoices, am)

    response = client.get(f"/statement-documents/{document.pk}/download/")

    assert response.status_code == 302 and "/login" in response["Location"]


def test_asking_for_a_pdf_needs_post_and_the_csrf_token(client_with_invoices, am):
    browser = BrowserClient(enforce_csrf_checks=True)
    browser.force_login(am)

    assert browser.get(f"/statements/{client_with_invoices.pk}/pdf/").status_code == 405
    assert post_for_pdf(browser, client_with_invoices).status_code == 403
    assert not StatementDocument.objects.exists()


# --- Two requests at the same moment (PostgreSQL) --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_the_same_moment_make_one_document(client_with_invoices, am, teammate, monkeypatch):
    require(connection.vendor == "postgresql", "needs PostgreSQL for real concurrent transactions")
    # Both requests found no document and go on to create one; neither creates it before the other has looked.
    both_looked = threading.Barrier(2, timeout=20)
    create = statement_pdf._create_document

    def create_when_both_looked(key, actor):
        both_looked.wait()
        return create(key, actor)

    monkeypatch.setattr(statement_pdf, "_create_document", create_when_both_looked)
    asked, errors = [], []

    def request(user) -> None:
        try:
            asked.append(ask(client_with_invoices, user).pk)
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request, args=(user,)) for user in (am, teammate)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(asked) == 2 and asked[0] == asked[1]
    assert StatementDocument.objects.get().status == DocumentStatus.READY  # rendered once, after the first commit
