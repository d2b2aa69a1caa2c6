"""Proposal pages: the list, starting a proposal, the page and its inline editor (htmx and plain forms), stale
revisions, approval, sending, versions and what changed, the PDF download; who may see and change what; query
counts that do not grow with rows."""

import re
from decimal import Decimal

import pytest

from accounts.models import Role
from proposals import selectors, services
from proposals.models import LineItem, Proposal
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ContractFactory,
    DepartmentFactory,
    RequestFactory,
    TeamFactory,
    UserFactory,
)
from tests.proposals.factories import RateCardItemFactory, line, proposal_with_lines

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "proposal-lines"}


@pytest.fixture
def team():
    return TeamFactory(name="Hà Nội")


@pytest.fixture
def am(team):
    return UserFactory(role=Role.ACCOUNT_MANAGER, team=team, full_name="Nguyễn Thu Hà")


@pytest.fixture
def teammate(team):
    return UserFactory(role=Role.ACCOUNT_MANAGER, team=team, full_name="Trần Minh Khoa")


def signed_in(client, user):
    client.force_login(user)
    return client


def draft(owner, *lines, **header) -> Proposal:
    return proposal_with_lines(owner, lines=lines or [line("Key visual", price="10000000")], **header)


def url(proposal: Proposal, action: str = "") -> str:
    return f"/proposals/{proposal.pk}/{action + '/' if action else ''}"


def fresh(proposal: Proposal) -> Proposal:
    return Proposal.objects.get(pk=proposal.pk)


def line_data(proposal: Proposal, **fields) -> dict:
    data = {
        "description": "Social always-on",
        "department": "",
        "quantity": "2",
        "unit": "month",
        "unit_price": "5000000",
        "discount_percent": "0",
        "expected_revision": fresh(proposal).revision,
    }
    return {**data, **fields}


def totals_of(proposal: Proposal) -> tuple:
    proposal = fresh(proposal)
    return (proposal.subtotal, proposal.discount_amount, proposal.net_amount, proposal.vat_amount, proposal.total)


def with_recipient(proposal: Proposal):
    contact = ContactFactory(client=proposal.client, full_name="Lê Thị Hoa", email="hoa@bavi.vn")
    return contact


# --- The list ------------------------------------------------------------------------------------------------


def test_the_list_shows_the_latest_version_of_each_number_unless_all_are_asked_for(client, am):
    first = draft(am, title="Tết 2027")
    second = services.proposal_new_version(proposal=first, actor=am)
    other = draft(am, title="Always-on")
    signed_in(client, am)

    latest = client.get("/proposals/")
    every = client.get("/proposals/?versions=all")

    assert {proposal.pk for proposal in latest.context["page"]} == {second.pk, other.pk}
    assert {proposal.pk for proposal in every.context["page"]} == {first.pk, second.pk, other.pk}
    assert "2 proposals" in latest.content.decode()


@pytest.mark.parametrize(
    ("role", "sees"),
    [("owner", True), ("teammate", True), ("stranger", False), ("finance", True), ("director", True)],
)
def test_the_list_shows_the_proposals_each_role_may_see(client, am, teammate, role, sees):
    proposal = draft(am)
    users = {
        "owner": am,
        "teammate": teammate,
        "stranger": UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Sài Gòn")),
        "finance": UserFactory(role=Role.FINANCE),
        "director": UserFactory(role=Role.DIRECTOR),
    }
    signed_in(client, users[role])

    response = client.get("/proposals/")

    assert (proposal in response.context["page"].object_list) is sees


def test_the_list_filters_by_status_currency_client_and_words(client, am):
    tet = draft(am, title="Chiến dịch Tết")
    usd = draft(am, line("Landing page", price="2500"), title="Landing", currency="USD")
    other_client = draft(am, title="Tết again", client=ClientFactory(owner=am, name="Cà Phê Sơn La"))
    signed_in(client, am)

    def found(query):
        return {proposal.pk for proposal in client.get(f"/proposals/?{query}").context["page"]}

    assert found("currency=USD") == {usd.pk}
    assert found("q=tết") == {tet.pk, other_client.pk}
    assert found("q=son la") == {other_client.pk}
    assert found(f"client={tet.client_id}") == {tet.pk}
    assert found("status=sent") == set()
    assert found(f"q={usd.number}") == {usd.pk}


