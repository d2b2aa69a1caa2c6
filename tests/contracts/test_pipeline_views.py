"""Pages of the shared pipeline: the board, moves (page, no-script form, drag-and-drop), list, export, terms."""

import csv
import datetime
import functools
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from contracts import selectors
from contracts.models import Contract, StageChange
from tests.factories import ActiveContractFactory, ClientFactory, ContractFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "board"}


@pytest.fixture
def team():
    return TeamFactory(name="Hà Nội")


@pytest.fixture
def am(team):
    return UserFactory(role=Role.ACCOUNT_MANAGER, team=team, full_name="Nguyễn Thu Hà")


def signed_in(client, user):
    client.force_login(user)
    return client


def deal(owner, **fields) -> Contract:
    """A deal of a client the owner owns (the factory's default), with the stage's probability."""
    stage = fields.setdefault("stage", "draft")
    fields.setdefault("probability", {"draft": 10, "negotiation": 40, "awaiting_signature": 80}.get(stage, 100))
    if "client" not in fields:
        fields["client"] = ClientFactory(owner=owner)
    return ContractFactory(owner=owner, **fields)


def columns_of(response) -> dict:
    return {column["stage"]: column for column in response.context["columns"]}


def card_html(html: str, contract: Contract) -> str:
    """One card of the board's HTML: from its id to the next card or the end of its column."""
    start = html.index(f'id="deal-{contract.pk}"')
    start = html.rindex("<li", 0, start)
    ends = [html.find(marker, start + 10) for marker in ('<li class="deal-card', "</ol>")]
    return html[start : min(end for end in ends if end > 0)]


def cards_in(response, stage: str) -> list[str]:
    return [contract.title for contract in columns_of(response)[stage]["deals"]]


# --- The board ----------------------------------------------------------------------------------------------


def test_board_columns_show_count_total_and_weighted_value_per_currency(client, am):
    deal(am, title="Tết TVC", value=Decimal("100000000"))
    deal(am, title="Social always-on", value=Decimal("50000000"))
    deal(am, title="Regional launch", value=Decimal("10000"), currency="USD")
    deal(am, title="KOL campaign", stage="negotiation", value=Decimal("200000000"))
    ActiveContractFactory(client=ClientFactory(owner=am), value=Decimal("999000000"))  # signed: not on the board
    signed_in(client, am)

    response = client.get("/pipeline/")

    columns = columns_of(response)
    assert [columns[stage]["count"] for stage in ("draft", "negotiation", "awaiting_signature")] == [3, 1, 0]
    assert columns["draft"]["totals"] == [
        {"currency": "VND", "total": Decimal("150000000"), "weighted": Decimal("15000000")},
        {"currency": "USD", "total": Decimal("10000"), "weighted": Decimal("1000")},
    ]
    assert columns["negotiation"]["totals"] == [
        {"currency": "VND", "total": Decimal("200000000"), "weighted": Decimal("80000000")}
    ]
    assert columns["awaiting_signature"]["totals"] == []
    html = response.content.decode()
    for text in ("150,000,000 ₫", "15,000,000 ₫", "10,000.00 USD", "1,000.00 USD", "80,000,000 ₫", "3 deals"):
        assert text in html
    assert "999,000,000" not in html


def test_cards_show_client_title_value_owner_close_and_days_in_stage(client, am):
    record = deal(
        am,
        title="Tết TVC",
        client=ClientFactory(owner=am, name="Sữa Tươi Ba Vì"),
        expected_close=datetime.date(2031, 1, 15),
        stage_changed_at=timezone.now() - datetime.timedelta(days=3, hours=1),
    )
    signed_in(client, am)

    html = client.get("/pipeline/").content.decode()

    card = card_html(html, record)
    for text in ("Sữa Tươi Ba Vì", "Tết TVC", "250,000,000 ₫", "Nguyễn Thu Hà", "15/01/2031", "3 days in stage"):
        assert text in card


