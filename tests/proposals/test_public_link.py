"""The client's page behind the signed link: no login, in the proposal's language, first view recorded once,
accept with a typed name (twice is harmless) or decline with a reason; tampered, expired and replaced links get a
friendly page (404, 410, 410), never a 500; not indexed, no referrer; the PDF once the worker has rendered it."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import Notification, Role
from contracts.models import Contract
from proposals import services
from proposals.models import Proposal, ProposalEvent
from tests.factories import ClientFactory, ContactFactory, ContractFactory, TeamFactory, UserFactory
from tests.proposals.factories import line, proposal_with_lines

pytestmark = pytest.mark.django_db

BROWSER = {"REMOTE_ADDR": "203.113.1.10", "HTTP_USER_AGENT": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0)"}


@pytest.fixture
def am():
    return UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Hà Nội"), full_name="Nguyễn Thu Hà")


def sent(owner, *, language="en", client=None, contract=None, **header) -> Proposal:
    """A proposal e-mailed to the client's contact (the e-mail and PDF tasks run on commit, not here)."""
    client = client or ClientFactory(owner=owner)
    contact = ContactFactory(client=client, full_name="Lê Thị Hoa", email="hoa@bavi.vn")
    proposal = proposal_with_lines(
        owner,
        client=client,
        lines=[line("Key visual", price="45000000"), line("TVC 30s", price="60000000", discount="10")],
        language=language,
        contract=contract,
        **header,
    )
    return services.proposal_send(proposal=proposal, actor=owner, recipient=contact)


def link(proposal: Proposal) -> str:
    return f"/p/{services.public_token(Proposal.objects.get(pk=proposal.pk))}/"


def fresh(proposal: Proposal) -> Proposal:
    return Proposal.objects.get(pk=proposal.pk)


# --- Reading -------------------------------------------------------------------------------------------------


