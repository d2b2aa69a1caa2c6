"""Rate limits: per API token (or signed-in user) and per client address, 429 with Retry-After in the error format."""

import pytest
from django.core.cache import cache

from accounts import tokens
from accounts.models import ApiTokenScope
from tests.api_support import error_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    """Counters live in the cache for a minute: start each test from none (the test cache is this process's)."""
    cache.clear()
    yield
    cache.clear()


def limits(settings, *, caller: str = "1000/minute", address: str = "1000/minute") -> None:
    settings.ACCORD_API_THROTTLE_RATES = {"token": caller, "ip": address}


def key_for(user) -> str:
    return tokens.personal_token_create(user=user, name="Script", scope=ApiTokenScope.READ).key


def test_a_token_beyond_its_rate_gets_429_with_retry_after(api, settings, am):
    limits(settings, caller="3/minute")
    key = key_for(am)

    answers = [api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {key}") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    error = error_of(refused, 429)
    assert error["code"] == "throttled"
    assert error["message"].startswith("Request was throttled.")
    assert 1 <= int(refused["Retry-After"]) <= 60


def test_each_token_has_its_own_budget(api, settings, am):
    limits(settings, caller="2/minute")
    first, second = key_for(am), key_for(am)

    for _ in range(2):
        api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {first}")

    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {first}").status_code == 429
    assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {second}").status_code == 200


def test_a_signed_in_user_is_counted_per_user(client, settings, am, teammate):
    limits(settings, caller="2/minute")
    client.force_login(am)
    for _ in range(2):
        client.get("/api/v1/me")

    assert client.get("/api/v1/me").status_code == 429
    client.force_login(teammate)
    assert client.get("/api/v1/me").status_code == 200


def test_one_address_is_limited_whoever_calls_from_it(api, settings, am, teammate, stranger):
    limits(settings, address="2/minute")
    office, elsewhere = {"REMOTE_ADDR": "203.0.113.7"}, {"REMOTE_ADDR": "198.51.100.20"}
    keys = [key_for(person) for person in (am, teammate, stranger)]

    first = api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {keys[0]}", **office)
    second = api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {keys[1]}", **office)
    third = api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {keys[2]}", **office)
    other_address = api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {keys[2]}", **elsewhere)

    assert (first.status_code, second.status_code) == (200, 200)
    assert error_of(third, 429)["code"] == "throttled"
    assert "Retry-After" in third
    assert other_address.status_code == 200


def test_behind_a_proxy_the_forwarded_address_counts(api, settings, am):
    limits(settings, address="1/minute")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    key = key_for(am)
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    first = api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {key}", HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy)
    second = api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {key}", HTTP_X_FORWARDED_FOR="203.0.113.2", **proxy)
    again = api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {key}", HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy)

    assert (first.status_code, second.status_code, again.status_code) == (200, 200, 429)


def test_the_schema_documents_429_on_every_operation(client, am):
    client.force_login(am)

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    operations = [operation for path in schema["paths"].values() for operation in path.values()]
    assert operations and all("429" in operation["responses"] for operation in operations)
    assert "Retry-After" in schema["paths"]["/api/v1/me"]["get"]["responses"]["429"]["headers"]
