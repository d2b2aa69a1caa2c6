"""KPI targets: the services (set, grid, copy, delete, exchange rates) and the pages (scorecard, form, grid)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from core.errors import ConflictError, DomainError, PermissionDeniedError
from kpis import services
from kpis.models import ExchangeRate, KpiTarget, Metric
from kpis.periods import Period
from kpis.services import GridCell, cell_key
from tests.factories import ClientFactory, TeamFactory, UserFactory
from tests.kpis.factories import KpiTargetFactory, hanoi, signed_contract

pytestmark = pytest.mark.django_db

SEPTEMBER = Period.parse("2026-09")


@pytest.fixture
def hanoi_clock(settings):
    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"


def set_target(actor, **fields) -> KpiTarget:
    defaults = {"metric": "signed_revenue", "scope": "agency", "period": SEPTEMBER, "value": Decimal("5000000000")}
    defaults["currency"] = "VND"
    return services.target_set(actor=actor, **{**defaults, **fields})


# --- target_set -----------------------------------------------------------------------------------------


def test_a_director_sets_a_target_and_setting_it_again_changes_its_value(director, am):
    first = set_target(director, scope="user", user=am, value=Decimal("800000000"))

    again = set_target(director, scope="user", user=am, value=Decimal("900000000"), expected_version=1)

    assert again.pk == first.pk
    assert (again.value, again.version, again.set_by) == (Decimal("900000000"), 2, director)
    assert (again.period_kind, again.period_start, again.currency) == ("month", date(2026, 9, 1), "VND")
    assert KpiTarget.objects.count() == 1


def test_money_targets_are_one_per_currency(director, team):
    set_target(director, scope="team", team=team, value=Decimal("500000000"))
    set_target(director, scope="team", team=team, value=Decimal("20000"), currency="USD")

    assert set(KpiTarget.objects.values_list("currency", "value")) == {
        ("VND", Decimal("500000000")),
        ("USD", Decimal("20000")),
    }


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SALES, Role.FINANCE])
def test_only_directors_and_admins_set_targets(role, team):
    with pytest.raises(PermissionDeniedError):
        set_target(UserFactory(role=role, team=team))

    assert not KpiTarget.objects.exists()
    assert set_target(UserFactory(role=Role.ADMIN)).set_by.role == Role.ADMIN


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"currency": ""}, "currency", "currency_required"),
        ({"metric": "win_rate", "value": Decimal("60"), "currency": "VND"}, "currency", "currency_not_allowed"),
        ({"value": Decimal("1000000.50")}, "value", "invalid"),
        ({"value": Decimal("-1")}, "value", "invalid"),
        ({"metric": "win_rate", "value": Decimal("101"), "currency": ""}, "value", "invalid"),
        ({"metric": "new_clients", "value": Decimal("2.5"), "currency": ""}, "value", "invalid"),
        ({"metric": "bookings", "currency": ""}, "metric", "invalid"),
        ({"scope": "user"}, "user", "invalid"),
        ({"scope": "team"}, "team", "invalid"),
    ],
)
def test_a_target_the_metric_does_not_take_is_refused_on_its_field(director, fields, field, code):
    with pytest.raises(DomainError) as refused:
        set_target(director, **fields)

    assert (refused.value.code, list(refused.value.fields)) == (code, [field])
    assert not KpiTarget.objects.exists()


def test_usd_targets_keep_cents_and_net_retention_may_pass_100(director):
    assert set_target(director, value=Decimal("12500.50"), currency="USD").value == Decimal("12500.50")
    assert set_target(director, metric="net_revenue_retention", value=Decimal("115"), currency="").value == 115


def test_a_departed_account_manager_gets_no_target(director, team):
    departed = UserFactory(team=team, is_active=False)

    with pytest.raises(DomainError):
        set_target(director, scope="user", user=departed)


def test_a_stale_version_is_a_conflict_and_keeps_the_other_directors_value(director, team):
    set_target(director, scope="team", team=team, value=Decimal("500000000"))
    set_target(UserFactory(role=Role.DIRECTOR), scope="team", team=team, value=Decimal("600000000"), expected_version=1)

    with pytest.raises(ConflictError):
        set_target(director, scope="team", team=team, value=Decimal("700000000"), expected_version=1)

    assert KpiTarget.objects.get().value == Decimal("600000000")


def test_changing_a_target_that_was_removed_meanwhile_is_a_conflict(director):
    target = set_target(director)
    services.target_delete(actor=director, target=target)

    with pytest.raises(ConflictError):
        set_target(director, value=Decimal("1"), expected_version=1)

    assert not KpiTarget.objects.exists()


def test_removing_a_target_needs_a_director_and_a_fresh_version(director, am):
    target = set_target(director, value=Decimal("1000"))
    set_target(director, value=Decimal("2000"), expected_version=1)

    with pytest.raises(PermissionDeniedError):
        services.target_delete(actor=am, target=target)
    with pytest.raises(ConflictError):
        services.target_delete(actor=director, target=target, expected_version=1)
    services.target_delete(actor=director, target=target, expected_version=2)

    assert not KpiTarget.objects.exists()


# --- The grid -------------------------------------------------------------------------------------------


def test_the_grid_sets_a_teams_members_and_team_targets_at_once(director, team, am, teammate):
    KpiTargetFactory(user=teammate, value=Decimal("300000000"))
    cells = [
        GridCell(user=am, metric="signed_revenue", value=Decimal("800000000"), currency="VND"),
        GridCell(user=am, metric="win_rate", value=Decimal("40")),
        GridCell(user=teammate, metric="signed_revenue", value=None, currency="VND"),
        GridCell(user=None, metric="signed_revenue", value=Decimal("2000000000"), currency="VND"),
    ]

    saved = services.targets_set_grid(actor=director, team=team, period=SEPTEMBER, rows=cells)

    assert len(saved) == 3
    assert set(KpiTarget.objects.values_list("scope", "user", "team", "metric", "value")) == {
        ("user", am.pk, None, "signed_revenue", Decimal("800000000")),
        ("user", am.pk, None, "win_rate", Decimal("40")),
        ("user", teammate.pk, None, "signed_revenue", Decimal("300000000")),  # blank: left as it was
        ("team", None, team.pk, "signed_revenue", Decimal("2000000000")),
    }


def test_one_refused_cell_saves_nothing_and_names_each_cell(director, team, am, stranger):
    cells = [
        GridCell(user=am, metric="signed_revenue", value=Decimal("800000000"), currency="VND"),
        GridCell(user=am, metric="win_rate", value=Decimal("140")),
        GridCell(user=stranger, metric="new_clients", value=Decimal("2")),
    ]

    with pytest.raises(DomainError) as refused:
        services.targets_set_grid(actor=director, team=team, period=SEPTEMBER, rows=cells)

    assert refused.value.code == "invalid_grid"
    assert set(refused.value.fields) == {cell_key(am, "win_rate"), cell_key(stranger, "new_clients")}
    assert not KpiTarget.objects.exists()


def test_a_grid_over_a_changed_target_is_a_conflict_and_saves_nothing(director, team, am, teammate):
    changed = KpiTargetFactory(user=am, value=Decimal("500000000"), version=3)
    cells = [
        GridCell(user=am, metric="signed_revenue", value=Decimal("800000000"), currency="VND", expected_version=2),
        GridCell(user=teammate, metric="signed_revenue", value=Decimal("700000000"), currency="VND"),
    ]

    with pytest.raises(ConflictError) as conflict:
        services.targets_set_grid(actor=director, team=team, period=SEPTEMBER, rows=cells)

    assert list(conflict.value.fields) == [cell_key(am, "signed_revenue")]
    assert list(KpiTarget.objects.values_list("pk", "value")) == [(changed.pk, Decimal("500000000"))]


# --- Copying the previous period ------------------------------------------------------------------------


def test_copy_brings_the_previous_periods_targets_that_are_not_set_yet(director, team, am, teammate):
    august = {"period_start": date(2026, 8, 1)}
    KpiTargetFactory(user=am, value=Decimal("700000000"), **august)
    KpiTargetFactory(user=teammate, value=Decimal("300000000"), **august)
    KpiTargetFactory(user=UserFactory(team=team, is_active=False), **august)  # departed: not copied
    KpiTargetFactory(scope="team", user=None, team=team, metric="win_rate", value=40, currency="", **august)
    kept = KpiTargetFactory(user=teammate, value=Decimal("350000000"))  # already set for September
    KpiTargetFactory(user=am, period_kind="quarter", period_start=date(2026, 4, 1))  # another kind

    copied = services.targets_copy_from_previous(actor=director, period=SEPTEMBER)

    assert copied == 2
    september = KpiTarget.objects.for_period(SEPTEMBER)
    assert set(september.values_list("scope", "user", "team", "metric", "value", "set_by")) == {
        ("user", am.pk, None, "signed_revenue", Decimal("700000000"), director.pk),
        ("team", None, team.pk, "win_rate", Decimal("40"), director.pk),
        ("user", teammate.pk, None, "signed_revenue", Decimal("350000000"), kept.set_by_id),
    }
    assert services.targets_copy_from_previous(actor=director, period=SEPTEMBER) == 0


def test_copy_can_be_narrowed_to_a_team_or_a_kind_of_scope(director, team, am, stranger):
    q2 = {"period_kind": "quarter", "period_start": date(2026, 4, 1)}
    KpiTargetFactory(user=am, **q2)
    KpiTargetFactory(user=stranger, **q2)
    KpiTargetFactory(scope="agency", user=None, **q2)
    q3 = Period.parse("2026-Q3")

    assert services.targets_copy_from_previous(actor=director, period=q3, team=team) == 1
    assert services.targets_copy_from_previous(actor=director, period=q3, scope="agency") == 1
    assert set(KpiTarget.objects.for_period(q3).values_list("scope", "user")) == {("user", am.pk), ("agency", None)}


def test_only_directors_copy_targets(am):
    KpiTargetFactory(user=am, period_start=date(2026, 8, 1))

    with pytest.raises(PermissionDeniedError):
        services.targets_copy_from_previous(actor=am, period=SEPTEMBER)

    assert not KpiTarget.objects.for_period(SEPTEMBER).exists()


# --- Exchange rates -------------------------------------------------------------------------------------


def test_administrators_keep_one_rate_per_month(director):
    admin = UserFactory(role=Role.ADMIN)

    services.exchange_rate_set(actor=admin, month=date(2026, 9, 14), vnd_per_usd=Decimal("25300"))
    services.exchange_rate_set(actor=admin, month=date(2026, 9, 1), vnd_per_usd=Decimal("25410.50"))
    with pytest.raises(PermissionDeniedError):
        services.exchange_rate_set(actor=director, month=date(2026, 9, 1), vnd_per_usd=Decimal("1"))
    with pytest.raises(DomainError):
        services.exchange_rate_set(actor=admin, month=date(2026, 10, 1), vnd_per_usd=Decimal("0"))

    assert list(ExchangeRate.objects.values_list("month", "vnd_per_usd")) == [(date(2026, 9, 1), Decimal("25410.50"))]


# --- The targets page -----------------------------------------------------------------------------------


def targets_page(client, user, **query):
    client.force_login(user)
    return client.get(reverse("kpis:targets"), query)


def test_an_account_manager_reads_their_target_against_the_live_actual(client, am, hanoi_clock):
    KpiTargetFactory(user=am, value=Decimal("1000000000"))
    signed_contract(
        client=ClientFactory(owner=am),
        value=Decimal("870000000"),
        created=hanoi(2026, 9, 1),
        signed=hanoi(2026, 9, 30, 23, 30),
    )

    response = targets_page(client, am, period="2026-09")

    assert response.status_code == 200
    row = _metric_html(response, "signed_revenue")
    assert "1,000,000,000 ₫" in row
    assert "870,000,000 ₫" in row
    assert "87.0 %" in row
    assert "behind" in row
    assert "Edit" not in row  # no change for an account manager


def test_the_page_shows_every_metric_with_or_without_a_target(client, director):
    response = targets_page(client, director, period="2026-Q3")

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["period"] == Period.parse("2026-Q3")
    for metric in ("signed_revenue", "dso", "net_revenue_retention", "pipeline_coverage", "average_days_to_close"):
        assert f'data-testid="metric-{metric}"' in html


@pytest.mark.parametrize("scope", ["user", "team", "agency"])
def test_an_account_manager_cannot_read_another_scope(client, am, stranger, scope):
    key = {"user": f"user:{stranger.pk}", "team": f"team:{stranger.team_id}", "agency": "agency"}[scope]

    assert targets_page(client, am, scope=key).status_code == 404


def test_an_account_manager_reads_their_team_and_finance_reads_everyone(client, am, stranger, finance):
    assert targets_page(client, am, scope=f"team:{am.team_id}").status_code == 200
    assert targets_page(client, finance, scope=f"user:{stranger.pk}").status_code == 200
    assert targets_page(client, finance, scope="agency").status_code == 200


def test_a_malformed_period_or_scope_is_a_404(client, director):
    assert targets_page(client, director, period="2026-13").status_code == 404
    assert targets_page(client, director, scope="user:abc").status_code == 404


def test_the_scorecard_query_count_does_not_grow_with_targets(client, director, team):
    combinations = [
        (metric, currency) for metric in Metric for currency in (("VND", "USD") if services.is_money(metric) else ("",))
    ]
    client.force_login(director)
    counts = []
    for count in (2, 20):
        cache.clear()  # the heavy figures are cached (kpis.cache): both requests compute them
        KpiTarget.objects.all().delete()
        for metric, currency in combinations[:count]:
            value = Decimal("40") if metric in services.CAPPED_AT_100 else Decimal("100000")
            KpiTargetFactory(scope="team", user=None, team=team, metric=metric, currency=currency, value=value)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("kpis:targets"), {"period": "2026-09", "scope": f"team:{team.pk}"})
        assert response.status_code == 200
        assert response.context["targets_count"] == count
        counts.append(len(captured))
    assert counts[0] == counts[1]


# --- Setting one target through the form ----------------------------------------------------------------


def test_a_director_sets_a_target_through_the_form(client, director, am):
    client.force_login(director)
    data = {"metric": "signed_revenue", "scope": f"user:{am.pk}", "period": "2026-09", "value": "800000000"}

    response = client.post(reverse("kpis:target_set"), {**data, "currency": "VND"})

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('kpis:targets')}?period=2026-09&scope=user%3A{am.pk}"
    target = KpiTarget.objects.get()
    assert (target.user, target.value, target.currency, target.set_by) == (am, 800000000, "VND", director)


def test_the_form_opens_on_the_target_already_set_with_its_version(client, director, am):
    KpiTargetFactory(user=am, value=Decimal("800000000"), version=4)
    client.force_login(director)

    response = client.get(
        reverse("kpis:target_set"),
        {"metric": "signed_revenue", "scope": f"user:{am.pk}", "period": "2026-09", "currency": "VND"},
    )

    form = response.context["form"]
    assert (form.initial["value"], form.initial["version"]) == ("800000000", 4)


def test_the_form_shows_the_services_refusals_on_the_page(client, director):
    client.force_login(director)
    data = {"metric": "win_rate", "scope": "agency", "period": "2026-09", "currency": ""}

    response = client.post(reverse("kpis:target_set"), {**data, "value": "120"})

    assert response.status_code == 400
    assert response.context["form"].errors == {"value": ["A rate cannot pass 100 %."]}
    assert "A rate cannot pass 100 %." in response.content.decode()
    assert not KpiTarget.objects.exists()


def test_the_form_refuses_a_stale_version(client, director):
    KpiTargetFactory(scope="agency", user=None, value=Decimal("5000000000"), version=2)
    client.force_login(director)
    data = {"metric": "signed_revenue", "scope": "agency", "period": "2026-09", "currency": "VND", "version": "1"}

    response = client.post(reverse("kpis:target_set"), {**data, "value": "1"})

    assert response.status_code == 400
    assert "Someone else changed this target" in response.content.decode()
    assert KpiTarget.objects.get().value == Decimal("5000000000")


def test_the_form_needs_a_currency_for_money(client, director):
    client.force_login(director)
    data = {"metric": "cash_collected", "scope": "agency", "period": "2026", "value": "10", "currency": ""}

    response = client.post(reverse("kpis:target_set"), data)

    assert response.context["form"].errors == {"currency": ["A money target needs its currency."]}


@pytest.mark.parametrize("name", ["kpis:target_set", "kpis:target_grid"])
def test_only_directors_open_the_editing_pages(client, am, name):
    client.force_login(am)

    assert client.get(reverse(name)).status_code == 403


def test_an_account_manager_cannot_copy_or_remove_targets(client, am):
    target = KpiTargetFactory(user=am, period_start=date(2026, 8, 1))
    client.force_login(am)

    assert client.post(reverse("kpis:targets_copy"), {"period": "2026-09"}).status_code == 403
    assert client.post(reverse("kpis:target_delete", args=[target.pk])).status_code == 403
    assert KpiTarget.objects.count() == 1


def test_a_director_removes_a_target_from_the_page(client, director):
    target = KpiTargetFactory(scope="agency", user=None, version=2)
    client.force_login(director)

    response = client.post(reverse("kpis:target_delete", args=[target.pk]), {"version": "2", "next": "/kpis/targets/"})

    assert response.status_code == 302
    assert response["Location"] == "/kpis/targets/"
    assert not KpiTarget.objects.exists()


def test_the_copy_button_copies_and_says_how_many(client, director, am):
    KpiTargetFactory(user=am, period_start=date(2026, 8, 1))
    client.force_login(director)

    response = client.post(reverse("kpis:targets_copy"), {"period": "2026-09"}, follow=True)

    assert KpiTarget.objects.for_period(SEPTEMBER).count() == 1
    assert "1 target copied from August 2026." in response.content.decode()


# --- The grid page --------------------------------------------------------------------------------------


def grid_url(team, period="2026-09", currency="VND") -> str:
    return f"{reverse('kpis:target_grid')}?team={team.pk}&period={period}&currency={currency}"


def test_the_grid_lists_the_team_and_its_members_with_their_targets(client, director, team, am, teammate, stranger):
    KpiTargetFactory(user=am, value=Decimal("800000000"))
    KpiTargetFactory(user=am, value=Decimal("30000"), currency="USD")  # another currency: not on a VND grid
    client.force_login(director)

    response = client.get(grid_url(team))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="grid-row-team"' in html
    assert f'data-testid="grid-row-{am.pk}"' in html and f'data-testid="grid-row-{teammate.pk}"' in html
    assert f'data-testid="grid-row-{stranger.pk}"' not in html
    assert response.context["form"][cell_key(am, "signed_revenue")].value() == "800000000"


def test_saving_the_grid_sets_every_filled_cell(client, director, team, am, teammate):
    client.force_login(director)
    data = {"team": team.pk, "period": "2026-Q4", "currency": "USD"}
    data[cell_key(am, "signed_revenue")] = "25000"
    data[cell_key(teammate, "new_clients")] = "2"
    data[cell_key(None, "win_rate")] = "35"

    response = client.post(reverse("kpis:target_grid"), data)

    assert response.status_code == 302
    assert set(KpiTarget.objects.values_list("scope", "user", "metric", "value", "currency", "period_kind")) == {
        ("user", am.pk, "signed_revenue", Decimal("25000"), "USD", "quarter"),
        ("user", teammate.pk, "new_clients", Decimal("2"), "", "quarter"),
        ("team", None, "win_rate", Decimal("35"), "", "quarter"),
    }


def test_a_refused_cell_is_shown_on_the_grid_and_nothing_is_saved(client, director, team, am, teammate):
    client.force_login(director)
    data = {"team": team.pk, "period": "2026-09", "currency": "VND"}
    data[cell_key(am, "signed_revenue")] = "800000000.5"
    data[cell_key(teammate, "signed_revenue")] = "700000000"

    response = client.post(reverse("kpis:target_grid"), data)

    assert response.status_code == 400
    assert response.context["form"].errors == {
        cell_key(am, "signed_revenue"): ["Enter the target in whole đồng."],
        "__all__": ["Some targets are not valid: nothing was saved."],
    }
    assert not KpiTarget.objects.exists()


def test_the_grid_query_count_does_not_grow_with_members(client, director, team):
    client.force_login(director)
    counts = []
    for size in (2, 20):
        while team.members.count() < size:
            member = UserFactory(team=team)
            KpiTargetFactory(user=member, set_by=director)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(grid_url(team)).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def _metric_html(response, metric: str) -> str:
    html = response.content.decode()
    start = html.index(f'data-testid="metric-{metric}"')
    return html[start : html.index("</tbody>", start)]


def test_grid_and_targets_pages_agree_on_a_team_target(client, director, hanoi_clock):
    north = TeamFactory(name="North")
    member = UserFactory(team=north, role=Role.ACCOUNT_MANAGER)
    client.force_login(director)
    data = {"team": north.pk, "period": "2026-09", "currency": "VND", cell_key(None, "signed_revenue"): "100000000"}
    client.post(reverse("kpis:target_grid"), data)
    signed_contract(
        client=ClientFactory(owner=member),
        value=Decimal("50000000"),
        created=hanoi(2026, 9, 1),
        signed=hanoi(2026, 9, 2),
    )

    row = _metric_html(targets_page(client, director, period="2026-09", scope=f"team:{north.pk}"), "signed_revenue")

    assert "100,000,000 ₫" in row and "50,000,000 ₫" in row and "50.0 %" in row


def test_an_administrator_keeps_the_rates_in_the_admin_and_reads_the_targets(client):
    admin_user = UserFactory(role=Role.ADMIN)
    KpiTargetFactory()
    client.force_login(admin_user)

    added = client.post(reverse("admin:kpis_exchangerate_add"), {"month": "2026-09-01", "vnd_per_usd": "25410.50"})
    refused = client.post(reverse("admin:kpis_exchangerate_add"), {"month": "2026-10-01", "vnd_per_usd": "0.5"})
    rate = ExchangeRate.objects.get()
    corrected = client.post(reverse("admin:kpis_exchangerate_change", args=[rate.pk]), {"vnd_per_usd": "25400"})

    assert (added.status_code, refused.status_code, corrected.status_code) == (302, 200, 302)
    assert list(ExchangeRate.objects.values_list("month", "vnd_per_usd")) == [(date(2026, 9, 1), Decimal("25400"))]
    assert client.get(reverse("admin:kpis_kpitarget_changelist")).status_code == 200
    assert client.get(reverse("admin:kpis_kpitarget_add")).status_code == 403