def test_the_list_totals_sum_each_currency_in_sql(client, am):
    draft(am, line("A", price="10000000"))
    draft(am, line("B", price="20000000", discount="10"))
    draft(am, line("C", price="1000.50"), currency="USD")
    signed_in(client, am)

    response = client.get("/proposals/")

    assert response.context["totals"] == [
        {"currency": "USD", "count": 1, "total": Decimal("1100.55"), "net": Decimal("1000.50")},
        {"currency": "VND", "count": 2, "total": Decimal("30800000.00"), "net": Decimal("28000000.00")},
    ]


def test_the_list_sorts_by_total_both_ways(client, am):
    small = draft(am, line("A", price="1000000"))
    large = draft(am, line("B", price="9000000"))
    signed_in(client, am)

    assert list(client.get("/proposals/?sort=total").context["page"]) == [small, large]
    assert list(client.get("/proposals/?sort=-total").context["page"]) == [large, small]


def test_the_list_answers_htmx_with_its_rows_only(client, am):
    draft(am)
    signed_in(client, am)

    response = client.get("/proposals/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="proposal-results")

    assert next(template.name for template in response.templates) == "proposals/_list_rows.html"


def test_the_list_query_count_does_not_grow(client, am, django_assert_num_queries):
    signed_in(client, am)

    def add(count):
        for _ in range(count):
            draft(am)

    add(2)
    # session, user, unread count and team (header); the owner filter's choices; count, page with client and
    # owner, totals per currency
    with django_assert_num_queries(8):
        client.get("/proposals/?versions=all")
    add(18)
    with django_assert_num_queries(8):
        response = client.get("/proposals/?versions=all")
    assert len(response.context["page"]) == 20


# --- Starting a proposal -------------------------------------------------------------------------------------


def test_an_account_manager_starts_a_blank_proposal_for_their_client(client, am):
    customer = ClientFactory(owner=am, billing_currency="USD")
    signed_in(client, am)

    response = client.post(
        "/proposals/new/", {"client": customer.pk, "title": "Regional launch", "language": "en", "currency": ""}
    )

    proposal = Proposal.objects.get()
    assert response.url == url(proposal)
    assert (proposal.client, proposal.owner, proposal.currency, proposal.status) == (customer, am, "USD", "draft")


def test_a_blank_proposal_is_only_for_a_client_the_user_may_change(client, am, teammate):
    signed_in(client, am)
    theirs = ClientFactory(owner=teammate)

    response = client.post("/proposals/new/", {"client": theirs.pk, "title": "Not mine", "language": "en"})

    assert response.status_code == 400
    assert "client" in response.context["form"].errors
    assert not Proposal.objects.exists()


def test_a_proposal_starts_from_a_brief(client, am):
    contact = ContactFactory(client=ClientFactory(owner=am), preferred_language="vi")
    brief = RequestFactory(client=contact.client, contact=contact, title="Tết 2027", description="Grow awareness.")
    signed_in(client, am)

    page = client.get(f"/proposals/new/?brief={brief.pk}")
    response = client.post("/proposals/new/", {"brief": brief.pk, "valid_until": ""})

    assert page.status_code == 200 and "Tết 2027" in page.content.decode()
    proposal = Proposal.objects.get()
    assert response.url == url(proposal)
    assert (proposal.brief, proposal.title, proposal.objectives, proposal.recipient, proposal.language) == (
        brief,
        "Tết 2027",
        "Grow awareness.",
        contact,
        "vi",
    )


def test_a_brief_the_user_may_not_see_is_not_found(client, am):
    brief = RequestFactory(client=ClientFactory(owner=UserFactory(team=TeamFactory(name="Đà Nẵng"))))
    signed_in(client, am)

    assert client.get(f"/proposals/new/?brief={brief.pk}").status_code == 404
    assert client.post("/proposals/new/", {"brief": brief.pk}).status_code == 404


def test_a_proposal_is_copied_to_another_client_without_its_links(client, am):
    source = draft(am, line("KV", price="45000000"), line("TVC", price="60000000", discount="10"))
    source.recipient = ContactFactory(client=source.client)
    source.save(update_fields=["recipient"])
    other = ClientFactory(owner=am)
    signed_in(client, am)

    response = client.post("/proposals/new/", {"copy": source.pk, "client": other.pk})

    copy = Proposal.objects.exclude(pk=source.pk).get()
    assert response.url == url(copy)
    assert (copy.client, copy.recipient, copy.number != source.number) == (other, None, True)
    assert [line.description for line in copy.lines.all()] == ["KV", "TVC"]
    assert copy.total == source.total


def test_finance_cannot_start_proposals(client):
    signed_in(client, UserFactory(role=Role.FINANCE))

    assert client.get("/proposals/new/").status_code == 403


# --- The page: who sees and who edits ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status", "editor"),
    [
        ("owner", 200, True),
        ("director", 200, True),
        ("teammate", 200, False),
        ("finance", 200, False),
        ("stranger", 404, False),
        ("sales", 404, False),
    ],
)
def test_the_page_opens_for_those_who_may_see_it_and_edits_for_those_who_may_change_it(
    client, am, teammate, role, status, editor
):
    proposal = draft(am)
    users = {
        "owner": am,
        "director": UserFactory(role=Role.DIRECTOR),
        "teammate": teammate,
        "finance": UserFactory(role=Role.FINANCE),
        "stranger": UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Sài Gòn")),
        "sales": UserFactory(role=Role.SALES, team=TeamFactory(name="Sales")),
    }
    signed_in(client, users[role])

    response = client.get(url(proposal))

    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert ('data-testid="line-add-form"' in html) is editor
        assert ('data-testid="header-form"' in html) is editor
        assert ('data-testid="send-form"' in html) is editor


