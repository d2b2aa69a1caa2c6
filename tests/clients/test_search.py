import pytest

from accounts.models import Role
from clients.selectors import global_search
from clients.text import fold
from tests.factories import ClientFactory, ContactFactory, PartnerFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Nguyễn Đức Thắng", "nguyen duc thang"),
        ("ĐẶNG THỊ HỒNG NHUNG", "dang thi hong nhung"),
        ("  Sữa   Tươi  ", "sua tuoi"),
        ("", ""),
    ],
)
def test_fold_strips_vietnamese_diacritics(text, folded):
    assert fold(text) == folded


@pytest.fixture
def am():
    return UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Hà Nội"))


@pytest.mark.parametrize("query", ["Nguyễn", "nguyen", "NGUYEN", "nguyễn thị"])
def test_search_finds_contacts_with_or_without_diacritics(am, query):
    ContactFactory(client=ClientFactory(owner=am), full_name="Nguyễn Thị Minh Thư")

    results = global_search(user=am, query=query)

    assert [contact.full_name for contact in results["contacts"]] == ["Nguyễn Thị Minh Thư"]


def test_search_covers_clients_contacts_and_partners(am):
    ClientFactory(owner=am, name="Đất Xanh Phương Nam")
    ContactFactory(client=ClientFactory(owner=am), email="phuongnam@client.example")
    PartnerFactory(name="Phương Nam Media")

    results = global_search(user=am, query="phuong nam")

    assert [client.name for client in results["clients"]] == ["Đất Xanh Phương Nam"]
    assert [contact.email for contact in results["contacts"]] == ["phuongnam@client.example"]
    assert [partner.name for partner in results["partners"]] == ["Phương Nam Media"]


def test_search_respects_visibility(am):
    ClientFactory(name="Hidden Holdings", owner=UserFactory(team=TeamFactory(name="Sài Gòn")))
    ContactFactory(full_name="Hidden Person")

    results = global_search(user=am, query="hidden")

    assert results["clients"] == [] and results["contacts"] == []


def test_sales_finds_client_names_but_not_their_contacts():
    ContactFactory(client=ClientFactory(name="Hồng Lam Land"), full_name="Hồng Nhung")
    sales = UserFactory(role=Role.SALES)

    results = global_search(user=sales, query="hong")

    assert [client.name for client in results["clients"]] == ["Hồng Lam Land"]
    assert results["contacts"] == []


def test_one_letter_is_too_short(am):
    assert global_search(user=am, query="n")["too_short"] is True


def test_search_page_and_htmx_dropdown(client, am, django_assert_max_num_queries):
    ClientFactory(owner=am, name="Sữa Tươi Ba Vì")
    client.force_login(am)

    with django_assert_max_num_queries(9):
        dropdown = client.get("/search/?q=sua", headers={"HX-Request": "true"}).content.decode()
    page = client.get("/search/?q=sua").content.decode()

    assert "Sữa Tươi Ba Vì" in dropdown and "<html" not in dropdown
    assert "Sữa Tươi Ba Vì" in page and "<html" in page


def test_search_query_count_does_not_grow(client, am, django_assert_num_queries):
    client.force_login(am)
    for count in (2, 20):
        for index in range(count):
            ContactFactory(client=ClientFactory(owner=am, name=f"Nguyễn {count}-{index}"), full_name=f"Nguyễn {index}")
            PartnerFactory(name=f"Nguyễn Partner {count}-{index}")
        # session, user, clients, contacts, partners, contracts, invoices, proposals (the htmx answer has no header:
        # no unread count)
        with django_assert_num_queries(8):
            client.get("/search/?q=nguyen", headers={"HX-Request": "true"})
