"""The proposal's PDF: what it prints (pdftotext: Vietnamese text, totals, the amount in words, "page X of Y"), a
long table split over pages with its header repeated, rendered again only when what it prints changes, one writer
at a time, user text escaped and nothing fetched from the network; and the button and download on the page.
Rendered in process here; by a real worker in test_pdf_worker.py."""

import re
import shutil
import subprocess
import tempfile
from decimal import Decimal

import pytest
from django.core.files.storage import FileSystemStorage
from django.utils import translation

from accounts.models import Role
from core import pdf as core_pdf
from core.money import format_money
from proposals import pdf, services
from proposals.models import Proposal, ProposalStatus
from proposals.totals import amount_in_words
from tests.conftest import require
from tests.factories import DepartmentFactory, TeamFactory, UserFactory
from tests.proposals.pdf_factories import CLIENT_NAME, FIRST_LINE, proposal_for, reload

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def documents(monkeypatch, tmp_path):
    """The PDFs go to a folder of this test's (the field's storage is bound when the model is defined)."""
    storage = FileSystemStorage(location=tmp_path / "documents")
    monkeypatch.setattr(Proposal._meta.get_field("pdf"), "storage", storage)
    return storage


def text_of(document: bytes, *pages: int) -> str:
    """The PDF's text as pdftotext extracts it, whitespace collapsed (``pages``: first and last page)."""
    require(shutil.which("pdftotext") is not None, "needs pdftotext (apt-get install poppler-utils)")
    limits = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(document)
        file.flush()
        text = subprocess.run(["pdftotext", *limits, file.name, "-"], capture_output=True, check=True).stdout
    return " ".join(text.decode().split())


def page_count(document: bytes) -> int:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(document)
        file.flush()
        info = subprocess.run(["pdfinfo", file.name], capture_output=True, check=True).stdout.decode()
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)[1])


def stored(proposal: Proposal) -> bytes:
    with reload(proposal).pdf.open("rb") as file:
        return file.read()


def money(amount: str, language: str) -> str:
    with translation.override(language):
        return format_money(Decimal(amount), "VND")


# --- What it prints ------------------------------------------------------------------------------------------


def test_the_pdf_prints_vietnamese_text_totals_and_the_amount_in_words(am):
    proposal = proposal_for(am, line_count=10, language="vi")

    document = pdf.render_proposal_pdf(proposal)
    text = text_of(document)

    assert CLIENT_NAME in text
    assert FIRST_LINE in text
    assert "Tầng 12, Tòa nhà Lotte, 54 Liễu Giai, Ba Đình, Hà Nội" in text
    assert "Nguyễn Thu Hà" in text
    assert f"{proposal.number} v1" in text
    # 10 lines: 1,355,400,000 listed, 72,920,000 off, 1,282,480,000 net, 128,248,000 VAT, 1,410,728,000 in all
    assert proposal.total == Decimal("1410728000")
    for amount in ("1355400000", "72920000", "1282480000", "128248000", "1410728000"):
        assert money(amount, "vi") in text
    assert money("1410728000", "vi") == "1.410.728.000 ₫"
    words = amount_in_words(proposal.total, "VND", "vi")
    assert words == "Một tỷ bốn trăm mười triệu bảy trăm hai mươi tám nghìn đồng"
    assert words in text
    assert page_count(document) == 3


def test_the_footer_numbers_the_pages_and_the_cover_has_none(am):
    proposal = proposal_for(am, line_count=4, language="en")

    document = pdf.render_proposal_pdf(proposal)

    assert page_count(document) == 3
    assert "Page 1 of" not in text_of(document, 1)
    assert "Page 2 of 3" in text_of(document, 2)
    assert "Page 3 of 3" in text_of(document, 3)
    assert "Six hundred and twenty-one million, five hundred thousand dong" in text_of(document)