def test_the_client_reads_the_proposal_without_signing_in(client, am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        proposal = sent(am, objectives="Grow awareness before Tết.", terms="50 % on signature.")

    response = client.get(link(proposal), **BROWSER)

    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Grow awareness before Tết.", "50 % on signature.", "Key visual", "TVC 30s", "Accord Agency"):
        assert text in html
    assert "108,900,000 ₫" in html  # 45 M + 54 M net, 10 % VAT
    assert "One hundred and eight million, nine hundred thousand dong" in html
    assert 'data-testid="accept-form"' in html and 'data-testid="decline-form"' in html


def test_the_page_is_never_indexed_cached_or_sent_to_other_sites_as_a_referrer(
    client, am, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        proposal = sent(am)

    response = client.get(link(proposal))

    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "same-origin"  # never to another site; "no-referrer" would break CSRF
    assert "no-store" in response["Cache-Control"]
    assert '<meta name="referrer" content="same-origin">' in response.content.decode()


def test_the_page_speaks_the_proposals_language(client, am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        proposal = sent(am, language="vi")

    response = client.get(link(proposal))

    html = response.content.decode()
    assert '<html lang="vi">' in html
    assert "Một trăm lẻ tám triệu chín trăm nghìn đồng" in html


def test_the_first_view_is_recorded_once_and_the_owner_told(client, am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        proposal = sent(am)

    checked = client.head(link(proposal))  # a link checker's HEAD is not a view
    assert checked.status_code == 200 and fresh(proposal).first_viewed_at is None
    client.get(link(proposal), **BROWSER)
    first_view = fresh(proposal).first_viewed_at
    client.get(link(proposal), REMOTE_ADDR="198.51.100.7")

    assert first_view is not None and fresh(proposal).first_viewed_at == first_view
    views = ProposalEvent.objects.filter(proposal=proposal, kind="viewed")
    assert [event.note for event in views] == ["203.113.1.10 · Mozilla/5.0 (iPhone; CPU iPhone OS 18_0)"]
    assert Notification.objects.filter(recipient=am, title__startswith="The client opened").count() == 1


# --- Answering -----------------------------------------------------------------------------------------------


def test_accepting_records_the_name_time_ip_and_moves_the_deal(client, am, django_capture_on_commit_callbacks):
    deal = ContractFactory(client=ClientFactory(owner=am), owner=am, stage="negotiation", probability=40)
    with django_capture_on_commit_callbacks():
        proposal = sent(am, client=deal.client, contract=deal)

    response = client.post(f"{link(proposal)}accept/", {"full_name": "  Lê   Thị Hoa "}, **BROWSER)

    assert response.status_code == 302
    assert services.proposal_for_token(response.url.rstrip("/").rsplit("/p/", 1)[1]) == proposal  # back to its page
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    proposal = fresh(proposal)
    assert (proposal.status, proposal.decided_by_name, proposal.decided_ip) == (
        "accepted",
        "Lê Thị Hoa",
        "203.113.1.10",
    )
    assert proposal.decided_user_agent.startswith("Mozilla/5.0 (iPhone")
    deal.refresh_from_db()
    assert deal.stage == "awaiting_signature"
    thanks = client.get(link(proposal)).content.decode()
    assert 'data-testid="public-accepted"' in thanks and "Thank you, Lê Thị Hoa!" in thanks
    assert 'data-testid="accept-form"' not in thanks


def test_accepting_without_a_deal_creates_a_draft_deal_then_moves_it(client, am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        proposal = sent(am)

    client.post(f"{link(proposal)}accept/", {"full_name": "Lê Thị Hoa"}, **BROWSER)

    deal = Contract.objects.get(proposals=proposal)
    assert (deal.stage, deal.value, deal.client) == ("awaiting_signature", Decimal("99000000"), proposal.client)


def test_accepting_twice_is_harmless(client, am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        proposal = sent(am)
    client.post(f"{link(proposal)}accept/", {"full_name": "Lê Thị Hoa"}, **BROWSER)
    answered = fresh(proposal)

    again = client.post(f"{link(proposal)}accept/", {"full_name": "Someone Else"}, REMOTE_ADDR="198.51.100.7")

    assert again.status_code == 302
    proposal = fresh(proposal)
    assert (proposal.decided_by_name, proposal.decided_at, proposal.decided_ip) == (
        "Lê Thị Hoa",
        answered.decided_at,
        "203.113.1.10",
    )
    assert ProposalEvent.objects.filter(proposal=proposal, kind="accepted").count() == 1
    assert Contract.objects.filter(proposals=proposal).count() == 1


def test_accepting_needs_the_typed_full_name(client, am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        proposal = sent(am)

    empty = client.post(f"{link(proposal)}accept/", {"full_name": ""})
    too_short = client.post(f"{link(proposal)}accept/", {"full_name": " H "})

    assert empty.status_code == 400 and too_short.status_code == 400
    assert "Type your full name to accept." in too_short.content.decode()
    assert fresh(proposal).status == "sent"


def test_declining_needs_a_reason(client, am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        proposal = sent(am)

    refused = client.post(f"{link(proposal)}decline/", {"reason": "   "})
    declined = client.post(f"{link(proposal)}decline/", {"reason": "Budget moved to Q3."}, **BROWSER)

    assert refused.status_code == 400
    assert "Tell us why, so we can do better." in refused.content.decode()
    assert 'details class="public-decline" open' in refused.content.decode()  # the form stays open on its error
    assert declined.status_code == 302
    proposal = fresh(proposal)
    assert (proposal.status, proposal.decline_reason, proposal.decided_ip) == (
        "declined",
        "Budget moved to Q3.",
        "203.113.1.10",
    )
    page = client.get(link(proposal)).content.decode()
    assert 'data-testid="public-declined"' in page and 'data-testid="accept-form"' not in page
    assert client.post(f"{link(proposal)}accept/", {"full_name": "Lê Thị Hoa"}).status_code == 400


def test_the_answer_forms_need_the_csrf_token(am, django_capture_on_commit_callbacks):
    from django.test import Client

    with django_capture_on_commit_callbacks():
        proposal = sent(am)

    response = Client(enforce_csrf_checks=True).post(f"{link(proposal)}accept/", {"full_name": "Lê Thị Hoa"})

    assert response.status_code == 403
    assert fresh(proposal).status == "sent"


# --- Links that do not open ----------------------------------------------------------------------------------


def test_a_tampered_link_is_a_friendly_404(client, am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        proposal = sent(am)
    token = services.public_token(fresh(proposal))
    forged = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")

    for path in (f"/p/{forged}/", "/p/not-a-token/", f"/p/{forged}/pdf/"):
        response = client.get(path)
        assert response.status_code == 404
        assert 'data-reason="invalid"' in response.content.decode()
        assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert client.post(f"/p/{forged}/accept/", {"full_name": "Lê Thị Hoa"}).status_code == 404
    assert fresh(proposal).status == "sent" and fresh(proposal).first_viewed_at is None


def test_an_expired_link_is_a_friendly_410(client, am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        proposal = sent(am)
    Proposal.objects.filter(pk=proposal.pk).update(valid_until=timezone.localdate() - datetime.timedelta(days=1))

    response = client.get(link(proposal))
    accept = client.post(f"{link(proposal)}accept/", {"full_name": "Lê Thị Hoa"})

    assert response.status_code == 410 and accept.status_code == 410
    assert 'data-reason="expired"' in response.content.decode()
    assert "This proposal has expired" in response.content.decode()
    assert fresh(proposal).status == "sent"


def test_a_link_replaced_by_sending_again_is_a_friendly_410(client, am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        proposal = sent(am)
        old_link = link(proposal)
        services.proposal_send(proposal=fresh(proposal), actor=am)

    response = client.get(old_link)

    assert response.status_code == 410
    assert 'data-reason="replaced"' in response.content.decode()
    assert client.get(link(proposal)).status_code == 200


def test_a_link_replaced_by_a_new_version_is_a_friendly_410(client, am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        proposal = sent(am)
    old_link = link(proposal)
    services.proposal_new_version(proposal=fresh(proposal), actor=am)

    response = client.get(old_link)
    accept = client.post(f"{old_link}accept/", {"full_name": "Lê Thị Hoa"})

    assert response.status_code == 410 and accept.status_code == 410
    assert 'data-reason="replaced"' in response.content.decode()
    assert fresh(proposal).status == "superseded"


def test_an_accepted_proposal_stays_readable_after_its_date(client, am, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        proposal = sent(am)
    client.post(f"{link(proposal)}accept/", {"full_name": "Lê Thị Hoa"})
    Proposal.objects.filter(pk=proposal.pk).update(valid_until=timezone.localdate() - datetime.timedelta(days=5))

    assert client.get(link(proposal)).status_code == 200


# --- The PDF -------------------------------------------------------------------------------------------------


def test_the_client_downloads_the_pdf_once_it_is_rendered(
    client, am, settings, tmp_path, django_capture_on_commit_callbacks
):
    from proposals.pdf import content_hash

    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    with django_capture_on_commit_callbacks():
        proposal = sent(am)
    pending = client.get(f"{link(proposal)}pdf/")
    assert pending.status_code == 404 and 'data-reason="pending"' in pending.content.decode()
    assert 'data-testid="public-pdf"' not in client.get(link(proposal)).content.decode()

    proposal = fresh(proposal)
    proposal.pdf.save("BG-test.pdf", ContentFile(b"%PDF-1.7 proposal"), save=False)
    Proposal.objects.filter(pk=proposal.pk).update(pdf=proposal.pdf.name, pdf_hash=content_hash(fresh(proposal)))
    ready = client.get(f"{link(proposal)}pdf/")

    assert ready.status_code == 200 and b"".join(ready.streaming_content) == b"%PDF-1.7 proposal"
    assert ready["X-Robots-Tag"] == "noindex, nofollow"
    assert 'data-testid="public-pdf"' in client.get(link(proposal)).content.decode()
