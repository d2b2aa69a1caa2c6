"""The proposal's PDF rendered by a real ``celery worker`` process (Redis, PostgreSQL): sending a proposal queues
the render and the client's e-mail after commit; the worker stores the PDF, whose text (pdftotext) shows the
Vietnamese text, the totals, the amount in words and the page numbers; a second render of the same content writes
nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/accord_prop_pdf REDIS_URL=redis://127.0.0.1:6379/13 \\
        pytest tests/proposals/test_pdf_worker.py
"""

import re
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from django.db import transaction
from django.utils import timezone, translation

from core.money import format_money
from proposals import pdf, services
from proposals.models import Proposal
from proposals.tasks import render_proposal_pdf_task
from proposals.totals import amount_in_words
from tests.conftest import wait_for
from tests.factories import UserFactory
from tests.proposals.pdf_factories import CLIENT_NAME, FIRST_LINE, proposal_for, reload
from tests.proposals.test_pdf import page_count, text_of

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stored_files():
    """The worker writes to the configured documents storage: what this test stored is deleted afterwards."""
    names: list[str] = []
    yield names
    storage = Proposal._meta.get_field("pdf").storage
    for name in names:
        storage.delete(name)


def rendered(proposal: Proposal) -> Proposal:
    return wait_for(lambda: (fresh := reload(proposal)).pdf_hash and fresh, timeout=90)


def e_mail_to(mailbox, address: str):
    """The message the worker's file backend wrote to ``address``, parsed."""
    for path in sorted(mailbox.iterdir()):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            message = message_from_bytes(chunk.strip())
            if message["To"] == address:
                return message
    return None


def test_the_worker_renders_and_stores_the_pdf_of_a_sent_proposal(celery_worker_process, stored_files):
    owner = UserFactory(full_name="Lan Nguyễn", email="lan.nguyen@agency.test")
    proposal = proposal_for(owner, line_count=40, language="vi")

    with transaction.atomic():
        services.proposal_send(proposal=proposal, actor=owner)
        assert not reload(proposal).pdf_hash  # queued after commit, not rendered inside the transaction

    proposal = rendered(proposal)
    stored_files.append(proposal.pdf.name)
    assert proposal.pdf_error == ""
    assert proposal.pdf_hash == proposal.pdf_requested_hash == pdf.content_hash(proposal)
    assert re.search(rf"/{proposal.number}-v1(_\w+)?\.pdf$", proposal.pdf.name)  # suffixed if the name is taken
    with proposal.pdf.open("rb") as file:
        document = file.read()

    text = text_of(document)
    assert CLIENT_NAME in text and FIRST_LINE in text
    assert "Giai đoạn 2: sản xuất TVC, hình ảnh sản phẩm và ấn phẩm tại điểm bán." in text
    with translation.override("vi"):
        for amount in (proposal.subtotal, proposal.discount_amount, proposal.vat_amount, proposal.total):
            assert format_money(amount, "VND") in text
    assert amount_in_words(proposal.total, "VND", "vi") in text
    pages = page_count(document)
    assert pages >= 4  # the cover, 40 lines over at least two pages, terms and acceptance
    assert re.search(rf"\b{pages}\s+\S+\s+{pages}\b", text_of(document, pages))  # "page N of N" on the last

    message = e_mail_to(celery_worker_process["mailbox"], "thu.ha@donga.test")
    assert message is not None, "the worker sent no e-mail to the recipient"
    assert str(make_header(decode_header(message["Subject"]))).endswith(
        f"Báo giá {proposal.number} (phiên bản 1): Chiến dịch ra mắt sản phẩm Tết 2027"
    )


def test_the_worker_renders_the_same_content_only_once(celery_worker_process, stored_files):
    owner = UserFactory()
    proposal = proposal_for(owner, line_count=3, language="en")
    before = set(stored_in(proposal))
    log = celery_worker_process["log"]
    earlier = len(outcomes_for(log))  # the worker is shared with the other tests

    with transaction.atomic():
        for _ in range(3):  # three clicks, or a redelivered task: the same content
            transaction.on_commit(lambda: render_proposal_pdf_task.delay(proposal.pk))

    proposal = rendered(proposal)
    stored_files.append(proposal.pdf.name)
    outcomes = wait_for(lambda: len(found := outcomes_for(log)) >= earlier + 3 and found, timeout=60)
    assert sorted(outcomes[earlier:]) == ["rendered", "unchanged", "unchanged"]
    assert set(stored_in(proposal)) - before == {proposal.pdf.name}  # one file written, not three


def stored_in(proposal: Proposal) -> list[str]:
    """The PDFs in the documents storage's folder for this month (other runs' files too: the storage is shared)."""
    storage = Proposal._meta.get_field("pdf").storage
    folder = timezone.localdate().strftime("proposals/%Y/%m")
    return [f"{folder}/{name}" for name in storage.listdir(folder)[1]] if storage.exists(folder) else []


def outcomes_for(log) -> list[str]:
    pattern = r"Task proposals\.tasks\.render_proposal_pdf_task\[[\w-]+\] succeeded in [\d.]+s: '(\w+)'"
    return re.findall(pattern, log.read_text())
