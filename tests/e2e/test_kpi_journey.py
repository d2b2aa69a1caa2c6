"""Journey: a director sets an account manager's signed-revenue target for the month on the targets page; the
account manager signs a deal on the contract page; the director's dashboard shows the new attainment, and the
figure opens the contract behind it."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role
from kpis.models import KpiTarget
from kpis.periods import current_period
from tests.e2e.test_deal_journey import sign_out
from tests.e2e.test_sign_in_journey import sign_in
from tests.factories import ClientFactory, ContractFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_director_sets_a_target_an_account_manager_signs_and_the_dashboard_shows_the_attainment(page):
    team = TeamFactory(name="Hà Nội")
    director = UserFactory(role=Role.DIRECTOR, email="mai.anh@agency.test", full_name="Trần Thị Mai Anh")
    am = UserFactory(role=Role.ACCOUNT_MANAGER, team=team, email="ha@agency.test", full_name="Nguyễn Thu Hà")
    deal = ContractFactory(
        client=ClientFactory(owner=am, name="Sữa Tươi Ba Vì"),
        title="Chiến dịch Tết 2027",
        stage="awaiting_signature",
        probability=80,
        value=Decimal("250000000"),
    )
    month = current_period()

    # The director sets Hà's signed-revenue target for the month
    sign_in(page, director.email)
    page.goto("/kpis/targets/")
    page.get_by_test_id("target-new").click()
    form = page.get_by_test_id("target-form")
    form.get_by_label("Metric").select_option("signed_revenue")
    form.get_by_label("For").select_option(f"user:{am.pk}")
    form.get_by_label("Period").fill(month.key)
    form.get_by_label("Target", exact=True).fill("500000000")
    form.get_by_label("Currency").select_option("VND")
    form.get_by_role("button", name="Save target").click()
    page.get_by_text("Target for Signed revenue saved.").wait_for()
    target = KpiTarget.objects.get()
    assert (target.user, target.period_start, target.value, target.currency) == (
        am,
        month.start,
        Decimal("500000000"),
        "VND",
    )

    # The dashboard: nothing signed yet, 0 % of the target (and the page says its figures are live)
    page.goto("/kpis/")
    assert "Figures are live" in page.get_by_test_id("live-note").inner_text()
    row = page.get_by_test_id(f"leader-{am.pk}")
    assert row.get_by_test_id("leader-signed-VND").inner_text() == "0 ₫"
    assert "0.0 %" in row.get_by_test_id("leader-attainment-VND").inner_text()
    assert "of 500,000,000 ₫" in row.inner_text()
    sign_out(page)

    # Hà signs the deal on its contract page
    sign_in(page, am.email)
    page.goto(f"/contracts/{deal.pk}/")
    page.get_by_test_id("contract-head").get_by_role("link", name="Move").click()
    move_form = page.get_by_test_id("move-form")
    move_form.get_by_label("Move to").select_option("active")
    signed = timezone.localtime() - datetime.timedelta(minutes=5)
    move_form.get_by_label("Signed", exact=True).fill(signed.strftime("%Y-%m-%dT%H:%M"))
    move_form.get_by_label("Start", exact=True).fill(timezone.localdate().isoformat())
    move_form.get_by_label("End", exact=True).fill((timezone.localdate() + datetime.timedelta(days=364)).isoformat())
    move_form.get_by_role("button", name="Move").click()
    page.wait_for_url(f"**/contracts/{deal.pk}/")
    assert page.get_by_test_id("stage-badge").inner_text() == "Active"
    # Her own dashboard counts it too
    page.goto("/kpis/am/")
    assert page.get_by_test_id("figure-signed_revenue-VND").inner_text() == "250,000,000 ₫"
    assert page.get_by_test_id("attainment-signed_revenue-VND").inner_text() == "50.0 %"
    sign_out(page)

    # The director's dashboard shows the new attainment, and the figure opens the contract behind it
    sign_in(page, director.email)
    page.goto("/kpis/")
    row = page.get_by_test_id(f"leader-{am.pk}")
    assert row.get_by_test_id("leader-signed-VND").inner_text() == "250,000,000 ₫"
    assert "50.0 %" in row.get_by_test_id("leader-attainment-VND").inner_text()
    assert "behind target" in row.get_by_test_id("leader-attainment-VND").inner_text()
    assert page.get_by_test_id("figure-signed_revenue-VND").inner_text() == "250,000,000 ₫"
    row.get_by_test_id("leader-signed-VND").click()
    page.wait_for_url("**/kpis/records/**")
    assert page.get_by_test_id("records-total").inner_text().strip() == "250,000,000 ₫"
    assert page.get_by_test_id("records-agreement").inner_text().strip() == "The same as the dashboard's figure."
    assert page.get_by_test_id("section-signed").get_by_role("link", name=deal.number).is_visible()
    assert page.console_errors == []