def test_a_200_line_proposal_runs_over_many_pages_with_the_table_header_on_each(am):
    proposal = proposal_for(am, line_count=200, language="en")

    document = pdf.render_proposal_pdf(proposal)
    pages = page_count(document)

    assert pages >= 10
    header = ("# DESCRIPTION DEPARTMENT", "QTY", "UNIT PRICE", "DISC. %", "AMOUNT")  # uppercase: only the header
    for page in range(2, pages):  # the cover is page 1; the table runs on to the last page's totals
        text = text_of(document, page)
        assert all(column in text for column in header), f"no table header on page {page}"
    assert f"Page {pages} of {pages}" in text_of(document, pages)
    assert "Brand identity design (50)" in text_of(document)
    assert money(str(proposal.total), "en") in text_of(document, pages - 1, pages)


def test_a_row_is_never_split_across_two_pages(am):
    """Each line's row is laid out on one page only (the header row is repeated, the body rows are not split)."""
    from weasyprint.formatting_structure.boxes import TableRowGroupBox

    proposal = proposal_for(am, line_count=70, language="vi")

    document = pdf.render_proposal_document(proposal)
    pages_of_row: dict[int, list[int]] = {}
    headers_on = []
    for number, page in enumerate(document.pages, start=1):
        for group in page._page_box.descendants():
            if isinstance(group, TableRowGroupBox):
                if group.is_header:
                    headers_on.append(number)
                    continue
                for row in group.children:
                    if len(row.children) == 8:  # a row of the lines' table (the cover's facts have two cells)
                        pages_of_row.setdefault(id(row.element), []).append(number)

    assert len(pages_of_row) == 70
    assert all(len(pages) == 1 for pages in pages_of_row.values())
    table_pages = sorted({pages[0] for pages in pages_of_row.values()})
    assert len(table_pages) > 3 and headers_on == table_pages


def test_user_text_is_printed_literally_and_nothing_is_fetched_from_the_network(am, monkeypatch):
    fetched: list[str] = []
    original = core_pdf.LocalFilesFetcher.fetch

    def recording_fetch(fetcher, url, headers=None):
        fetched.append(url)
        return original(fetcher, url, headers)

    monkeypatch.setattr(core_pdf.LocalFilesFetcher, "fetch", recording_fetch)
    proposal = proposal_for(am, line_count=1, language="en", title="<script>alert('x')</script> Launch")
    services.line_add(
        proposal=proposal,
        actor=am,
        description='<img src="http://attacker.test/pixel.png"> Banner',
        unit_price=Decimal("1000000"),
    )
    proposal = reload(proposal)

    html = pdf.render_proposal_html(proposal)
    text = text_of(pdf.render_proposal_pdf(proposal))

    assert "<script>alert" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert '<img src="http://attacker.test' not in html
    assert "<script>alert('x')</script> Launch" in text
    assert '<imgsrc="http://attacker.test/pixel.png">Banner' in text.replace(" ", "")  # wrapped in its cell
    assert fetched and all(url.startswith("https://pdf.accord.invalid/static/") for url in fetched)
    assert not any("attacker" in url for url in fetched)


# --- The content hash ----------------------------------------------------------------------------------------


def test_the_content_hash_changes_with_everything_the_pdf_prints(am, settings):
    proposal = proposal_for(am, line_count=3)
    before = pdf.content_hash(proposal)
    line = proposal.lines.first()

    changes = {
        "a line": lambda: services.line_update(line=line, actor=am, quantity=Decimal("2")),
        "the lines' order": lambda: services.lines_reorder(
            proposal=proposal, actor=am, line_ids=list(reversed(proposal.lines.values_list("pk", flat=True)))
        ),
        "the title": lambda: services.proposal_update(proposal=reload(proposal), actor=am, title="Tết 2028"),
        "the language": lambda: services.proposal_update(proposal=reload(proposal), actor=am, language="en"),
        "the client's address": lambda: (
            type(proposal.client)
            .objects.filter(pk=proposal.client_id)
            .update(address="1 Đinh Tiên Hoàng, Hoàn Kiếm, Hà Nội")
        ),
        "the recipient's name": lambda: (
            type(proposal.recipient).objects.filter(pk=proposal.recipient_id).update(full_name="Trần Thu Hà")
        ),
        "the owner's phone": lambda: type(am).objects.filter(pk=am.pk).update(phone="+84 912 345 678"),
        "the brand colour": lambda: setattr(settings, "ACCORD_BRAND_COLOR", "#0f766e"),
        "the agency's name": lambda: setattr(settings, "ACCORD_AGENCY_NAME", "Đông Tây Agency"),
    }
    seen = {before}
    for what, change in changes.items():
        change()
        digest = pdf.content_hash(reload(proposal))
        assert digest not in seen, f"changing {what} left the hash as it was"
        seen.add(digest)


