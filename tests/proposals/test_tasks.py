"""The proposal's tasks in process: the client's e-mail (its language, its link, at most once per send, nothing for
a replaced link), the PDF render, and the daily expiry sweep."""

import re
import smtplib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.storage import FileSystemStorage
from django.utils import timezone, translation

from core import mail as mail_queue
from core.models import OutgoingEmail
from core.money import format_money
from proposals import services, tasks
from proposals.models import Proposal, ProposalEvent, ProposalEventKind, ProposalStatus
from proposals.services import proposal_for_token
from proposals.tasks import expire_proposals_task, render_proposal_pdf_task, send_proposal_email_task
from tests.proposals.pdf_factories import CLIENT_NAME, proposal_for, reload

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver/p/(?P<token>[\w:.-]+)/")


@pytest.fixture(autouse=True)
def site(settings):
    settings.ACCORD_SITE_URL = "http://testserver"
    settings.ACCORD_AGENCY_NAME = "Accord Agency"


@pytest.fixture
def no_pdf(monkeypatch):
    """The e-mail tests leave the PDF out (test_pdf.py renders it)."""
    monkeypatch.setattr(tasks.render_proposal_pdf_task, "delay", lambda proposal_id: None)


def sent(owner, *, language="vi", capture, **header) -> Proposal:
    """A proposal sent to its recipient; the e-mail task runs after commit."""
    proposal = proposal_for(owner, line_count=10, language=language, **header)
    with capture(execute=True):
        services.proposal_send(proposal=proposal, actor=owner)
    return reload(proposal)


def e_mailed_events(proposal: Proposal) -> list[ProposalEvent]:
    return list(ProposalEvent.objects.filter(proposal=proposal, kind=ProposalEventKind.SENT, actor__isnull=True))


# --- The client's e-mail -------------------------------------------------------------------------------------


def test_the_client_gets_the_link_in_vietnamese_with_its_validity_and_the_owner(
    am, no_pdf, django_capture_on_commit_callbacks
):
    am.phone = "+84 912 000 111"
    am.save(update_fields=["phone"])
    proposal = sent(am, capture=django_capture_on_commit_callbacks, valid_until=timezone.localdate() + timedelta(9))

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["thu.ha@donga.test"]
    assert message.reply_to == [am.email]
    assert message.extra_headers["Content-Language"] == "vi"
    assert message.subject == (
        f"[Accord Agency] Báo giá {proposal.number} (phiên bản 1): Chiến dịch ra mắt sản phẩm Tết 2027"
    )
    body = message.body
    assert body.startswith("Kính gửi Nguyễn Thu Hà,")
    assert f"trân trọng gửi Quý công ty {CLIENT_NAME}" in body
    assert "Tổng giá trị (đã bao gồm VAT): 1.410.728.000 ₫" in body
    assert f"có hiệu lực đến hết ngày {proposal.valid_until:%d/%m/%Y}" in body
    assert f"{am.full_name}\n{am.email} · +84 912 000 111\nAccord Agency" in body
    html, kind = message.alternatives[0]
    assert kind == "text/html" and 'lang="vi"' in html
    link = LINK.search(body)
    assert link and f'href="{link[0]}"' in html


def test_an_english_proposal_is_e_mailed_in_english(am, no_pdf, django_capture_on_commit_callbacks):
    proposal = sent(am, language="en", capture=django_capture_on_commit_callbacks)

    message = mail.outbox[0]
    assert message.subject == f"[Accord Agency] Proposal {proposal.number} v1: Tết 2027 product launch"
    assert message.extra_headers["Content-Language"] == "en"
    assert message.body.startswith("Dear Nguyễn Thu Hà,")
    with translation.override("en"):
        assert f"Total (VAT included): {format_money(proposal.total, 'VND')}" in message.body
    assert f"The proposal is valid until {proposal.valid_until:%d/%m/%Y}." in message.body


def test_the_link_in_the_e_mail_opens_the_proposal(am, no_pdf, django_capture_on_commit_callbacks, client):
    proposal = sent(am, capture=django_capture_on_commit_callbacks)

    link = LINK.search(mail.outbox[0].body)

    assert proposal_for_token(link["token"]) == proposal
    page = client.get(link[0].removeprefix("http://testserver"))
    assert page.status_code == 200 and CLIENT_NAME in page.content.decode()


def test_a_user_title_with_markup_is_escaped_in_the_html_e_mail(am, no_pdf, django_capture_on_commit_callbacks):
    sent(am, language="en", capture=django_capture_on_commit_callbacks, title="<b>Tết</b> & launch")

    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert "<b>Tết</b>" not in html and "&lt;b&gt;Tết&lt;/b&gt; &amp; launch" in html
    assert message.subject.endswith("v1: <b>Tết</b> & launch")  # plain text: as typed


