"""The proposals API: visibility per role, create without mass assignment, header edits with stale writers, the
actions (submit, approve, return, send, new version, pdf), line edits returning the new totals, the rate card,
structured 400s for bad input and bounded query counts."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Notification, Role
from proposals.models import LineItem, Proposal, ProposalEvent
from tests.api_support import as_user, error_of, ids
from tests.factories import ClientFactory, ContactFactory, DepartmentFactory, TeamFactory, UserFactory
from tests.proposals.factories import RateCardItemFactory, line, proposal_with_lines

pytestmark = pytest.mark.django_db

# A 20 % discount: above the 15 % threshold.
DISCOUNTED = [line("Key visual", price="10000000", discount="20")]


def draft(owner, **header) -> Proposal:
    return proposal_with_lines(owner, lines=[line("Key visual"), line("TVC 30s", price="20000000")], **header)


def with_recipient(proposal: Proposal, email: str = "hoa@bavi.vn"):
    contact = ContactFactory(client=proposal.client, email=email)
    return contact


def fresh(proposal: Proposal) -> Proposal:
    return Proposal.objects.get(pk=proposal.pk)


def pending(owner) -> Proposal:
    from proposals import services

    proposal = proposal_with_lines(owner, lines=DISCOUNTED)
    return services.proposal_submit(proposal=proposal, actor=owner, note="Khách hàng chiến lược")


# --- Visibility and permissions -------------------------------------------------------------------------


def test_an_account_manager_sees_own_and_team_proposals_only(api, am, teammate, stranger):
    own, teams, hidden = draft(am), draft(teammate), draft(stranger)
    as_user(api, am)

    assert ids(api.get("/api/v1/proposals")) == {own.pk, teams.pk}
    assert error_of(api.get(f"/api/v1/proposals/{hidden.pk}"), 404)["code"] == "not_found"
    hidden_line = hidden.lines.first()
    assert error_of(api.patch(f"/api/v1/proposal-lines/{hidden_line.pk}", {"quantity": "2"}), 404)
    assert error_of(api.post(f"/api/v1/proposals/{hidden.pk}/send"), 404)


def test_finance_and_directors_see_every_proposal(api, am, stranger, finance, director):
    proposals = {draft(am).pk, draft(stranger).pk}

    assert ids(as_user(api, finance).get("/api/v1/proposals")) == proposals
    assert ids(as_user(api, director).get("/api/v1/proposals")) == proposals


def test_a_teammates_proposal_is_read_only(api, am, teammate):
    proposal = draft(teammate)
    first_line = proposal.lines.first()
    as_user(api, am)

    assert api.get(f"/api/v1/proposals/{proposal.pk}").json()["title"] == proposal.title
    refused = [
        api.patch(f"/api/v1/proposals/{proposal.pk}", {"title": "Mine"}),
        api.post(f"/api/v1/proposals/{proposal.pk}/send"),
        api.post(f"/api/v1/proposals/{proposal.pk}/submit"),
        api.post(f"/api/v1/proposals/{proposal.pk}/new-version"),
        api.post("/api/v1/proposal-lines", {"proposal": proposal.pk, "description": "x", "unit_price": "1"}),
        api.patch(f"/api/v1/proposal-lines/{first_line.pk}", {"quantity": "3"}),
        api.delete(f"/api/v1/proposal-lines/{first_line.pk}"),
    ]

    assert [error_of(response, 403)["code"] for response in refused] == ["permission_denied"] * len(refused)
    assert fresh(proposal).revision == proposal.revision
    assert proposal.lines.count() == 2


def test_finance_reads_but_changes_nothing(api, am, finance):
    proposal = draft(am)
    as_user(api, finance)

    assert api.get(f"/api/v1/proposals/{proposal.pk}").status_code == 200
    assert error_of(api.patch(f"/api/v1/proposals/{proposal.pk}", {"title": "x"}), 403)
    assert error_of(api.post("/api/v1/proposals", {"client": proposal.client_id, "title": "x"}), 403)
    assert Proposal.objects.count() == 1


def test_anonymous_callers_get_401(api):
    assert error_of(api.get("/api/v1/proposals"), 401)
    assert error_of(api.get("/api/v1/rate-card"), 401)


# --- Create and edit ------------------------------------------------------------------------------------


def test_creating_a_proposal_with_lines_ignores_system_fields(api, am, director):
    client = ClientFactory(owner=am, billing_currency="VND")
    creative = DepartmentFactory(name="Creative")
    body = {
        "client": client.pk,
        "title": "Tết 2027",
        "language": "vi",
        "vat_rate": 8,
        "objectives": "Tăng nhận biết",
        "lines": [
            {"description": "Key visual", "department": creative.pk, "unit_price": "10000000", "quantity": "2"},
            {"description": "TVC", "unit_price": "5000000", "discount_percent": "10"},
        ],
        # None of these may be set by the caller.
        "status": "accepted",
        "number": "BG-1-1",
        "version": 7,
        "owner": director.pk,
        "total": "1",
        "approved_discount": "100",
        "revision": 99,
    }

    response = as_user(api, am).post("/api/v1/proposals", body)

    assert response.status_code == 201, response.content
    data = response.json()
    proposal = Proposal.objects.get()
    assert (proposal.status, proposal.version, proposal.owner, proposal.approved_discount) == ("draft", 1, am, None)
    assert proposal.number.startswith(f"BG-{timezone.localdate().year}-")
    assert (data["subtotal"], data["discount_amount"], data["net_amount"]) == (
        "25000000.00",
        "500000.00",
        "24500000.00",
    )
    assert (data["vat_amount"], data["total"]) == ("1960000.00", "26460000.00")
    assert data["amount_in_words"].startswith("Hai mươi sáu triệu")
    assert [row["description"] for row in data["lines"]] == ["Key visual", "TVC"]
    assert data["lines"][0]["department_name"] == "Creative"
    assert [event["kind"] for event in data["events"]] == ["created"]


@pytest.mark.parametrize(
    ("line_fields", "field"),
    [
        ({"quantity": "-1"}, "lines.0.quantity"),
        ({"discount_percent": "100.5"}, "lines.0.discount_percent"),
        ({"unit_price": "1000.5"}, "lines.0.unit_price"),  # đồng fractions
        ({"quantity": "1.234"}, "lines.0.quantity"),
        ({"unit_price": "-5"}, "lines.0.unit_price"),
    ],
)
def test_bad_lines_are_a_structured_400(api, am, line_fields, field):
    client = ClientFactory(owner=am, billing_currency="VND")
    body = {"client": client.pk, "title": "x", "lines": [{"description": "x", "unit_price": "1000", **line_fields}]}

    error = error_of(as_user(api, am).post("/api/v1/proposals", body), 400)

    assert error["code"] == "invalid"
    assert any(key.startswith(field.split(".")[0]) for key in error["fields"]), error
    assert not Proposal.objects.exists()


def test_dates_out_of_range_and_foreign_clients_are_400(api, am, stranger):
    client, theirs = ClientFactory(owner=am), ClientFactory(owner=stranger)
    as_user(api, am)

    too_far = error_of(
        api.post("/api/v1/proposals", {"client": client.pk, "title": "x", "valid_until": "20266-01-01"}), 400
    )
    old = error_of(api.post("/api/v1/proposals", {"client": client.pk, "title": "x", "valid_until": "1999-01-01"}), 400)
    hidden = error_of(api.post("/api/v1/proposals", {"client": theirs.pk, "title": "x"}), 400)

    assert list(too_far["fields"]) == ["valid_until"] and list(old["fields"]) == ["valid_until"]
    assert list(hidden["fields"]) == ["client"]
    assert not Proposal.objects.exists()


def test_a_usd_proposal_takes_cents_but_not_less(api, am):
    proposal = draft(am, currency="USD")
    as_user(api, am)

    added = api.post("/api/v1/proposal-lines", {"proposal": proposal.pk, "description": "Ads", "unit_price": "99.95"})
    finer = api.post("/api/v1/proposal-lines", {"proposal": proposal.pk, "description": "Ads", "unit_price": "9.955"})

    assert added.status_code == 201, added.content
    assert list(error_of(finer, 400)["fields"]) == ["unit_price"]


def test_patching_the_header_bumps_the_revision_and_a_stale_one_is_409(api, am):
    proposal = draft(am)
    as_user(api, am)

    first = api.patch(f"/api/v1/proposals/{proposal.pk}", {"title": "Tết 2027 – v2", "revision": proposal.revision})
    stale = api.patch(f"/api/v1/proposals/{proposal.pk}", {"title": "Lost update", "revision": proposal.revision})

    assert first.status_code == 200, first.content
    assert first.json()["revision"] > proposal.revision
    assert error_of(stale, 409)["code"] == "conflict"
    assert fresh(proposal).title == "Tết 2027 – v2"


def test_patching_cannot_set_status_owner_or_totals(api, am, director):
    proposal = draft(am)

    response = as_user(api, am).patch(
        f"/api/v1/proposals/{proposal.pk}", {"status": "accepted", "owner": director.pk, "total": "1", "number": "X"}
    )

    assert response.status_code == 200
    current = fresh(proposal)
    assert (current.status, current.owner, current.total, current.number) == (
        "draft",
        am,
        proposal.total,
        proposal.number,
    )


def test_a_pending_proposal_is_locked(api, am):
    proposal = pending(am)

    error = error_of(as_user(api, am).patch(f"/api/v1/proposals/{proposal.pk}", {"title": "x"}), 400)

    assert error["code"] == "locked"


# --- Lines ----------------------------------------------------------------------------------------------


def test_line_changes_answer_with_the_new_totals(api, am):
    proposal = draft(am)  # 10 + 20 million
    as_user(api, am)

    added = api.post(
        "/api/v1/proposal-lines",
        {"proposal": proposal.pk, "description": "Social", "unit_price": "5000000", "revision": proposal.revision},
    )
    assert added.status_code == 201, added.content
    body = added.json()
    assert body["line"]["description"] == "Social" and body["line"]["net_amount"] == "5000000.00"
    assert body["proposal"]["net_amount"] == "35000000.00" and body["proposal"]["total"] == "38500000.00"

    line_id = body["line"]["id"]
    changed = api.patch(
        f"/api/v1/proposal-lines/{line_id}",
        {"discount_percent": "50", "revision": body["proposal"]["revision"]},
    ).json()
    assert changed["proposal"]["net_amount"] == "32500000.00"
    assert changed["proposal"]["needs_approval"] is False

    removed = api.delete(f"/api/v1/proposal-lines/{line_id}?revision={changed['proposal']['revision']}")
    assert removed.status_code == 200, removed.content
    assert removed.json()["line"] is None and removed.json()["proposal"]["net_amount"] == "30000000.00"
    assert not LineItem.objects.filter(pk=line_id).exists()


def test_a_stale_line_edit_is_409_and_changes_nothing(api, am):
    proposal = draft(am)
    first_line = proposal.lines.first()
    as_user(api, am)

    response = api.patch(f"/api/v1/proposal-lines/{first_line.pk}", {"quantity": "5", "revision": 1})

    assert error_of(response, 409)["code"] == "conflict"
    assert LineItem.objects.get(pk=first_line.pk).quantity == Decimal("1")


def test_a_line_discount_over_the_threshold_asks_for_approval(api, am):
    proposal = draft(am)
    first_line = proposal.lines.first()

    body = as_user(api, am).patch(f"/api/v1/proposal-lines/{first_line.pk}", {"discount_percent": "100"}).json()

    assert body["proposal"]["needs_approval"] is True
    assert body["proposal"]["discount_percent"] == "33.33"


def test_bad_line_input_is_a_400_naming_the_field(api, am):
    proposal = draft(am)
    first_line = proposal.lines.first()
    as_user(api, am)

    for fields, name in [
        ({"quantity": "-2"}, "quantity"),
        ({"discount_percent": "101"}, "discount_percent"),
        ({"unit_price": "10.5"}, "unit_price"),
        ({"quantity": "abc"}, "quantity"),
    ]:
        assert list(error_of(api.patch(f"/api/v1/proposal-lines/{first_line.pk}", fields), 400)["fields"]) == [name]


# --- Actions --------------------------------------------------------------------------------------------


def test_submit_approve_and_send_a_discounted_proposal(api, am, director, django_capture_on_commit_callbacks):
    proposal = proposal_with_lines(am, lines=DISCOUNTED)
    contact = with_recipient(proposal)
    as_user(api, am)

    refused = error_of(api.post(f"/api/v1/proposals/{proposal.pk}/send", {"recipient": contact.pk}), 400)
    assert refused["code"] == "approval_required"
    submitted = api.post(f"/api/v1/proposals/{proposal.pk}/submit", {"note": "Khách hàng chiến lược"})
    assert submitted.json()["status"] == "pending_approval"
    assert Notification.objects.filter(recipient=director).exists()
    assert error_of(api.post(f"/api/v1/proposals/{proposal.pk}/approve", {}), 403)["code"] == "permission_denied"

    approved = as_user(api, director).post(f"/api/v1/proposals/{proposal.pk}/approve", {"note": "OK"}).json()
    assert approved["status"] == "approved"
    assert approved["approval"]["approved_by"]["id"] == director.pk
    assert approved["approval"]["approved_discount"] == "20.00"

    with django_capture_on_commit_callbacks() as callbacks:
        sent = as_user(api, am).post(f"/api/v1/proposals/{proposal.pk}/send", {"recipient": contact.pk})
    assert sent.status_code == 200, sent.content
    assert sent.json()["status"] == "sent" and sent.json()["recipient"] == contact.pk
    assert len(callbacks) == 2  # the e-mail and the PDF render, queued after the commit
    assert [event["kind"] for event in sent.json()["events"]][:3] == ["sent", "approved", "submitted"]


def test_submitting_a_small_discount_is_refused(api, am):
    proposal = draft(am)

    error = error_of(as_user(api, am).post(f"/api/v1/proposals/{proposal.pk}/submit", {}), 400)

    assert error["code"] == "invalid_transition"
    assert fresh(proposal).status == "draft"


def test_returning_needs_a_director_and_a_note(api, am, director):
    proposal = pending(am)

    not_director = error_of(as_user(api, am).post(f"/api/v1/proposals/{proposal.pk}/return", {"note": "x"}), 403)
    no_note = error_of(as_user(api, director).post(f"/api/v1/proposals/{proposal.pk}/return", {}), 400)
    returned = api.post(f"/api/v1/proposals/{proposal.pk}/return", {"note": "Giảm chiết khấu xuống 15 %"})

    assert not_director["code"] == "permission_denied" and list(no_note["fields"]) == ["note"]
    assert returned.json()["status"] == "draft"
    assert ProposalEvent.objects.filter(proposal=proposal, kind="returned", note="Giảm chiết khấu xuống 15 %").exists()


def test_approving_a_draft_is_refused(api, am, director):
    proposal = draft(am)

    error = error_of(as_user(api, director).post(f"/api/v1/proposals/{proposal.pk}/approve", {}), 400)

    assert error["code"] == "invalid_transition"


def test_sending_needs_a_recipient_with_an_email(api, am):
    proposal = draft(am)
    no_email = ContactFactory(client=proposal.client, email="")
    elsewhere = ContactFactory(client=ClientFactory(owner=am), email="x@example.com")
    as_user(api, am)

    missing = error_of(api.post(f"/api/v1/proposals/{proposal.pk}/send", {}), 400)
    empty = error_of(api.post(f"/api/v1/proposals/{proposal.pk}/send", {"recipient": no_email.pk}), 400)
    other_client = error_of(api.post(f"/api/v1/proposals/{proposal.pk}/send", {"recipient": elsewhere.pk}), 400)

    assert [list(error["fields"]) for error in (missing, empty, other_client)] == [["recipient"]] * 3
    assert fresh(proposal).status == "draft"


def test_a_new_version_supersedes_the_old_one(api, am):
    proposal = draft(am)
    as_user(api, am)

    response = api.post(f"/api/v1/proposals/{proposal.pk}/new-version")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["number"], body["version"], body["previous"]) == (proposal.number, 2, proposal.pk)
    assert body["total"] == f"{proposal.total:.2f}"
    assert fresh(proposal).status == "superseded"
    assert ids(api.get("/api/v1/proposals")) == {body["id"]}  # the list shows the latest version
    assert api.get(f"/api/v1/proposals/{proposal.pk}").json()["status"] == "superseded"  # still readable
    assert error_of(api.post(f"/api/v1/proposals/{proposal.pk}/new-version"), 400)["code"] == "invalid_transition"


def test_the_pdf_status_and_a_render_request(api, am, monkeypatch):
    from proposals import tasks

    queued = []
    monkeypatch.setattr(tasks.render_proposal_pdf_task, "delay", lambda proposal_id: queued.append(proposal_id))
    proposal = draft(am)
    as_user(api, am)

    before = api.get(f"/api/v1/proposals/{proposal.pk}/pdf").json()
    with_callbacks = api.post(f"/api/v1/proposals/{proposal.pk}/pdf")
    after = api.get(f"/api/v1/proposals/{proposal.pk}/pdf").json()

    assert before == {"status": "not_requested", "url": None, "error": ""}
    assert with_callbacks.status_code == 202 and with_callbacks.json()["status"] == "pending"
    assert after["status"] == "pending"


def test_a_ready_pdf_has_its_download_url(api, am, monkeypatch):
    from proposals import pdf

    proposal = draft(am)
    monkeypatch.setattr(pdf, "pdf_state", lambda _proposal: pdf.READY)

    body = as_user(api, am).get(f"/api/v1/proposals/{proposal.pk}/pdf").json()

    assert body["status"] == "ready"
    assert body["url"] == f"http://testserver/proposals/{proposal.pk}/pdf/"


# --- Filters and the rate card --------------------------------------------------------------------------


def test_the_list_takes_the_filters(api, am, teammate):
    vnd = draft(am, title="Ra mắt vị mới")
    usd = draft(teammate, title="eSIM launch", currency="USD")
    pending_one = pending(am)
    as_user(api, am)

    assert ids(api.get("/api/v1/proposals", {"currency": "USD"})) == {usd.pk}
    assert ids(api.get("/api/v1/proposals", {"status": "pending_approval"})) == {pending_one.pk}
    assert ids(api.get("/api/v1/proposals", {"owner": teammate.pk})) == {usd.pk}
    assert ids(api.get("/api/v1/proposals", {"client": vnd.client_id})) == {vnd.pk}
    assert ids(api.get("/api/v1/proposals", {"q": "vị mới"})) == {vnd.pk}
    assert ids(api.get("/api/v1/proposals", {"q": usd.number})) == {usd.pk}
    assert list(error_of(api.get("/api/v1/proposals", {"status": "nope"}), 400)["fields"]) == ["status"]


def test_everyone_signed_in_reads_the_active_rate_card(api, finance):
    creative, media = DepartmentFactory(name="Creative"), DepartmentFactory(name="Media")
    concept = RateCardItemFactory(department=creative, service="Concept", price=Decimal("30000000"))
    usd = RateCardItemFactory(department=media, service="Media plan", currency="USD", price=Decimal("1500"))
    RateCardItemFactory(department=media, service="Retired", is_active=False)
    as_user(api, finance)

    assert ids(api.get("/api/v1/rate-card")) == {concept.pk, usd.pk}
    assert ids(api.get("/api/v1/rate-card", {"department": creative.pk})) == {concept.pk}
    assert ids(api.get("/api/v1/rate-card", {"currency": "USD"})) == {usd.pk}
    row = next(row for row in api.get("/api/v1/rate-card").json()["results"] if row["id"] == concept.pk)
    assert row == {
        "id": concept.pk,
        "department": creative.pk,
        "department_name": "Creative",
        "service": "Concept",
        "unit": "day",
        "currency": "VND",
        "price": "30000000.00",
    }
    assert api.post("/api/v1/rate-card", {"service": "x"}).status_code == 405


# --- Query counts ---------------------------------------------------------------------------------------


def add_proposals(owner, count: int) -> Proposal:
    first = None
    for index in range(count):
        proposal = proposal_with_lines(owner, lines=[line(f"Line {index}")], currency=["VND", "USD"][index % 2])
        RateCardItemFactory(service=f"Service {proposal.pk}")
        first = first or proposal
    return first


# Requests made with force_authenticate: no query for the user.
LIST_QUERIES = {
    "/api/v1/proposals": 2,  # the count, the page with client and owner joined
    "/api/v1/rate-card": 2,  # the count, the page with the department joined
}


@pytest.mark.parametrize("path", list(LIST_QUERIES))
@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.DIRECTOR, Role.FINANCE])
def test_list_endpoints_query_count_does_not_grow_with_rows(api, path, role, django_assert_num_queries):
    user = UserFactory(role=role, team=TeamFactory())
    owner = user if role == Role.ACCOUNT_MANAGER else UserFactory(role=Role.ACCOUNT_MANAGER)
    as_user(api, user)

    add_proposals(owner, 2)
    with django_assert_num_queries(LIST_QUERIES[path]):
        assert api.get(path).json()["count"] == 2
    add_proposals(owner, 18)
    with django_assert_num_queries(LIST_QUERIES[path]):
        assert api.get(path).json()["count"] == 20


def test_the_cards_query_count_does_not_grow_with_its_lines(api, am, django_assert_num_queries):
    proposal = draft(am)
    as_user(api, am)
    # The proposal with client, owner, deal, brief, recipient, approver and predecessor joined; its lines with
    # their departments; its history with who did what.
    card_queries = 3

    with django_assert_num_queries(card_queries):
        assert len(api.get(f"/api/v1/proposals/{proposal.pk}").json()["lines"]) == 2
    for index in range(18):
        LineItem.objects.create(proposal=proposal, order=index + 3, description=f"x{index}", unit_price=1)
    with django_assert_num_queries(card_queries):
        assert len(api.get(f"/api/v1/proposals/{proposal.pk}").json()["lines"]) == 20


def test_a_proposal_valid_until_past_cannot_be_sent(api, am):
    proposal = draft(am, valid_until=timezone.localdate() + datetime.timedelta(days=1))
    contact = with_recipient(proposal)
    Proposal.objects.filter(pk=proposal.pk).update(valid_until=timezone.localdate() - datetime.timedelta(days=1))

    error = error_of(as_user(api, am).post(f"/api/v1/proposals/{proposal.pk}/send", {"recipient": contact.pk}), 400)

    assert list(error["fields"]) == ["valid_until"]