@pytest.mark.parametrize("action", ["lines", "edit", "submit", "send", "new-version"])
def test_a_reader_who_may_not_change_the_proposal_is_refused(client, am, teammate, action):
    proposal = draft(am)
    signed_in(client, teammate)

    response = client.post(url(proposal, action), {"expected_revision": proposal.revision})

    assert response.status_code == 403
    assert fresh(proposal).revision == proposal.revision


def test_the_page_query_count_does_not_grow_with_lines(client, am, django_assert_num_queries):
    proposal = draft(am)
    ContactFactory(client=proposal.client)
    RateCardItemFactory()
    department = DepartmentFactory()
    signed_in(client, am)

    def add(count):
        for index in range(count):
            services.line_add(
                proposal=proposal,
                actor=am,
                description=f"Line {index}",
                department=department,
                unit_price=Decimal("1000000"),
            )

    add(1)
    # session, user, unread count and team (header); the proposal with its links; may change it; lines with
    # departments; rate card; may open the client; versions; events; the add form's departments; the header
    # form's deals, briefs and contacts; the send form's recipients (choices, and whether there are any)
    with django_assert_num_queries(17):
        client.get(url(proposal))
    add(18)
    with django_assert_num_queries(17):
        response = client.get(url(proposal))
    assert len(response.context["lines"]) == 20


# --- The inline editor ---------------------------------------------------------------------------------------


def test_adding_a_line_answers_htmx_with_the_lines_and_exact_totals(client, am):
    proposal = draft(am, line("Key visual", price="45000000"))
    signed_in(client, am)

    response = client.post(url(proposal, "lines"), line_data(proposal, discount_percent="10"), **HTMX)

    assert response.status_code == 200
    assert [item.description for item in fresh(proposal).lines.all()] == ["Key visual", "Social always-on"]
    # 45,000,000 + 2 × 5,000,000 × 90 % = 54,000,000 net; 1,000,000 discount; VAT 10 %
    assert totals_of(proposal) == (
        Decimal("55000000"),
        Decimal("1000000"),
        Decimal("54000000"),
        Decimal("5400000"),
        Decimal("59400000"),
    )
    html = response.content.decode()
    assert 'id="proposal-lines"' in html
    assert 'id="proposal-totals" aria-labelledby="totals-heading" data-testid="totals" hx-swap-oob="true"' in html
    assert "59,400,000 ₫" in html
    assert "Fifty-nine million, four hundred thousand dong" in html
    assert 'id="header-revision" hx-swap-oob="true"' in html


def test_a_plain_form_adding_a_line_comes_back_to_the_page(client, am):
    proposal = draft(am)
    signed_in(client, am)

    response = client.post(url(proposal, "lines"), line_data(proposal))

    assert response.status_code == 302 and response.url == f"{url(proposal)}#lines"
    assert fresh(proposal).lines.count() == 2


def test_a_line_without_a_description_shows_the_error_and_changes_nothing(client, am):
    proposal = draft(am)
    signed_in(client, am)

    response = client.post(url(proposal, "lines"), line_data(proposal, description=""), **HTMX)

    assert response.status_code == 400
    assert set(response.context["line_form"].errors) == {"description"}
    assert 'id="line-new-description_errors"' in response.content.decode()
    assert fresh(proposal).lines.count() == 1


