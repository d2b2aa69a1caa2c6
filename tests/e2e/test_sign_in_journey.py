"""Journey: each role signs in, sees its own navigation and home, and switches Accord to Vietnamese."""

import pytest

from accounts.models import Role
from accounts.services import team_create
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Links on the bar; Deals (pipeline, contracts, proposals), Billing and KPIs are dropdowns between them.
COMMON = ["Home", "Clients", "Requests", "Partners", "People"]
GROUPS = ("nav-deals", "nav-billing", "nav-kpis")
NAVIGATION = {
    Role.ADMIN: COMMON,  # and the Settings dropdown: Webhooks, Administration (tests/integrations/test_views.py)
    Role.DIRECTOR: COMMON,
    Role.FINANCE: COMMON,
    Role.SALES: COMMON,
    Role.ACCOUNT_MANAGER: COMMON,
}


def sign_in(page, email: str) -> None:
    page.goto("/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


@pytest.mark.parametrize("role", list(NAVIGATION))
def test_each_role_signs_in_and_sees_its_own_navigation(page, role):
    user = UserFactory(role=role, email=f"{role}@agency.test", full_name="Trần Thị Mai Anh")
    team_create(name="Hà Nội", lead=user)

    sign_in(page, user.email)

    links = page.get_by_test_id("main-nav").get_by_role("link").all_inner_texts()
    assert [text.strip() for text in links] == NAVIGATION[role]
    assert all(page.get_by_test_id(group).is_visible() for group in GROUPS)
    assert page.get_by_test_id("home-role").inner_text().startswith(str(role.label))
    assert page.get_by_role("heading", name="Welcome back, Anh").is_visible()
    assert page.console_errors == []


def test_switching_to_vietnamese_translates_the_interface(page):
    user = UserFactory(role=Role.ACCOUNT_MANAGER, email="lan@agency.test", full_name="Hoàng Ngọc Lan")
    sign_in(page, user.email)

    page.get_by_test_id("language-switcher").get_by_role("button", name="Tiếng Việt").click()

    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Chào mừng trở lại, Lan").is_visible()
    assert page.get_by_test_id("main-nav").get_by_role("link", name="Trang chủ").is_visible()
    assert page.locator("html").get_attribute("lang") == "vi"
    user.refresh_from_db()
    assert user.preferred_language == "vi"


def test_sign_out(page):
    user = UserFactory(email="khoi@agency.test")
    sign_in(page, user.email)

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()

    page.wait_for_url("**/login/")
    assert page.get_by_role("heading", name="Sign in").is_visible()