def test_deals_idle_longer_than_the_stage_allows_are_marked_with_a_border_and_a_label(client, am, settings):
    settings.ACCORD_PIPELINE_IDLE_DAYS = {"draft": 14, "negotiation": 30, "awaiting_signature": 14}
    long_ago = timezone.now() - datetime.timedelta(days=20)
    stale = deal(am, title="Stale draft", stage_changed_at=long_ago)
    patient = deal(am, title="Slow negotiation", stage="negotiation", stage_changed_at=long_ago)
    fresh = deal(am, title="Fresh draft")
    signed_in(client, am)

    html = client.get("/pipeline/").content.decode()

    def card(contract):
        return card_html(html, contract)

    assert "is-idle" in card(stale) and "Idle: no move for over 14 days" in card(stale)
    assert "is-idle" not in card(patient) and "Idle" not in card(patient)  # negotiation allows 30 days
    assert "is-idle" not in card(fresh) and "Idle" not in card(fresh)


def test_board_filters_by_owner_team_client_kind_currency_and_close_month(client, am, team):
    colleague = UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Sài Gòn"))
    shop = ClientFactory(owner=am, name="Sữa Tươi Ba Vì")
    deal(am, title="Mine", client=shop, expected_close=datetime.date(2026, 12, 10))
    deal(am, title="Upsell", kind="upsell", currency="USD", expected_close=datetime.date(2027, 1, 5))
    deal(colleague, title="Theirs", expected_close=datetime.date(2026, 12, 20))
    signed_in(client, UserFactory(role=Role.DIRECTOR))

    def titles(query):
        response = client.get(f"/pipeline/?{query}")
        return sorted(title for stage in columns_of(response) for title in cards_in(response, stage))

    assert titles("") == ["Mine", "Theirs", "Upsell"]
    assert titles(f"owner={colleague.pk}") == ["Theirs"]
    assert titles(f"team={team.pk}") == ["Mine", "Upsell"]
    assert titles(f"client={shop.pk}") == ["Mine"]
    assert titles("kind=upsell") == ["Upsell"]
    assert titles("currency=USD") == ["Upsell"]
    assert titles("close_month=2026-12") == ["Mine", "Theirs"]
    assert "Sữa Tươi Ba Vì" in client.get(f"/pipeline/?client={shop.pk}").content.decode()  # the client's chip


def test_htmx_filtering_answers_the_board_only(client, am):
    deal(am, title="Mine")
    signed_in(client, am)

    response = client.get("/pipeline/?kind=new_business", headers=HTMX)

    html = response.content.decode()
    assert "Mine" in html and "<html" not in html and 'data-testid="pipeline-board"' in html


def test_a_column_with_more_deals_than_shown_links_to_the_list(client, am, monkeypatch):
    monkeypatch.setattr(selectors, "pipeline_columns", functools.partial(selectors.pipeline_columns, cards=2))
    for number in range(3):
        deal(am, title=f"Deal {number}", kind="upsell")
    signed_in(client, am)

    response = client.get("/pipeline/?kind=upsell")

    column = columns_of(response)["draft"]
    assert (column["count"], len(column["deals"]), column["hidden"]) == (3, 2, 1)
    assert 'href="/contracts/?stage=draft&amp;kind=upsell"' in response.content.decode()
    assert "1 more in the list" in response.content.decode()


def test_board_query_count_does_not_grow_with_deals(client, am, django_assert_num_queries):
    signed_in(client, am)

    def add(count):
        for number in range(count):
            deal(am, stage=("draft", "negotiation", "awaiting_signature")[number % 3])

    add(2)
    # session, user, unread count, team (header); totals per stage and currency; the cards of each of the three
    # columns; which cards the user may move; the owner and team choices of the filter form
    with django_assert_num_queries(12):  # with the revision its cached sums are kept under
        client.get("/pipeline/")
    add(18)
    with django_assert_num_queries(12):  # with the revision its cached sums are kept under
        response = client.get("/pipeline/")
    assert sum(column["count"] for column in response.context["columns"]) == 20


# --- Moving a deal --------------------------------------------------------------------------------------------


