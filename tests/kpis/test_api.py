"""/api/v1/kpi-targets and /api/v1/kpis/metrics: who reads and writes what, the shapes, and the errors."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpis.models import KpiTarget
from kpis.periods import current_period
from tests.api_support import as_user, error_of, ids
from tests.factories import ClientFactory, InvoiceFactory, UserFactory
from tests.kpis.factories import KpiTargetFactory, hanoi, lost_deal, signed_contract

pytestmark = pytest.mark.django_db

TARGETS = "/api/v1/kpi-targets"
METRICS = "/api/v1/kpis/metrics"


@pytest.fixture(autouse=True)
def hanoi_clock(settings):
    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"


@pytest.fixture
def targets(am, teammate, stranger, team):
    """Targets of September 2026: the AM's, a teammate's, another team's AM's, the team's and the agency's."""
    return {
        "am": KpiTargetFactory(user=am),
        "teammate": KpiTargetFactory(user=teammate),
        "stranger": KpiTargetFactory(user=stranger),
        "team": KpiTargetFactory(scope="team", user=None, team=team),
        "other_team": KpiTargetFactory(scope="team", user=None, team=stranger.team),
        "agency": KpiTargetFactory(scope="agency", user=None, value=Decimal("5000000000")),
    }


# --- /kpi-targets: reading ------------------------------------------------------------------------------


def test_an_account_manager_reads_their_own_their_teams_and_the_agencys_targets(api, am, targets):
    visible = ids(as_user(api, am).get(TARGETS))

    assert visible == {targets[key].pk for key in ("am", "team", "agency")}


def test_finance_and_directors_read_every_target(api, finance, director, targets):
    every = {target.pk for target in targets.values()}

    assert ids(as_user(api, finance).get(TARGETS)) == every
    assert ids(as_user(api, director).get(TARGETS)) == every


def test_another_account_managers_target_is_a_404(api, am, targets):
    response = as_user(api, am).get(f"{TARGETS}/{targets['stranger'].pk}")

    assert error_of(response, 404)["code"] == "not_found"


def test_a_target_reads_with_its_period_and_who_set_it(api, am, targets):
    target = targets["am"]

    body = as_user(api, am).get(f"{TARGETS}/{target.pk}").json()

    assert body == {
        "id": target.pk,
        "metric": "signed_revenue",
        "scope": "user",
        "user": am.pk,
        "user_name": am.full_name,
        "team": None,
        "team_name": None,
        "period_kind": "month",
        "period": "2026-09",
        "period_start": "2026-09-01",
        "period_end": "2026-09-30",
        "value": "1000000000.00",
        "currency": "VND",
        "set_by": {"id": target.set_by_id, "full_name": target.set_by.full_name},
        "version": 1,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }


def test_targets_filter_by_metric_scope_person_team_and_period(api, director, am, team, targets):
    quarter = KpiTargetFactory(user=am, metric="win_rate", value=40, currency="", period_kind="quarter")
    quarter.period_start = date(2026, 7, 1)
    quarter.save(update_fields=["period_start"])
    api = as_user(api, director)

    assert ids(api.get(TARGETS, {"metric": "win_rate"})) == {quarter.pk}
    assert ids(api.get(TARGETS, {"scope": "team"})) == {targets["team"].pk, targets["other_team"].pk}
    assert ids(api.get(TARGETS, {"user": am.pk})) == {targets["am"].pk, quarter.pk}
    assert ids(api.get(TARGETS, {"team": team.pk})) == {targets["team"].pk}
    assert ids(api.get(TARGETS, {"period_kind": "quarter"})) == {quarter.pk}
    assert ids(api.get(TARGETS, {"period": "2026-Q3"})) == {quarter.pk}
    assert len(ids(api.get(TARGETS, {"period": "2026-09"}))) == 6


def test_a_malformed_period_filter_is_a_400_naming_it(api, director):
    error = error_of(as_user(api, director).get(TARGETS, {"period": "2026-13"}), 400)

    assert list(error["fields"]) == ["period"]


def test_the_target_list_query_count_does_not_grow_with_rows(api, director):
    counts = []
    for size in (2, 20):
        while KpiTarget.objects.count() < size:
            KpiTargetFactory(user=UserFactory(), set_by=director)
        with CaptureQueriesContext(connection) as captured:
            assert len(ids(as_user(api, director).get(TARGETS))) == size
        counts.append(len(captured))
    assert counts[0] == counts[1]


# --- /kpi-targets: writing ------------------------------------------------------------------------------


def test_a_director_sets_a_target(api, director, am):
    body = {"metric": "signed_revenue", "scope": "user", "user": am.pk, "period": "2026-11"}

    response = as_user(api, director).post(TARGETS, {**body, "value": "800000000", "currency": "VND"})

    assert response.status_code == 201, response.content
    assert response.json()["period_start"] == "2026-11-01"
    target = KpiTarget.objects.get()
    assert (target.user, target.value, target.set_by, target.period_kind) == (am, 800000000, director, "month")


def test_setting_a_target_again_changes_it_and_a_stale_version_is_a_409(api, director):
    api = as_user(api, director)
    body = {"metric": "win_rate", "scope": "agency", "period": "2026", "value": "40"}
    first = api.post(TARGETS, body).json()

    second = api.post(TARGETS, {**body, "value": "45", "version": first["version"]}).json()
    stale = api.post(TARGETS, {**body, "value": "50", "version": first["version"]})

    assert (second["id"], second["value"], second["version"]) == (first["id"], "45.00", 2)
    assert error_of(stale, 409)["code"] == "conflict"
    assert KpiTarget.objects.get().value == 45


@pytest.mark.parametrize("role_fixture", ["am", "sales", "finance"])
def test_only_directors_write_targets(api, request, role_fixture, targets):
    user = request.getfixturevalue(role_fixture)
    api = as_user(api, user)
    own = targets["am"]

    created = api.post(TARGETS, {"metric": "win_rate", "scope": "agency", "period": "2026-09", "value": "1"})

    assert error_of(created, 403)["code"] == "permission_denied"
    assert KpiTarget.objects.count() == len(targets)
    if role_fixture == "am":
        assert error_of(api.patch(f"{TARGETS}/{own.pk}", {"value": "1"}), 403)
        assert error_of(api.delete(f"{TARGETS}/{own.pk}"), 403)
        assert KpiTarget.objects.get(pk=own.pk).value == own.value


def test_a_money_target_without_currency_is_a_400_on_currency(api, director):
    body = {"metric": "cash_collected", "scope": "agency", "period": "2026-09", "value": "100"}

    error = error_of(as_user(api, director).post(TARGETS, body), 400)

    assert (error["code"], list(error["fields"])) == ("currency_required", ["currency"])


def test_an_unknown_metric_or_period_is_a_400_naming_the_field(api, director):
    api = as_user(api, director)
    body = {"metric": "signed_revenue", "scope": "agency", "period": "2026-09", "value": "1", "currency": "VND"}

    assert list(error_of(api.post(TARGETS, {**body, "metric": "bookings"}), 400)["fields"]) == ["metric"]
    assert list(error_of(api.post(TARGETS, {**body, "period": "2026-Q5"}), 400)["fields"]) == ["period"]


def test_a_director_changes_a_value_and_removes_a_target(api, director, targets):
    api = as_user(api, director)
    target = targets["team"]

    changed = api.patch(f"{TARGETS}/{target.pk}", {"value": "1200000000", "version": 1})
    stale = api.delete(f"{TARGETS}/{target.pk}?version=1")
    removed = api.delete(f"{TARGETS}/{target.pk}?version=2")

    assert (changed.json()["value"], changed.json()["version"], changed.json()["currency"]) == (
        "1200000000.00",
        2,
        "VND",
    )
    assert error_of(stale, 409)
    assert removed.status_code == 204
    assert not KpiTarget.objects.filter(pk=target.pk).exists()


# --- /kpis/metrics --------------------------------------------------------------------------------------


@pytest.fixture
def september(am, teammate, stranger):
    """The AM signs VND 870M and USD 12,000 and loses a deal; the teammate signs VND 50M; the stranger VND 100M."""
    signed_contract(
        client=ClientFactory(owner=am),
        value=Decimal("870000000"),
        created=hanoi(2026, 9, 1),
        signed=hanoi(2026, 9, 30, 23, 30),
    )
    signed_contract(
        client=ClientFactory(owner=am),
        value=Decimal("12000"),
        currency="USD",
        created=hanoi(2026, 8, 6),
        signed=hanoi(2026, 9, 5),
    )
    lost_deal(client=ClientFactory(owner=am), created=hanoi(2026, 8, 1), lost=hanoi(2026, 9, 20))
    signed_contract(
        client=ClientFactory(owner=teammate),
        value=Decimal("50000000"),
        created=hanoi(2026, 9, 1),
        signed=hanoi(2026, 9, 2),
    )
    signed_contract(
        client=ClientFactory(owner=stranger),
        value=Decimal("100000000"),
        created=hanoi(2026, 9, 1),
        signed=hanoi(2026, 9, 3),
    )
    KpiTargetFactory(user=am, value=Decimal("1000000000"))
    KpiTargetFactory(user=am, metric="win_rate", value=Decimal("80"), currency="")


def test_an_account_manager_reads_their_signed_revenue_against_its_target(api, am, september):
    response = as_user(api, am).get(
        METRICS, {"metric": "signed_revenue", "scope": "user", "id": am.pk, "period": "2026-09"}
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "metric": "signed_revenue",
        "unit": "money",
        "higher_is_better": True,
        "per_currency": True,
        "scope": {"kind": "user", "id": am.pk, "label": am.full_name},
        "period": {"kind": "month", "key": "2026-09", "start": "2026-09-01", "end": "2026-09-30"},
        "actual": {"USD": "12000.00", "VND": "870000000.00"},
        "target": {"VND": "1000000000.00"},
        "attainment": {"USD": None, "VND": "87.0"},
    }


def test_a_rate_is_one_value_against_one_target(api, am, september):
    body = (
        as_user(api, am).get(METRICS, {"metric": "win_rate", "scope": "user", "id": am.pk, "period": "2026-09"}).json()
    )

    # Won 2, lost 1: 66.7 % of an 80 % target.
    assert (body["actual"], body["target"], body["attainment"]) == ("66.7", "80.00", "83.4")


def test_a_metric_without_a_target_has_null_target_and_attainment(api, am, team, september):
    body = (
        as_user(api, am)
        .get(METRICS, {"metric": "signed_revenue", "scope": "team", "id": team.pk, "period": "2026-Q3"})
        .json()
    )

    assert body["actual"] == {"USD": "12000.00", "VND": "920000000.00"}
    assert (body["target"], body["attainment"]) == (None, None)
    assert body["period"] == {"kind": "quarter", "key": "2026-Q3", "start": "2026-07-01", "end": "2026-09-30"}


def test_dso_is_per_currency_against_one_target_in_days(api, director, am):
    contract = signed_contract(
        client=ClientFactory(owner=am), value=Decimal("100000000"), created=hanoi(2026, 9, 1), signed=hanoi(2026, 9, 1)
    )
    InvoiceFactory(contract=contract, issue_date=date(2026, 9, 1), due_date=date(2026, 10, 1))  # 110M owed
    KpiTargetFactory(scope="agency", user=None, metric="dso", value=Decimal("45"), currency="")

    body = as_user(api, director).get(METRICS, {"metric": "dso", "period": "2026-09"}).json()

    # 110M owed on 30 September over 110M issued × 30 days = 30.0 days; 45 ÷ 30 = 150 % (lower is better).
    assert (body["actual"], body["target"], body["attainment"]) == ({"VND": "30.0"}, "45.00", {"VND": "150.0"})
    assert body["higher_is_better"] is False


@pytest.mark.parametrize("who", ["other_am", "other_team", "missing_user", "missing_team"])
def test_an_account_manager_cannot_read_other_figures(api, am, stranger, who):
    query = {
        "other_am": {"scope": "user", "id": stranger.pk},
        "other_team": {"scope": "team", "id": stranger.team_id},
        "missing_user": {"scope": "user", "id": 999999},
        "missing_team": {"scope": "team", "id": 999999},
    }[who]

    response = as_user(api, am).get(METRICS, {"metric": "signed_revenue", **query})

    assert error_of(response, 404)["code"] == "not_found"


def test_account_managers_and_sales_do_not_read_the_agencys_figures(api, am, sales):
    assert error_of(as_user(api, am).get(METRICS, {"metric": "signed_revenue"}), 403)
    assert error_of(as_user(api, sales).get(METRICS, {"metric": "signed_revenue", "scope": "agency"}), 403)


def test_sales_reads_its_own_figures_like_an_account_manager(api, sales, am):
    own = as_user(api, sales).get(METRICS, {"metric": "pipeline_weighted", "scope": "user", "id": sales.pk})
    other = as_user(api, sales).get(METRICS, {"metric": "pipeline_weighted", "scope": "user", "id": am.pk})

    assert own.status_code == 200
    assert error_of(other, 404)


def test_finance_and_directors_read_any_scope(api, finance, director, stranger, september):
    for user in (finance, director):
        api = as_user(api, user)
        person = api.get(METRICS, {"metric": "signed_revenue", "scope": "user", "id": stranger.pk, "period": "2026-09"})
        agency = api.get(METRICS, {"metric": "signed_revenue", "period": "2026-09"})

        assert person.json()["actual"] == {"VND": "100000000.00"}
        assert agency.json()["actual"] == {"USD": "12000.00", "VND": "1020000000.00"}


def test_the_period_is_this_month_by_default(api, director):
    body = as_user(api, director).get(METRICS, {"metric": "new_clients"}).json()

    assert body["period"]["key"] == current_period().key
    assert (body["actual"], body["target"], body["attainment"]) == ("0", None, None)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"metric": "bookings"}, "metric"),
        ({"metric": "signed_revenue", "scope": "department"}, "scope"),
        ({"metric": "signed_revenue", "period": "2026-W48"}, "period"),
        ({"metric": "signed_revenue", "scope": "user"}, "id"),
        ({}, "metric"),
    ],
)
def test_an_unknown_metric_scope_or_period_is_a_structured_400(api, director, query, field):
    error = error_of(as_user(api, director).get(METRICS, query), 400)

    assert error["code"] == "invalid"
    assert field in error["fields"]


def test_the_metrics_endpoint_runs_a_handful_of_queries(api, director, am, september, django_assert_max_num_queries):
    api = as_user(api, director)

    with django_assert_max_num_queries(3):  # the user in scope, the figure, its targets
        assert api.get(METRICS, {"metric": "signed_revenue", "scope": "user", "id": am.pk}).status_code == 200