def test_the_e_mail_of_a_send_goes_out_at_most_once(am, no_pdf, django_capture_on_commit_callbacks):
    proposal = sent(am, capture=django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1

    assert send_proposal_email_task(proposal.pk, proposal.token_nonce) is False  # redelivered
    assert send_proposal_email_task.delay(proposal.pk, proposal.token_nonce).get() is False

    assert len(mail.outbox) == 1
    events = e_mailed_events(proposal)
    assert len(events) == 1
    assert events[0].note == f"E-mailed to thu.ha@donga.test {tasks.link_mark(proposal.token_nonce)}"
    assert proposal.token_nonce not in events[0].note


def test_a_link_replaced_by_a_newer_send_is_not_e_mailed(am, no_pdf, django_capture_on_commit_callbacks):
    proposal = proposal_for(am, line_count=2)
    with django_capture_on_commit_callbacks(execute=False) as first_send:
        services.proposal_send(proposal=proposal, actor=am)
    first_nonce = reload(proposal).token_nonce
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_send(proposal=reload(proposal), actor=am)  # sent again before the first e-mail left
    assert len(mail.outbox) == 1

    for callback in first_send:  # the first send's e-mail task runs late
        callback()

    assert len(mail.outbox) == 1
    assert send_proposal_email_task(proposal.pk, first_nonce) is False
    link = LINK.search(mail.outbox[0].body)
    assert proposal_for_token(link["token"]).token_nonce == reload(proposal).token_nonce != first_nonce


def test_a_superseded_proposal_is_not_e_mailed(am, no_pdf, django_capture_on_commit_callbacks):
    proposal = proposal_for(am, line_count=2)
    with django_capture_on_commit_callbacks(execute=False):
        services.proposal_send(proposal=proposal, actor=am)
    proposal = reload(proposal)
    services.proposal_new_version(proposal=proposal, actor=am)

    assert send_proposal_email_task(proposal.pk, proposal.token_nonce) is False
    assert mail.outbox == []


def test_a_mail_server_failure_keeps_the_email_queued_and_the_send_recorded_once(
    am, no_pdf, smtp_server, django_capture_on_commit_callbacks
):
    proposal = proposal_for(am, line_count=2)
    with django_capture_on_commit_callbacks(execute=False):
        services.proposal_send(proposal=proposal, actor=am)
    proposal = reload(proposal)
    smtp_server.refusing = "451"

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.deliver_proposal_email(proposal_id=proposal.pk, nonce=proposal.token_nonce) is True
    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts, email.to) == ("queued", 1, [proposal.recipient.email])
    assert len(e_mailed_events(proposal)) == 1 and smtp_server.messages == []

    smtp_server.refusing = None
    assert tasks.deliver_proposal_email(proposal_id=proposal.pk, nonce=proposal.token_nonce) is False
    assert mail_queue.deliver(email.pk) is True
    assert [received.recipients for received in smtp_server.messages] == [[proposal.recipient.email]]
    assert not issubclass(smtplib.SMTPException, send_proposal_email_task.autoretry_for)  # the queue retries


def test_a_recipient_without_an_e_mail_address_gets_nothing(am, no_pdf, django_capture_on_commit_callbacks):
    proposal = proposal_for(am, line_count=2)
    with django_capture_on_commit_callbacks(execute=False):
        services.proposal_send(proposal=proposal, actor=am)
    proposal = reload(proposal)
    type(proposal.recipient).objects.filter(pk=proposal.recipient_id).update(email="")

    assert send_proposal_email_task(proposal.pk, proposal.token_nonce) is False
    assert mail.outbox == [] and e_mailed_events(proposal) == []


# --- The PDF -------------------------------------------------------------------------------------------------


def test_the_render_task_stores_the_pdf_once(am, monkeypatch, tmp_path):
    monkeypatch.setattr(Proposal._meta.get_field("pdf"), "storage", FileSystemStorage(location=tmp_path))
    proposal = proposal_for(am, line_count=1)

    assert render_proposal_pdf_task.delay(proposal.pk).get() == "rendered"
    assert render_proposal_pdf_task.delay(proposal.pk).get() == "unchanged"
    assert render_proposal_pdf_task(proposal.pk + 1000) == "missing"


# --- Expiry --------------------------------------------------------------------------------------------------


def test_the_sweep_expires_sent_proposals_past_their_validity_once(am, no_pdf, django_capture_on_commit_callbacks):
    overdue = [sent(am, capture=django_capture_on_commit_callbacks) for _ in range(2)]
    current = sent(am, capture=django_capture_on_commit_callbacks)
    draft = proposal_for(am, line_count=1)
    yesterday = timezone.localdate() - timedelta(days=1)
    Proposal.objects.filter(pk__in=[proposal.pk for proposal in overdue]).update(valid_until=yesterday)
    Proposal.objects.filter(pk=draft.pk).update(valid_until=yesterday)

    assert expire_proposals_task() == 2
    assert expire_proposals_task() == 0

    assert [reload(proposal).status for proposal in overdue] == [ProposalStatus.EXPIRED] * 2
    assert reload(current).status == ProposalStatus.SENT
    assert reload(draft).status == ProposalStatus.DRAFT
    assert ProposalEvent.objects.filter(kind=ProposalEventKind.EXPIRED).count() == 2


def test_the_sweep_takes_a_given_day(am, no_pdf, django_capture_on_commit_callbacks):
    proposal = sent(am, capture=django_capture_on_commit_callbacks)
    day_after = proposal.valid_until + timedelta(days=1)

    assert expire_proposals_task(proposal.valid_until.isoformat()) == 0
    assert expire_proposals_task(day_after.isoformat()) == 1
    assert reload(proposal).status == ProposalStatus.EXPIRED
    assert Decimal(reload(proposal).total) == Decimal("1410728000")