def test_the_board_form_moves_a_deal_and_returns_to_the_filtered_board(client, am):
    record = deal(am)
    signed_in(client, am)

    response = client.post(
        f"/contracts/{record.pk}/move/",
        {"stage": "negotiation", "version": "1", "from": "board", "next": "/pipeline/?kind=new_business"},
    )

    assert response.status_code == 302 and response.url == "/pipeline/?kind=new_business"
    record.refresh_from_db()
    assert (record.stage, record.probability, record.version) == ("negotiation", 40, 2)
    change = StageChange.objects.get(contract=record)
    assert (change.source, change.target, change.actor) == ("draft", "negotiation", am)
    followed = client.get(response.url)
    assert f"{record.number} moved to Negotiation." in followed.content.decode()


def test_the_board_form_refuses_a_forbidden_move_with_a_message_and_changes_nothing(client, am):
    record = deal(am)
    signed_in(client, am)

    response = client.post(
        f"/contracts/{record.pk}/move/", {"stage": "expired", "version": "1", "from": "board"}, follow=True
    )

    assert response.redirect_chain == [("/pipeline/", 302)]
    assert "A contract cannot go from Draft to Expired." in response.content.decode()
    record.refresh_from_db()
    assert (record.stage, record.version) == ("draft", 1)
    assert not StageChange.objects.exists()


@pytest.mark.parametrize("stage", ["lost", "active"])
def test_the_board_form_sends_lost_and_signed_to_the_move_page(client, am, stage):
    record = deal(am, stage="awaiting_signature")
    signed_in(client, am)

    response = client.post(
        f"/contracts/{record.pk}/move/", {"stage": stage, "version": "1", "from": "board", "next": "/pipeline/"}
    )

    assert response.status_code == 302
    assert response.url == f"/contracts/{record.pk}/move/?stage={stage}&next=%2Fpipeline%2F"
    page = client.get(response.url)
    assert page.context["form"]["stage"].value() == stage
    assert Contract.objects.get(pk=record.pk).stage == "awaiting_signature"


def test_the_card_offers_the_allowed_moves_only(client, am):
    record = deal(am, stage="negotiation")
    signed_in(client, am)

    html = client.get("/pipeline/").content.decode()

    select = html[html.index(f'id="move-{record.pk}"') :]
    select = select[: select.index("</select>")]
    assert [line.split('value="')[1].split('"')[0] for line in select.split("<option")[1:]] == [
        "draft",
        "awaiting_signature",
        "active",
        "lost",
    ]
    assert "Lost…" in select and "Active…" in select


def test_the_move_page_refuses_a_forbidden_move_on_the_form(client, am):
    record = deal(am)
    signed_in(client, am)

    response = client.post(f"/contracts/{record.pk}/move/", {"stage": "active", "version": "1"})

    assert response.status_code == 400
    form = response.context["form"]
    assert form.non_field_errors() == ["A contract cannot go from Draft to Active."]
    assert form.errors["stage"] == ["Not allowed from here."]
    assert Contract.objects.get(pk=record.pk).stage == "draft"


def test_signing_needs_the_signature_date_start_and_end(client, am):
    record = deal(am, stage="awaiting_signature")
    signed_in(client, am)

    response = client.post(f"/contracts/{record.pk}/move/", {"stage": "active", "version": "1"})

    assert response.status_code == 400
    form = response.context["form"]
    assert {name: form.errors[name] for name in ("signed_at", "start_date", "end_date")} == {
        "signed_at": ["Required."],
        "start_date": ["Required."],
        "end_date": ["Required."],
    }
    assert Contract.objects.get(pk=record.pk).stage == "awaiting_signature"