def test_the_content_hash_ignores_what_the_pdf_does_not_print(am):
    proposal = proposal_for(am, line_count=3)
    before = pdf.content_hash(proposal)

    Proposal.objects.filter(pk=proposal.pk).update(revision=99, pdf_error="x", pdf_requested_hash="y")
    services.lines_reorder(proposal=proposal, actor=am, line_ids=list(proposal.lines.values_list("pk", flat=True)))

    assert pdf.content_hash(reload(proposal)) == before


# --- Storing: once per content, one writer, errors kept ------------------------------------------------------


def test_the_pdf_is_stored_under_its_number_and_version_and_is_then_ready(am):
    proposal = proposal_for(am, line_count=2)

    outcome = pdf.store_proposal_pdf(proposal.pk)

    proposal = reload(proposal)
    assert outcome == pdf.RENDERED
    assert re.fullmatch(rf"proposals/\d{{4}}/\d{{2}}/{proposal.number}-v1\.pdf", proposal.pdf.name)
    assert proposal.pdf_hash == proposal.pdf_requested_hash == pdf.content_hash(proposal)
    assert proposal.pdf_error == ""
    assert pdf.pdf_state(proposal) == pdf.READY
    assert stored(proposal).startswith(b"%PDF-")


def test_an_unchanged_proposal_is_not_rendered_again_and_a_changed_line_is(
    am, monkeypatch, documents, django_capture_on_commit_callbacks
):
    proposal = proposal_for(am, line_count=2)
    pdf.store_proposal_pdf(proposal.pk)
    first = reload(proposal).pdf.name
    renders: list[int] = []
    real_render = pdf._pdf
    monkeypatch.setattr(pdf, "_pdf", lambda content: renders.append(1) or real_render(content))

    assert pdf.store_proposal_pdf(proposal.pk) == pdf.UNCHANGED
    assert renders == []

    services.line_update(line=proposal.lines.first(), actor=am, unit_price=Decimal("90000000"))
    with django_capture_on_commit_callbacks(execute=True):
        assert pdf.store_proposal_pdf(proposal.pk) == pdf.RENDERED

    proposal = reload(proposal)
    assert renders == [1]
    assert proposal.pdf_hash == pdf.content_hash(proposal)
    assert money("90000000", "vi") in text_of(stored(proposal))
    assert documents.exists(proposal.pdf.name) and not documents.exists(first)  # the stale file is gone


def test_a_missing_file_is_rendered_again(am, documents):
    proposal = proposal_for(am, line_count=1)
    pdf.store_proposal_pdf(proposal.pk)
    documents.delete(reload(proposal).pdf.name)

    assert pdf.store_proposal_pdf(proposal.pk) == pdf.RENDERED
    assert documents.exists(reload(proposal).pdf.name)


def test_of_two_tasks_rendering_the_same_content_only_the_first_to_finish_writes(am, monkeypatch, documents):
    """Task A renders; meanwhile task B renders and stores the same content. A finds it stored and writes nothing."""
    proposal = proposal_for(am, line_count=1)
    real_render = pdf._pdf
    calls: list[str] = []

    def render_while_another_task_stores(content):
        calls.append("A" if not calls else "B")
        if len(calls) == 1:
            assert pdf.store_proposal_pdf(proposal.pk) == pdf.RENDERED  # task B, start to end
        return real_render(content)

    monkeypatch.setattr(pdf, "_pdf", render_while_another_task_stores)

    assert pdf.store_proposal_pdf(proposal.pk) == pdf.UNCHANGED  # task A
    assert calls == ["A", "B"]
    files = list((documents.base_location / "proposals").rglob("*.pdf"))
    assert [file.name for file in files] == [f"{proposal.number}-v1.pdf"]


