"""What the API refuses because its schema forbids it (found by tests/test_api_fuzz.py): each a 400 naming the
field or parameter, never silently ignored or coerced."""

import pytest

from clients.models import Partner
from tests.api_support import as_user, error_of, ids
from tests.factories import ContactFactory, NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url, parameter",
    [
        ("/api/v1/notifications", "unread"),
        ("/api/v1/contacts", "is_billing"),
        ("/api/v1/activities", "open_next_step"),
        ("/api/v1/invoices", "disputed"),
        ("/api/v1/invoices/totals", "disputed"),
    ],
)
def test_a_yes_no_filter_takes_true_or_false_only(api, director, url, parameter):
    as_user(api, director)

    for value in ("null", "1", "yes", "True"):
        assert error_of(api.get(url, {parameter: value}), 400)["fields"] == {parameter: ["Enter true or false."]}
    assert api.get(url, {parameter: "true"}).status_code == 200
    assert api.get(url, {parameter: ""}).status_code == 200  # empty: not filtered


def test_the_yes_no_filters_still_filter(api, director):
    NotificationFactory(recipient=director)
    billing, other = ContactFactory(is_billing=True), ContactFactory(is_billing=False)
    as_user(api, director)

    assert api.get("/api/v1/notifications", {"unread": "false"}).json()["count"] == 0
    assert ids(api.get("/api/v1/contacts", {"is_billing": "true"})) == {billing.pk}
    assert ids(api.get("/api/v1/contacts", {"is_billing": "false"})) == {other.pk}


@pytest.mark.parametrize("notes", [0, 1.5, True])
def test_a_string_field_refuses_a_number_or_a_boolean(api, director, notes):
    answer = as_user(api, director).post("/api/v1/partners", {"name": "Studio Mây", "kind": "sponsor", "notes": notes})

    assert error_of(answer, 400)["fields"] == {"notes": ["Not a valid string."]}
    assert not Partner.objects.exists()


def test_a_boolean_field_refuses_anything_but_true_or_false(api, director):
    contact = ContactFactory(is_billing=False)

    answer = as_user(api, director).patch(f"/api/v1/contacts/{contact.pk}", {"is_billing": 1})

    assert error_of(answer, 400)["fields"] == {"is_billing": ["Must be a valid boolean."]}
    contact.refresh_from_db()
    assert contact.is_billing is False


def test_an_amount_must_be_a_decimal_string(api, director):
    body = {"metric": "signed_revenue", "scope": "agency", "period": "2026-11", "currency": "VND"}
    as_user(api, director)

    number = api.post("/api/v1/kpi-targets", {**body, "value": 1500000})
    text = api.post("/api/v1/kpi-targets", {**body, "value": "1500000.00"})

    assert error_of(number, 400)["fields"] == {"value": ['Send a decimal number as a string, e.g. "1500000.00".']}
    assert text.status_code == 201, text.content


@pytest.mark.parametrize("period", ["2026-q4", "2026-1", " 2026", "1999", "2026-Q5"])
def test_a_period_key_is_taken_exactly_as_documented(api, director, period):
    as_user(api, director)

    assert set(error_of(api.get("/api/v1/kpi-targets", {"period": period}), 400)["fields"]) == {"period"}
    assert set(error_of(api.get("/api/v1/kpis/metrics", {"metric": "win_rate", "period": period}), 400)["fields"]) == {
        "period"
    }


@pytest.mark.parametrize("page", ["null", "0", "²", ""])
def test_the_aging_page_must_be_a_whole_number_of_at_least_1(api, director, page):
    answer = as_user(api, director).get("/api/v1/receivables/aging", {"page": page})

    assert error_of(answer, 400)["fields"] == {"page": ["Enter a whole number of at least 1."]}


def test_a_page_size_in_another_script_is_a_400_not_a_500(api, director):
    answer = as_user(api, director).get("/api/v1/notifications", {"page_size": "²"})

    assert error_of(answer, 400)["fields"] == {"page_size": ["Enter a whole number of at least 1."]}


def test_patching_me_with_nothing_changes_nothing(api, director):
    answer = as_user(api, director).patch("/api/v1/me", {})

    assert answer.status_code == 200
    assert answer.json()["preferred_language"] == director.preferred_language


def test_an_unknown_api_path_is_a_json_404_even_with_debug_on(api, director, settings):
    settings.DEBUG = True

    answer = as_user(api, director).get("/api/v1/clients/0.5")

    assert error_of(answer, 404)["code"] == "not_found"


def test_a_post_to_an_unknown_api_path_with_a_session_is_a_json_404_not_a_csrf_page(director):
    from django.test import Client as Browser

    browser = Browser(enforce_csrf_checks=True)
    browser.force_login(director)

    answer = browser.post("/api/v1/invoices/0.5/void", {}, content_type="application/json")

    assert error_of(answer, 404)["code"] == "not_found"