def test_signing_with_the_dates_makes_the_contract_active(client, am):
    record = deal(am, stage="awaiting_signature")
    signed_in(client, am)

    response = client.post(
        f"/contracts/{record.pk}/move/",
        {
            "stage": "active",
            "version": "1",
            "signed_at": "2026-09-30T23:30",
            "start_date": "2026-10-01",
            "end_date": "2027-09-30",
            "lost_reason": "ignored for a signature",
            "note": "Signed at the client's office",
        },
    )

    assert response.status_code == 302 and response.url == f"/contracts/{record.pk}/"
    record.refresh_from_db()
    assert (record.stage, record.probability, record.start_date, record.end_date, record.lost_reason) == (
        "active",
        100,
        datetime.date(2026, 10, 1),
        datetime.date(2027, 9, 30),
        "",
    )
    assert timezone.localtime(record.signed_at).strftime("%Y-%m-%d %H:%M") == "2026-09-30 23:30"
    assert StageChange.objects.get(contract=record).note == "Signed at the client's office"


def test_losing_a_deal_needs_a_reason(client, am):
    record = deal(am, stage="negotiation")
    signed_in(client, am)

    refused = client.post(f"/contracts/{record.pk}/move/", {"stage": "lost", "version": "1", "lost_reason": " "})
    accepted = client.post(
        f"/contracts/{record.pk}/move/", {"stage": "lost", "version": "1", "lost_reason": "Budget cut for Q4"}
    )

    assert refused.status_code == 400
    assert refused.context["form"].errors["lost_reason"] == ["Say why the deal was lost."]
    assert accepted.status_code == 302
    record.refresh_from_db()
    assert (record.stage, record.probability, record.lost_reason) == ("lost", 0, "Budget cut for Q4")


def test_a_stale_move_is_refused_with_the_conflict_message(client, am):
    record = deal(am)
    signed_in(client, am)
    client.post(f"/contracts/{record.pk}/move/", {"stage": "negotiation", "version": "1"})

    response = client.post(f"/contracts/{record.pk}/move/", {"stage": "awaiting_signature", "version": "1"})

    assert response.status_code == 409
    assert "Someone else moved or changed this contract first." in response.content.decode()
    record.refresh_from_db()
    assert (record.stage, record.version) == ("negotiation", 2)