def test_a_proposal_changed_while_it_renders_is_rendered_again_never_stored_stale(am, monkeypatch):
    proposal = proposal_for(am, line_count=1)
    real_render = pdf._pdf
    rendered_titles: list[str] = []

    def render_then_edit(content):
        rendered_titles.append(content["proposal"]["title"])
        if len(rendered_titles) == 1:  # an editor saves while the first render runs
            services.proposal_update(proposal=reload(proposal), actor=am, title="Tết 2028: phiên bản mới")
        return real_render(content)

    monkeypatch.setattr(pdf, "_pdf", render_then_edit)

    assert pdf.store_proposal_pdf(proposal.pk) == pdf.RENDERED
    proposal = reload(proposal)
    assert rendered_titles == ["Chiến dịch ra mắt sản phẩm Tết 2027", "Tết 2028: phiên bản mới"]
    assert proposal.pdf_hash == pdf.content_hash(proposal)
    assert "Tết 2028: phiên bản mới" in text_of(stored(proposal))


def test_a_rendering_error_is_kept_on_the_proposal_and_asking_again_retries(
    am, monkeypatch, django_capture_on_commit_callbacks
):
    proposal = proposal_for(am, line_count=1)

    def broken(html, **options):
        raise ValueError("the font is unreadable")

    monkeypatch.setattr(core_pdf, "render_pdf", broken)
    assert pdf.store_proposal_pdf(proposal.pk) == pdf.FAILED  # not raised: the page shows it

    proposal = reload(proposal)
    assert proposal.pdf_error == "ValueError: the font is unreadable"
    assert not proposal.pdf and proposal.pdf_hash == ""
    assert pdf.pdf_state(proposal) == pdf.FAILED

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.request_pdf(proposal) is True  # the task runs in process, after commit
    proposal = reload(proposal)
    assert proposal.pdf_error == "" and pdf.pdf_state(proposal) == pdf.READY


def test_a_deleted_proposal_is_missing_not_an_error(am):
    proposal = proposal_for(am, line_count=1)
    proposal_id = proposal.pk
    Proposal.objects.filter(pk=proposal_id).delete()

    assert pdf.store_proposal_pdf(proposal_id) == pdf.MISSING


def test_sending_renders_the_pdf_after_commit(am, django_capture_on_commit_callbacks):
    proposal = proposal_for(am, line_count=2)

    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_send(proposal=proposal, actor=am)

    proposal = reload(proposal)
    assert proposal.status == ProposalStatus.SENT
    assert pdf.pdf_state(proposal) == pdf.READY
    assert f"{proposal.number} v1" in text_of(stored(proposal))


def test_a_draft_says_so_on_every_page_until_it_is_sent(am, django_capture_on_commit_callbacks):
    proposal = proposal_for(am, line_count=20, language="en")
    draft = pdf.render_proposal_pdf(proposal)
    assert all("DRAFT" in text_of(draft, page) for page in range(1, page_count(draft) + 1))

    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_send(proposal=proposal, actor=am)

    assert "DRAFT" not in text_of(stored(proposal))


# --- The button and the download -----------------------------------------------------------------------------


@pytest.fixture
def signed_in(client, am):
    client.force_login(am)
    return client