def test_a_negative_price_is_refused_by_the_model_rules_on_the_form(client, am):
    proposal = draft(am)
    signed_in(client, am)

    response = client.post(url(proposal, "lines"), line_data(proposal, unit_price="-5"), **HTMX)

    assert response.status_code == 400
    assert set(response.context["line_form"].errors) == {"unit_price"}
    assert fresh(proposal).lines.count() == 1


def test_editing_a_line_in_place_opens_its_form_then_saves_and_recomputes(client, am):
    proposal = draft(am, line("Key visual", price="10000000"), line("TVC", price="20000000"))
    tvc = proposal.lines.get(description="TVC")
    signed_in(client, am)

    opened = client.get(f"{url(proposal)}?edit={tvc.pk}", **HTMX)
    saved = client.post(
        f"/proposals/lines/{tvc.pk}/",
        line_data(
            proposal, description="TVC 30s", quantity="1", unit="package", unit_price="20000000", discount_percent="25"
        ),
        **HTMX,
    )

    assert 'data-testid="line-edit-form"' in opened.content.decode()
    assert next(template.name for template in opened.templates) == "proposals/_lines.html"
    assert saved.status_code == 200
    tvc.refresh_from_db()
    assert (tvc.description, tvc.unit, tvc.discount_percent) == ("TVC 30s", "package", Decimal("25"))
    assert totals_of(proposal) == (
        Decimal("30000000"),
        Decimal("5000000"),
        Decimal("25000000"),
        Decimal("2500000"),
        Decimal("27500000"),
    )
    assert fresh(proposal).discount_percent == Decimal("16.67")
    assert 'data-testid="line-edit-form"' not in saved.content.decode()


def test_saving_a_line_answers_with_its_row_and_the_totals_out_of_band(client, am):
    proposal = draft(am, line("Key visual", price="10000000"), line("TVC", price="20000000"), line("Social"))
    tvc = proposal.lines.get(description="TVC")
    signed_in(client, am)

    saved = client.post(f"/proposals/lines/{tvc.pk}/", line_data(proposal, description="TVC 15s"), **HTMX)

    html = saved.content.decode()
    assert saved.status_code == 200
    assert (saved["HX-Retarget"], saved["HX-Reswap"]) == (f"#line-{tvc.pk}", "outerHTML")
    assert html.lstrip().startswith(f'<tr id="line-{tvc.pk}" data-testid="line">')
    assert '<td class="line-number">2</td>' in html and "TVC 15s" in html
    assert "Key visual" not in html and "Social" not in html  # the other rows are left as they are
    revision = fresh(proposal).revision
    assert 'id="proposal-totals" aria-labelledby="totals-heading" data-testid="totals" hx-swap-oob="true"' in html
    assert f'value="{revision}" hx-swap-oob="outerHTML:#proposal-lines input[name=\'expected_revision\']"' in html
    assert f'value="{revision}" id="header-revision" hx-swap-oob="true"' in html
    assert '<div id="editor-message" hx-swap-oob="true"></div>' in html


def test_saving_a_line_without_htmx_comes_back_to_the_page(client, am):
    proposal = draft(am, line("Key visual", price="10000000"))
    visual = proposal.lines.get()
    signed_in(client, am)

    response = client.post(f"/proposals/lines/{visual.pk}/", line_data(proposal, description="Key visual v2"))

    assert response.status_code == 302 and response["Location"] == f"{url(proposal)}#lines"
    assert fresh(proposal).lines.get().description == "Key visual v2"