def test_drag_and_drop_moves_with_htmx_and_answers_the_filtered_board(client, am):
    record = deal(am, title="Tết TVC")
    deal(am, title="Upsell elsewhere", kind="upsell")
    signed_in(client, am)

    response = client.post(
        f"/contracts/{record.pk}/move/?kind=new_business", {"stage": "negotiation", "version": "1"}, headers=HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'data-testid="pipeline-board"' in html
    assert cards_in(response, "negotiation") == ["Tết TVC"]
    assert cards_in(response, "draft") == []  # the filter of the board travelled with the move
    assert Contract.objects.get(pk=record.pk).stage == "negotiation"


def test_a_refused_drag_and_drop_answers_the_message_for_the_alert_region(client, am):
    record = deal(am)
    signed_in(client, am)

    forbidden = client.post(f"/contracts/{record.pk}/move/", {"stage": "renewed", "version": "1"}, headers=HTMX)
    stale = client.post(f"/contracts/{record.pk}/move/", {"stage": "negotiation", "version": "7"}, headers=HTMX)

    assert (forbidden.status_code, forbidden["Content-Type"]) == (400, "text/plain; charset=utf-8")
    assert forbidden.content.decode() == "A contract cannot go from Draft to Renewed."
    assert stale.status_code == 409
    assert stale.content.decode() == "Someone else moved or changed this contract first. Reload to see it."
    assert Contract.objects.get(pk=record.pk).stage == "draft"


def test_the_move_page_of_an_ended_contract_offers_no_move(client, am):
    record = deal(am, stage="lost", probability=0)
    signed_in(client, am)

    response = client.get(f"/contracts/{record.pk}/move/")

    assert response.status_code == 200
    assert "it cannot move to another stage" in response.content.decode()
    assert 'data-testid="move-form"' not in response.content.decode()


# --- Who sees and moves what ----------------------------------------------------------------------------------

PAGES = ["/contracts/{pk}/edit/", "/contracts/{pk}/move/"]
# Expected status per page above, for (role, whose deal): 200 opens, 403 seen but not allowed, 404 invisible.
MATRIX = {
    ("account_manager", "own"): [200, 200],
    ("account_manager", "team"): [403, 403],
    ("account_manager", "other"): [404, 404],
    ("sales", "own"): [200, 200],
    ("sales", "other"): [403, 403],
    ("finance", "other"): [403, 403],
    ("director", "other"): [200, 200],
    ("admin", "other"): [200, 200],
}


@pytest.mark.parametrize(("role", "whose"), list(MATRIX))
def test_permission_matrix(client, team, role, whose):
    user = UserFactory(role=role, team=team)
    owner = {"own": user, "team": UserFactory(team=team), "other": UserFactory(team=TeamFactory(name="Sài Gòn"))}[whose]
    record = deal(owner, title="The deal")
    signed_in(client, user)

    statuses = [client.get(page.format(pk=record.pk)).status_code for page in PAGES]
    posted = client.post(f"/contracts/{record.pk}/move/", {"stage": "negotiation", "version": "1"}).status_code
    board = client.get("/pipeline/")

    assert statuses == MATRIX[(role, whose)]
    assert posted == {200: 302}.get(statuses[1], statuses[1])
    assert Contract.objects.get(pk=record.pk).stage == ("negotiation" if posted == 302 else "draft")
    on_board = [contract.pk for column in board.context["columns"] for contract in column["deals"]]
    assert on_board == ([] if statuses[0] == 404 else [record.pk])


def test_sales_sees_the_whole_pipeline_but_moves_only_its_deals_and_its_clients_deals(client):
    sales = UserFactory(role=Role.SALES)
    other_am = UserFactory(role=Role.ACCOUNT_MANAGER)
    own_deal = deal(sales, title="Own deal")
    own_client_deal = deal(other_am, title="Deal for my client", client=ClientFactory(owner=sales))
    someone_elses = deal(other_am, title="Someone else's")
    ActiveContractFactory(client=ClientFactory(owner=other_am), title="Signed elsewhere")
    signed_in(client, sales)

    response = client.get("/pipeline/")
    listed = [contract.title for contract in client.get("/contracts/").context["page"].object_list]

    movable = {contract.title: contract.can_move for contract in columns_of(response)["draft"]["deals"]}
    assert movable == {"Own deal": True, "Deal for my client": True, "Someone else's": False}
    html = response.content.decode()
    assert f'id="move-{own_deal.pk}"' in html and f'id="move-{own_client_deal.pk}"' in html
    assert f'id="move-{someone_elses.pk}"' not in html
    assert html.count('draggable="true"') == 2
    assert "Signed elsewhere" not in listed and len(listed) == 3


def test_finance_reads_the_board_without_move_controls(client, am):
    deal(am, title="Tết TVC")
    signed_in(client, UserFactory(role=Role.FINANCE))

    html = client.get("/pipeline/").content.decode()

    assert "Tết TVC" in html and 'class="deal-move"' not in html and 'draggable="true"' not in html
    assert "New deal" not in html
    assert client.get("/contracts/new/").status_code == 403


# --- Contract list and export ---------------------------------------------------------------------------------


def test_list_filters_searches_and_sorts(client, am):
    deal(am, title="Tết TVC", value=Decimal("300000000"), client=ClientFactory(owner=am, name="Sữa Tươi Ba Vì"))
    deal(am, title="Social always-on", stage="negotiation", value=Decimal("100000000"))
    ActiveContractFactory(client=ClientFactory(owner=am, name="Ngân hàng Phương Nam"), title="Retainer 2026")
    signed_in(client, am)

    def titles(query):
        return [contract.title for contract in client.get(f"/contracts/?{query}").context["page"].object_list]

    assert titles("q=sua tuoi") == ["Tết TVC"]  # a client's name, without diacritics
    assert titles("q=TVC") == ["Tết TVC"]
    assert titles("stage=active") == ["Retainer 2026"]
    assert titles("stage=negotiation") == ["Social always-on"]
    assert titles("sort=value") == ["Social always-on", "Retainer 2026", "Tết TVC"]
    assert titles("sort=-value") == ["Tết TVC", "Retainer 2026", "Social always-on"]
    assert titles("sort=stage") == ["Tết TVC", "Social always-on", "Retainer 2026"]
    assert titles("sort=client") == ["Social always-on", "Retainer 2026", "Tết TVC"]  # Công ty, Ngân hàng, Sữa


def test_list_shows_the_columns_and_pages_by_25(client, am):
    record = deal(am, title="Tết TVC", stage="negotiation", expected_close=datetime.date(2026, 12, 10))
    for _ in range(25):
        deal(am)
    signed_in(client, am)

    first = client.get("/contracts/?sort=number")
    second = client.get("/contracts/?sort=number&page=2")

    assert len(first.context["page"].object_list) == 25 and len(second.context["page"].object_list) == 1
    html = first.content.decode()
    row = html[html.index(f'href="/contracts/{record.pk}/"') :]
    row = row[: row.index("</tr>")]
    for text in (record.number, "Tết TVC", record.client.name, "Negotiation", "250,000,000 ₫", "100,000,000 ₫"):
        assert text in row
    assert "Nguyễn Thu Hà" in row and "10/12/2026" in row
    assert 'aria-sort="ascending"' in html


def test_list_query_count_does_not_grow_with_rows(client, am, django_assert_num_queries):
    signed_in(client, am)
    for _ in range(2):
        deal(am)
    # session, user, unread count, team (header); count, page of contracts with client, owner and team;
    # the owner and team choices of the filter form
    with django_assert_num_queries(9):  # with the revision its cached count is kept under
        client.get("/contracts/")
    for _ in range(18):
        deal(am)
    with django_assert_num_queries(9):  # with the revision its cached count is kept under
        response = client.get("/contracts/")
    assert len(response.context["page"].object_list) == 20


def test_htmx_filtering_answers_the_rows_only(client, am):
    deal(am, title="Tết TVC")
    signed_in(client, am)

    response = client.get("/contracts/?q=TVC", headers={"HX-Request": "true", "HX-Target": "contract-results"})

    assert "Tết TVC" in response.content.decode() and "<html" not in response.content.decode()


def test_csv_export_of_the_filtered_list_with_formulas_defused(client, am, team):
    shop = ClientFactory(owner=am, name="Sữa Tươi Ba Vì")
    record = deal(
        am,
        client=shop,
        title='=HYPERLINK("http://evil.example")',
        stage="negotiation",
        value=Decimal("120000000"),
        expected_close=datetime.date(2026, 12, 10),
    )
    deal(am, title="Other", kind="upsell")
    signed_in(client, am)

    response = client.get("/contracts/export.csv?kind=new_business")

    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff") and "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert rows == [
        [
            "Number",
            "Title",
            "Client",
            "Stage",
            "Kind",
            "Value",
            "Currency",
            "Probability (%)",
            "Weighted value",
            "Owner",
            "Team",
            "Expected close",
            "Signed",
            "Start",
            "End",
        ],
        [
            record.number,
            '\'=HYPERLINK("http://evil.example")',
            "Sữa Tươi Ba Vì",
            "Negotiation",
            "New business",
            "120000000",
            "VND",
            "40",
            "48000000",
            "Nguyễn Thu Hà",
            "Hà Nội",
            "2026-12-10",
            "",
            "",
            "",
        ],
    ]


def test_export_shows_only_what_the_user_may_see(client, am):
    deal(am, title="Mine")
    deal(UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Sài Gòn")), title="Theirs")
    signed_in(client, am)

    content = b"".join(client.get("/contracts/export.csv").streaming_content).decode("utf-8-sig")

    assert [row[1] for row in csv.reader(io.StringIO(content))][1:] == ["Mine"]


# --- Create and edit ------------------------------------------------------------------------------------------

TERMS = {
    "title": "Chiến dịch Tết 2027",
    "kind": "new_business",
    "value": "250000000",
    "currency": "VND",
    "budget": "150000000",
    "billing_schedule": "milestones",
    "payment_terms_days": "30",
    "expected_close": "2026-12-15",
    "notice_days": "30",
    "scope": "TVC, social, KOLs",
}


def test_an_account_manager_creates_a_deal_for_a_client_it_owns(client, am, team):
    own = ClientFactory(owner=am, name="Sữa Tươi Ba Vì", billing_currency="USD")
    team_client = ClientFactory(owner=UserFactory(team=team), name="Team client")
    signed_in(client, am)

    page = client.get(f"/contracts/new/?client={own.pk}")
    refused = client.post("/contracts/new/", {**TERMS, "client": team_client.pk})
    response = client.post("/contracts/new/", {**TERMS, "client": own.pk})

    form = page.context["form"]
    assert list(form.fields["client"].queryset) == [own]
    assert (form["client"].value(), form["currency"].value()) == (own.pk, "USD")
    assert "owner" not in form.fields
    assert refused.status_code == 400 and "client" in refused.context["form"].errors
    created = Contract.objects.get()
    assert response.status_code == 302 and response.url == f"/contracts/{created.pk}/"
    assert (created.client, created.owner, created.stage, created.probability, created.value) == (
        own,
        am,
        "draft",
        10,
        Decimal("250000000"),
    )


def test_sales_may_create_a_deal_for_any_client_it_knows_by_name(client, am):
    someone_elses = ClientFactory(owner=am, name="Sữa Tươi Ba Vì")
    sales = UserFactory(role=Role.SALES)
    signed_in(client, sales)

    page = client.get("/contracts/new/")
    response = client.post("/contracts/new/", {**TERMS, "client": someone_elses.pk})

    assert someone_elses in page.context["form"].fields["client"].queryset
    assert response.status_code == 302
    assert Contract.objects.get().owner == sales


def test_a_director_may_create_a_deal_for_someone_else(client, am):
    shop = ClientFactory(owner=am)
    signed_in(client, UserFactory(role=Role.DIRECTOR))

    client.post("/contracts/new/", {**TERMS, "client": shop.pk, "owner": am.pk})

    assert Contract.objects.get().owner == am


def test_create_errors_are_shown_on_the_form_and_nothing_is_saved(client, am):
    shop = ClientFactory(owner=am)
    signed_in(client, am)

    missing = client.post("/contracts/new/", {**TERMS, "client": shop.pk, "title": ""})
    negative = client.post("/contracts/new/", {**TERMS, "client": shop.pk, "value": "-5"})
    backwards = client.post(
        "/contracts/new/", {**TERMS, "client": shop.pk, "start_date": "2027-01-31", "end_date": "2027-01-01"}
    )

    assert missing.status_code == 400
    assert set(missing.context["form"].errors) == {"title"}
    assert negative.status_code == 400 and set(negative.context["form"].errors) == {"value"}  # from the service
    assert backwards.status_code == 400
    assert backwards.context["form"].errors == {"end_date": ["The end comes before the start."]}
    assert not Contract.objects.exists()


def test_editing_terms_checks_the_version(client, am):
    record = deal(am, title="Before")
    signed_in(client, am)
    form = {**TERMS, "title": "Mine", "version": "1"}

    page = client.get(f"/contracts/{record.pk}/edit/")
    saved = client.post(f"/contracts/{record.pk}/edit/", form)
    stale = client.post(f"/contracts/{record.pk}/edit/", {**form, "title": "Stale"})

    assert page.context["form"]["version"].value() == 1 and "client" not in page.context["form"].fields
    assert saved.status_code == 302 and saved.url == f"/contracts/{record.pk}/"
    assert stale.status_code == 409
    assert "Someone else changed this contract while you were editing it." in stale.content.decode()
    record.refresh_from_db()
    assert (record.title, record.version, record.budget) == ("Mine", 2, Decimal("150000000"))


def test_an_ended_contract_cannot_be_edited_and_the_form_says_so(client, am):
    record = deal(am, stage="lost", probability=0)
    signed_in(client, am)

    response = client.post(f"/contracts/{record.pk}/edit/", {**TERMS, "version": "1"})

    assert response.status_code == 400
    assert "An ended contract cannot be changed." in response.content.decode()
    assert Contract.objects.get(pk=record.pk).title != TERMS["title"]