def test_asking_for_the_pdf_shows_it_being_prepared_then_offers_the_download(
    signed_in, am, django_capture_on_commit_callbacks
):
    proposal = proposal_for(am, line_count=1)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        button = signed_in.post(f"/proposals/{proposal.pk}/pdf/request/", **HTMX)
    assert button.status_code == 200 and "Preparing PDF…" in button.content.decode()
    assert len(queued) == 1  # the render, after commit (run in process here)

    status = signed_in.get(f"/proposals/{proposal.pk}/pdf/status/", **HTMX).content.decode()
    assert 'data-testid="pdf-download"' in status and "every 1s" not in status
    download = signed_in.get(f"/proposals/{proposal.pk}/pdf/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{proposal.number}-v1.pdf"'
    assert "no-store" in download["Cache-Control"] and "private" in download["Cache-Control"]
    assert b"".join(download.streaming_content).startswith(b"%PDF-")


def test_the_button_polls_while_the_worker_prepares_the_pdf(signed_in, am):
    proposal = proposal_for(am, line_count=1)
    Proposal.objects.filter(pk=proposal.pk).update(pdf_requested_hash=pdf.content_hash(proposal))

    button = signed_in.get(f"/proposals/{proposal.pk}/pdf/status/", **HTMX).content.decode()

    assert "Preparing PDF…" in button
    assert f'hx-get="/proposals/{proposal.pk}/pdf/status/"' in button and 'hx-trigger="every 1s"' in button


def test_the_button_shows_the_error_and_offers_to_try_again(signed_in, am):
    proposal = proposal_for(am, line_count=1)
    digest = pdf.content_hash(proposal)
    Proposal.objects.filter(pk=proposal.pk).update(pdf_requested_hash=digest, pdf_error="ValueError: no font")

    button = signed_in.get(f"/proposals/{proposal.pk}/pdf/status/", **HTMX).content.decode()

    assert "The PDF could not be prepared." in button and "ValueError: no font" in button
    assert f'hx-post="/proposals/{proposal.pk}/pdf/request/"' in button
    assert "every 1s" not in button


def test_a_stale_pdf_is_not_downloaded_but_rendered_again(
    signed_in, am, monkeypatch, django_capture_on_commit_callbacks
):
    proposal = proposal_for(am, line_count=1)
    pdf.store_proposal_pdf(proposal.pk)
    services.line_update(line=proposal.lines.first(), actor=am, unit_price=Decimal("7000000"))
    queued: list[int] = []
    from proposals import tasks

    monkeypatch.setattr(tasks.render_proposal_pdf_task, "delay", queued.append)  # the worker is busy

    with django_capture_on_commit_callbacks(execute=True):
        button = signed_in.get(f"/proposals/{proposal.pk}/pdf/", **HTMX)
        page = signed_in.get(f"/proposals/{proposal.pk}/pdf/")

    assert "Preparing PDF…" in button.content.decode()

    assert page.status_code == 302 and page["Location"] == f"/proposals/{proposal.pk}/"
    assert queued == [proposal.pk]  # asked once: the second click found it already asked for


def test_without_javascript_asking_for_the_pdf_returns_to_the_proposal(
    signed_in, am, django_capture_on_commit_callbacks
):
    proposal = proposal_for(am, line_count=1)

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(f"/proposals/{proposal.pk}/pdf/request/")

    assert response.status_code == 302 and response["Location"] == f"/proposals/{proposal.pk}/"
    assert pdf.pdf_state(reload(proposal)) == pdf.READY


def test_the_pdf_of_a_proposal_the_user_may_not_see_is_not_found(client, am):
    proposal = proposal_for(am, line_count=1)
    pdf.store_proposal_pdf(proposal.pk)
    client.force_login(UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Huế")))

    assert client.get(f"/proposals/{proposal.pk}/pdf/").status_code == 404
    assert client.get(f"/proposals/{proposal.pk}/pdf/status/").status_code == 404
    assert client.post(f"/proposals/{proposal.pk}/pdf/request/").status_code == 404


def test_finance_may_download_any_proposal(client, am):
    proposal = proposal_for(am, line_count=1)
    pdf.store_proposal_pdf(proposal.pk)
    client.force_login(UserFactory(role=Role.FINANCE))

    assert client.get(f"/proposals/{proposal.pk}/pdf/").status_code == 200


def test_a_line_of_another_department_prints_its_name(am):
    proposal = proposal_for(am, line_count=1, language="en")
    services.line_add(
        proposal=proposal,
        actor=am,
        description="Influencer seeding",
        department=DepartmentFactory(name="KOL & Influencer"),
        unit_price=Decimal("15000000"),
    )

    text = text_of(pdf.render_proposal_pdf(reload(proposal)))

    assert "Influencer seeding KOL & Influencer" in text