def test_saving_a_line_takes_as_many_queries_for_20_lines_as_for_2(client, am, django_assert_num_queries):
    signed_in(client, am)

    def save_a_line(line_count: int):
        proposal = draft(am, *[line(f"Line {index}", price="1000000") for index in range(line_count)])
        target = proposal.lines.all()[line_count // 2]
        data = line_data(proposal, description="Changed", unit_price="2000000")
        # session and user; the line with its department; the proposal with its links; may the user change it;
        # in the service (savepoint, release): may the user change it, the proposal locked, the line, its update,
        # the lines for the totals, the totals' update, its audit history row; the proposal again; the lines' order;
        # the line with its department; the send form's recipients (choices, and whether any). The htmx answer has no
        # header: no unread count.
        with django_assert_num_queries(19):
            response = client.post(f"/proposals/lines/{target.pk}/", data, **HTMX)
        assert response.status_code == 200

    save_a_line(2)
    save_a_line(20)


def test_removing_a_line_recomputes_the_totals(client, am):
    proposal = draft(am, line("Key visual", price="10000000"), line("TVC", price="20000000"))
    signed_in(client, am)

    response = client.post(
        f"/proposals/lines/{proposal.lines.get(description='TVC').pk}/remove/",
        {"expected_revision": fresh(proposal).revision},
        **HTMX,
    )

    assert response.status_code == 200
    assert [item.description for item in fresh(proposal).lines.all()] == ["Key visual"]
    assert totals_of(proposal)[-1] == Decimal("11000000")


@pytest.mark.parametrize("htmx", [True, False])
def test_moving_a_line_up_or_down_reorders_the_lines(client, am, htmx):
    proposal = draft(am, line("A"), line("B"), line("C"))
    lines = {item.description: item for item in proposal.lines.all()}
    signed_in(client, am)
    headers = HTMX if htmx else {}

    client.post(
        f"/proposals/lines/{lines['C'].pk}/move/",
        {"direction": "up", "expected_revision": fresh(proposal).revision},
        **headers,
    )
    client.post(
        f"/proposals/lines/{lines['A'].pk}/move/",
        {"direction": "down", "expected_revision": fresh(proposal).revision},
        **headers,
    )
    client.post(
        f"/proposals/lines/{lines['B'].pk}/move/",
        {"direction": "up", "expected_revision": fresh(proposal).revision},
        **headers,
    )

    assert [item.description for item in fresh(proposal).lines.all()] == ["C", "B", "A"]


def test_lines_come_from_the_rate_card_in_the_proposals_currency(client, am):
    proposal = draft(am, line("Key visual", price="10000000"))
    planning = RateCardItemFactory(service="Media planning", unit="month", price=Decimal("25000000"))
    landing = RateCardItemFactory(service="Landing page", currency="USD", price=Decimal("2500"))
    signed_in(client, am)

    page = client.get(url(proposal))
    response = client.post(
        url(proposal, "lines/rate-card"),
        {"items": [planning.pk], "expected_revision": fresh(proposal).revision},
        **HTMX,
    )
    wrong = client.post(
        url(proposal, "lines/rate-card"), {"items": [landing.pk], "expected_revision": fresh(proposal).revision}, **HTMX
    )

    assert "Media planning" in page.content.decode() and "Landing page" not in page.content.decode()
    assert response.status_code == 200
    added = fresh(proposal).lines.get(description="Media planning")
    assert (added.unit, added.unit_price, added.department) == ("month", Decimal("25000000"), planning.department)
    assert totals_of(proposal)[0] == Decimal("35000000")
    assert wrong.status_code == 400
    assert fresh(proposal).lines.count() == 2


def test_a_stale_revision_is_refused_with_a_clear_message_and_the_current_lines(client, am):
    proposal = draft(am, line("Key visual", price="10000000"))
    seen = proposal.revision
    services.line_add(proposal=proposal, actor=am, description="Added meanwhile", unit_price=Decimal("1"))
    signed_in(client, am)

    response = client.post(url(proposal, "lines"), line_data(proposal, expected_revision=seen), **HTMX)

    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed this proposal first." in html
    assert "Added meanwhile" in html  # the current lines, to see what changed
    assert fresh(proposal).lines.count() == 2


@pytest.mark.parametrize("action", ["remove", "move"])
def test_a_stale_revision_is_refused_for_removing_and_moving_too(client, am, action):
    proposal = draft(am, line("A"), line("B"))
    seen = proposal.revision
    services.proposal_update(proposal=proposal, actor=am, title="Renamed meanwhile")
    target = proposal.lines.get(description="B")
    signed_in(client, am)

    response = client.post(
        f"/proposals/lines/{target.pk}/{action}/", {"expected_revision": seen, "direction": "up"}, **HTMX
    )

    assert response.status_code == 409
    assert [item.description for item in fresh(proposal).lines.all()] == ["A", "B"]


def test_the_header_saves_and_a_stale_header_is_refused(client, am):
    proposal = draft(am)
    deal = ContractFactory(client=proposal.client, owner=am)
    signed_in(client, am)
    data = {
        "title": "Tết 2027 — revised",
        "contract": deal.pk,
        "brief": "",
        "recipient": "",
        "language": "vi",
        "currency": "VND",
        "vat_rate": "8",
        "valid_until": proposal.valid_until.isoformat(),
        "objectives": "Awareness",
        "scope": "KV",
        "terms": "",
        "expected_revision": proposal.revision,
    }

    saved = client.post(url(proposal, "edit"), data)
    stale = client.post(url(proposal, "edit"), {**data, "title": "Overwrite"})

    assert saved.status_code == 302
    assert stale.status_code == 409
    assert "Someone else changed this proposal first." in stale.content.decode()
    proposal = fresh(proposal)
    assert (proposal.title, proposal.contract, proposal.vat_rate, proposal.vat_amount) == (
        "Tết 2027 — revised",
        deal,
        8,
        Decimal("800000"),
    )


def test_the_header_refuses_a_deal_of_another_client(client, am):
    proposal = draft(am)
    elsewhere = ContractFactory(client=ClientFactory(owner=am), owner=am)
    signed_in(client, am)

    response = client.post(
        url(proposal, "edit"),
        {
            "title": "T",
            "contract": elsewhere.pk,
            "language": "en",
            "currency": "VND",
            "vat_rate": "10",
            "valid_until": proposal.valid_until.isoformat(),
            "expected_revision": proposal.revision,
        },
    )

    assert response.status_code == 400
    assert "contract" in response.context["header_form"].errors
    assert fresh(proposal).contract is None


# --- Approval ------------------------------------------------------------------------------------------------


def test_a_large_discount_replaces_send_with_asking_a_director(client, am):
    proposal = draft(am, line("Launch event", price="100000000", discount="20"))
    with_recipient(proposal)
    signed_in(client, am)

    html = client.get(url(proposal)).content.decode()

    assert "Ask a director to approve (discount 20 % &gt; 15 %)" in html
    assert 'data-testid="send-form"' not in html


def test_the_approval_flow_on_the_pages(client, am, django_capture_on_commit_callbacks):
    director = UserFactory(role=Role.DIRECTOR, full_name="Trần Minh Đức")
    proposal = draft(am, line("Launch event", price="100000000", discount="20"))
    signed_in(client, am)

    asked = client.post(url(proposal, "submit"), {"expected_revision": proposal.revision, "note": "Retainer likely"})
    locked_page = client.get(url(proposal)).content.decode()
    refused_line = client.post(url(proposal, "lines"), line_data(proposal), **HTMX)
    not_mine = client.post(url(proposal, "approve"), {"expected_revision": fresh(proposal).revision})

    assert asked.status_code == 302 and fresh(proposal).status == "pending_approval"
    assert 'data-testid="lock-banner"' in locked_page and 'data-testid="line-add-form"' not in locked_page
    assert 'data-testid="approve-form"' not in locked_page
    assert refused_line.status_code == 400 and "locked while a director reviews it" in refused_line.content.decode()
    assert not_mine.status_code == 403

    signed_in(client, director)
    director_page = client.get(url(proposal)).content.decode()
    no_comment = client.post(url(proposal, "return"), {"expected_revision": fresh(proposal).revision, "note": " "})
    returned = client.post(
        url(proposal, "return"), {"expected_revision": fresh(proposal).revision, "note": "15 % at most"}
    )

    assert 'data-testid="approve-form"' in director_page and 'data-testid="return-form"' in director_page
    assert no_comment.status_code == 400 and "Tell the owner what to change." in no_comment.content.decode()
    assert returned.status_code == 302 and fresh(proposal).status == "draft"

    signed_in(client, am)
    client.post(url(proposal, "submit"), {"expected_revision": fresh(proposal).revision})
    signed_in(client, director)
    approved = client.post(url(proposal, "approve"), {"expected_revision": fresh(proposal).revision})

    assert approved.status_code == 302
    proposal = fresh(proposal)
    assert (proposal.status, proposal.approved_by, proposal.approved_discount) == ("approved", director, Decimal("20"))
    signed_in(client, am)
    page = client.get(url(proposal)).content.decode()
    assert 'data-testid="send-form"' in page and "Approved by Trần Minh Đức" in page
    assert list(proposal.events.order_by("created_at", "id").values_list("kind", "actor", "note")) == [
        ("created", am.pk, ""),
        ("submitted", am.pk, "Retainer likely"),
        ("returned", director.pk, "15 % at most"),
        ("submitted", am.pk, ""),
        ("approved", director.pk, ""),
    ]
    assert "15 % at most" in page  # the history shows who did what


def test_an_approval_on_a_stale_page_is_refused(client, am):
    director = UserFactory(role=Role.DIRECTOR)
    proposal = draft(am, line("Launch event", price="100000000", discount="20"))
    services.proposal_submit(proposal=proposal, actor=am)
    seen = fresh(proposal).revision
    services.proposal_return(proposal=proposal, actor=director, note="No")
    services.proposal_submit(proposal=proposal, actor=am)
    signed_in(client, director)

    response = client.post(url(proposal, "approve"), {"expected_revision": seen})

    assert response.status_code == 409
    assert fresh(proposal).status == "pending_approval"


# --- Sending -------------------------------------------------------------------------------------------------


def test_sending_needs_a_contact_of_the_client_with_an_e_mail(client, am):
    proposal = draft(am)
    no_email = ContactFactory(client=proposal.client, email="")
    elsewhere = ContactFactory(client=ClientFactory(owner=am))
    signed_in(client, am)

    missing = client.post(url(proposal, "send"), {"expected_revision": proposal.revision, "recipient": ""})
    without_email = client.post(
        url(proposal, "send"), {"expected_revision": proposal.revision, "recipient": no_email.pk}
    )
    other_client = client.post(
        url(proposal, "send"), {"expected_revision": proposal.revision, "recipient": elsewhere.pk}
    )

    for response in (missing, without_email, other_client):
        assert response.status_code == 400
        assert "recipient" in response.context["send_form"].errors
    assert "Choose a contact of this client with an e-mail address." in missing.content.decode()
    assert fresh(proposal).status == "draft"


def test_sending_without_lines_or_past_validity_is_refused_on_the_form(client, am):
    proposal = proposal_with_lines(am)
    contact = with_recipient(proposal)
    signed_in(client, am)

    response = client.post(url(proposal, "send"), {"expected_revision": proposal.revision, "recipient": contact.pk})

    assert response.status_code == 400
    assert "Add at least one line before sending." in response.content.decode()


def test_sending_shows_the_link_and_the_recipient(client, am, django_capture_on_commit_callbacks):
    proposal = draft(am)
    contact = with_recipient(proposal)
    signed_in(client, am)

    with django_capture_on_commit_callbacks():
        response = client.post(url(proposal, "send"), {"expected_revision": proposal.revision, "recipient": contact.pk})

    assert response.status_code == 302
    proposal = fresh(proposal)
    assert (proposal.status, proposal.recipient) == ("sent", contact)
    page = client.get(url(proposal)).content.decode()
    token = re.search(r"/p/([^/\"]+)/", page).group(1)
    assert services.proposal_for_token(token) == proposal  # the page shows a signed link to this proposal
    assert "hoa@bavi.vn" in page and "Not yet" in page  # not viewed yet
    assert "Send again (new link)" in page


# --- Versions ------------------------------------------------------------------------------------------------


def test_a_new_version_keeps_the_old_one_read_only_and_shows_what_changed(client, am):
    proposal = draft(am, line("Key visual", price="45000000"), line("TVC", price="60000000"), line("Copy", price="5"))
    signed_in(client, am)

    response = client.post(url(proposal, "new-version"), {"expected_revision": proposal.revision})

    second = Proposal.objects.get(number=proposal.number, version=2)
    assert response.url == url(second)
    tvc = second.lines.get(description="TVC")
    services.line_update(line=tvc, actor=am, quantity=Decimal("2"), discount_percent=Decimal("10"))
    services.line_remove(line=second.lines.get(description="Copy"), actor=am)
    services.line_add(proposal=second, actor=am, description="Social", unit_price=Decimal("30000000"))

    page = client.get(url(second))
    old = client.get(url(proposal)).content.decode()

    changes = page.context["changes"]
    assert [(change.kind, change.description) for change in changes.lines] == [
        ("changed", "TVC"),
        ("added", "Social"),
        ("removed", "Copy"),
    ]
    assert changes.lines[0].before["quantity"] == Decimal("1") and changes.lines[0].after["quantity"] == Decimal("2")
    assert [(total.key, total.before, total.after) for total in changes.totals][-1] == (
        "total",
        Decimal("115500006"),
        Decimal("201300000"),
    )
    assert 'data-testid="superseded-banner"' in old and 'data-testid="line-add-form"' not in old
    assert [version.version for version in page.context["versions"]] == [1, 2]


def test_a_new_version_from_a_stale_page_is_refused(client, am):
    proposal = draft(am)
    seen = proposal.revision
    services.proposal_update(proposal=proposal, actor=am, title="Renamed meanwhile")
    signed_in(client, am)

    response = client.post(url(proposal, "new-version"), {"expected_revision": seen}, follow=True)

    assert "Someone else changed this proposal first." in response.content.decode()
    assert Proposal.objects.filter(number=proposal.number).count() == 1


def test_the_new_version_button_is_there_for_sent_declined_and_expired_proposals(client, am):
    proposal = draft(am)
    signed_in(client, am)
    assert 'data-testid="new-version-form"' not in client.get(url(proposal)).content.decode()

    Proposal.objects.filter(pk=proposal.pk).update(status="expired")

    assert 'data-testid="new-version-form"' in client.get(url(proposal)).content.decode()


# --- What changed (selector) ---------------------------------------------------------------------------------


def _line(description, department=None, **values):
    fields = {"quantity": Decimal("1"), "unit": "item", "unit_price": Decimal("100"), "discount_percent": Decimal("0")}
    item = LineItem(description=description, department=department, **{**fields, **values})
    return item


def test_line_changes_pair_lines_by_description_and_department():
    creative, media = DepartmentFactory(name="Creative"), DepartmentFactory(name="Media")
    before = [
        _line("Key visual", creative),
        _line("Planning", media, quantity=Decimal("3"), unit="month"),
        _line("Copywriting", creative),
    ]
    after = [
        _line("key  visual", creative),  # spacing and case do not matter
        _line("Planning", media, quantity=Decimal("6"), unit="month", unit_price=Decimal("90")),
        _line("Copywriting", media),  # another department: a different line
    ]

    changes = selectors.line_changes(before, after)

    assert [(change.kind, change.description, change.department) for change in changes] == [
        ("changed", "Planning", "Media"),
        ("added", "Copywriting", "Media"),
        ("removed", "Copywriting", "Creative"),
    ]
    planning = changes[0]
    assert planning.changed == ("quantity", "unit_price")
    assert (planning.before["quantity"], planning.after["quantity"]) == (Decimal("3"), Decimal("6"))
    assert (planning.before["unit_price"], planning.after["unit_price"]) == (Decimal("100"), Decimal("90"))


def test_line_changes_pair_repeated_lines_in_order_and_report_the_extra_ones():
    before = [_line("Post"), _line("Post", quantity=Decimal("2"))]
    after = [_line("Post"), _line("Post", quantity=Decimal("5")), _line("Post", discount_percent=Decimal("5"))]

    changes = selectors.line_changes(before, after)

    assert [(change.kind, change.changed) for change in changes] == [("changed", ("quantity",)), ("added", ())]


def test_a_unit_change_shows_in_the_quantity_column():
    changes = selectors.line_changes([_line("Planning", unit="day")], [_line("Planning", unit="month")])

    assert changes[0].changed == ("unit",) and changes[0].changed_columns == {"quantity"}
    assert changes[0].after["unit_label"] == "month"


def test_version_changes_compare_the_stored_totals_and_the_header(am):
    first = draft(am, line("A", price="100"))
    second = services.proposal_new_version(proposal=first, actor=am)
    services.proposal_update(proposal=second, actor=am, vat_rate=8, title="New title")

    changes = selectors.version_changes(fresh(first), fresh(second))

    assert changes.lines == [] and changes.has_changes
    assert changes.header == ["title", "VAT rate (%)"]
    assert [(total.key, total.delta) for total in changes.totals] == [
        ("subtotal", 0),
        ("discount_amount", 0),
        ("net_amount", 0),
        ("vat_amount", Decimal("-2")),
        ("total", Decimal("-2")),
    ]


# --- The PDF -------------------------------------------------------------------------------------------------


def test_the_pdf_of_a_proposal_the_user_may_not_see_is_not_found(client, am):
    proposal = draft(am)
    signed_in(client, UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Huế")))

    assert client.get(url(proposal, "pdf")).status_code == 404
    assert client.get(url(proposal, "pdf/status")).status_code == 404
    assert client.post(url(proposal, "pdf/request")).status_code == 404


# --- The admin -----------------------------------------------------------------------------------------------


def test_administrators_keep_the_rate_card_and_only_read_proposals_in_the_admin(client, am):
    proposal = draft(am)
    item = RateCardItemFactory(service="Copywriting", price=Decimal("4500000"))
    signed_in(client, UserFactory(role=Role.ADMIN))

    changed = client.post(
        f"/admin/proposals/ratecarditem/{item.pk}/change/",
        {
            "department": item.department_id,
            "service": "Copywriting",
            "unit": "day",
            "currency": "VND",
            "price": "5000000",
            "is_active": "on",
        },
    )

    assert changed.status_code == 302
    item.refresh_from_db()
    assert item.price == Decimal("5000000")
    assert client.get("/admin/proposals/proposal/add/").status_code == 403
    page = client.get(f"/admin/proposals/proposal/{proposal.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert "Key visual" in page.content.decode()  # its lines, read-only
