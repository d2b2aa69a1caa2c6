"""Idempotent POSTs: a retry with the same Idempotency-Key gets the first answer and creates nothing twice."""

import contextlib
import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.db import connection
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
from django.test import Client as DjangoClient
from django.test.client import MULTIPART_CONTENT
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import ApiTokenScope
from clients import services as client_services
from clients.models import Client
from core.models import IdempotencyKey
from core.tasks import prune_idempotency_keys_task
from tests.api_support import as_user, error_of
from tests.conftest import require

pytestmark = pytest.mark.django_db


def post_client(api, name="Masan", key="retry-1", **extra):
    return api.post("/api/v1/clients", {"name": name}, HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_a_retry_returns_the_first_answer_and_creates_nothing_twice(api, am):
    as_user(api, am)

    first = post_client(api)
    retry = post_client(api)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert retry["Content-Type"] == "application/json"
    assert Client.objects.filter(name="Masan").count() == 1
    stored = IdempotencyKey.objects.get()
    assert (stored.user, stored.key, stored.method, stored.path, stored.response_status) == (
        am,
        "retry-1",
        "POST",
        "/api/v1/clients",
        201,
    )


def test_the_same_key_with_another_body_is_refused(api, am):
    as_user(api, am)
    post_client(api, name="Masan")

    reused = post_client(api, name="Vinamilk")

    assert error_of(reused, 422)["code"] == "idempotency_key_reused"
    assert not Client.objects.filter(name="Vinamilk").exists()


def test_the_same_key_on_another_endpoint_is_refused(api, am):
    as_user(api, am)
    post_client(api)

    reused = api.post("/api/v1/notifications/1/read", HTTP_IDEMPOTENCY_KEY="retry-1")

    assert error_of(reused, 422)["code"] == "idempotency_key_reused"


def test_keys_are_per_user(api, am, teammate):
    post_client(as_user(api, am))
    other = post_client(as_user(APIClient(), teammate))

    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert Client.objects.filter(name="Masan").count() == 2


def test_without_a_key_each_post_creates(api, am):
    as_user(api, am)

    api.post("/api/v1/clients", {"name": "Masan"})
    api.post("/api/v1/clients", {"name": "Masan"})

    assert Client.objects.filter(name="Masan").count() == 2
    assert not IdempotencyKey.objects.exists()


def test_an_invalid_key_is_a_400(api, am):
    as_user(api, am)

    response = post_client(api, key="x" * 256)

    assert error_of(response, 400)["code"] == "invalid_idempotency_key"
    assert not Client.objects.exists()


def test_a_refused_request_is_replayed_too(api, am):
    as_user(api, am)

    first = api.post("/api/v1/clients", {"tier": "A"}, HTTP_IDEMPOTENCY_KEY="nameless")
    retry = api.post("/api/v1/clients", {"tier": "A"}, HTTP_IDEMPOTENCY_KEY="nameless")

    assert error_of(first, 400) == error_of(retry, 400)
    assert retry["Idempotent-Replayed"] == "true"


def test_a_server_error_is_not_stored_and_leaves_nothing_behind(am, monkeypatch):
    api = as_user(APIClient(raise_request_exception=False), am)
    real_create = client_services.client_create

    def create_then_fail(**kwargs):
        real_create(**kwargs)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(client_services, "client_create", create_then_fail)
    failed = post_client(api)
    monkeypatch.setattr(client_services, "client_create", real_create)
    retry = post_client(api)

    assert failed.status_code == 500
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry
    assert Client.objects.filter(name="Masan").count() == 1  # the failed attempt's client was rolled back


def test_unauthenticated_and_read_only_requests_are_answered_as_without_a_key(api, am):
    read_only = tokens.personal_token_create(user=am, name="Reader", scope=ApiTokenScope.READ)

    anonymous = post_client(api)
    refused = post_client(api, HTTP_AUTHORIZATION=f"Token {read_only.key}")

    assert error_of(anonymous, 401)["code"] == "not_authenticated"
    assert error_of(refused, 403)["code"] == "token_read_only"
    assert not IdempotencyKey.objects.exists() and not Client.objects.exists()


def test_a_token_and_its_users_session_share_the_keys(api, am):
    issued = tokens.personal_token_create(user=am, name="Script", scope=ApiTokenScope.READ_WRITE)
    first = post_client(api, HTTP_AUTHORIZATION=f"Token {issued.key}")

    retry = post_client(as_user(APIClient(), am))

    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()


def browser_signed_in(user):
    """A browser session that sends its CSRF token in X-CSRFToken, with Django's CSRF checks on (as in production)."""
    browser = DjangoClient(enforce_csrf_checks=True)
    browser.force_login(user)
    secret = _get_new_csrf_string()
    browser.cookies["csrftoken"] = secret
    return browser, {"HTTP_X_CSRFTOKEN": _mask_cipher_secret(secret)}


def test_a_browser_session_posts_with_a_key(am):
    # The session's CSRF check, made before the view, reads the body; the view must still see the session and body.
    browser, csrf = browser_signed_in(am)
    body = json.dumps({"name": "Masan"})

    first = browser.post(
        "/api/v1/clients", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="swagger-1", **csrf
    )
    retry = browser.post(
        "/api/v1/clients", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="swagger-1", **csrf
    )

    assert first.status_code == 201, first.content
    assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert Client.objects.filter(name="Masan").count() == 1


def test_a_form_body_is_refused_as_the_schema_documents_json_only(am):
    browser, csrf = browser_signed_in(am)

    answer = browser.post("/api/v1/clients", {"name": "Masan"}, content_type=MULTIPART_CONTENT, **csrf)

    assert error_of(answer, 415)["code"] == "unsupported_media_type"
    assert not Client.objects.exists()


def test_a_malformed_body_from_a_session_is_a_400_not_a_401(am):
    browser, csrf = browser_signed_in(am)

    answer = browser.post(
        "/api/v1/clients", "{not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY="bad-1", **csrf
    )

    assert error_of(answer, 400)["code"] == "parse_error"
    assert not IdempotencyKey.objects.exists()


def test_only_post_is_idempotent_by_key(api, am):
    as_user(api, am)

    api.patch("/api/v1/me", {"preferred_language": "vi"}, HTTP_IDEMPOTENCY_KEY="patch-1")

    assert not IdempotencyKey.objects.exists()


def test_keys_expire_after_24_hours(api, am):
    as_user(api, am)
    post_client(api, key="old")
    post_client(api, name="Vinamilk", key="recent")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

    again = post_client(api, key="old")  # the expired key is free again: a new request
    IdempotencyKey.objects.filter(key="recent").update(created_at=timezone.now() - timedelta(hours=25))
    pruned = prune_idempotency_keys_task()

    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Client.objects.filter(name="Masan").count() == 2
    assert pruned == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["old"]


def test_the_schema_describes_the_header_on_every_post(client, am):
    client.force_login(am)

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    posts = [path["post"] for path in schema["paths"].values() if "post" in path]
    assert posts
    for operation in posts:
        names = [parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "header"]
        assert names.count("Idempotency-Key") == 1
        assert "422" in operation["responses"]
    created = schema["paths"]["/api/v1/clients"]["post"]["responses"]["201"]
    assert "Idempotent-Replayed" in created["headers"]


# --- Concurrency: two identical requests at once, against a live server on PostgreSQL ---------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_identical_posts_create_exactly_one_client(live_server, am, monkeypatch):
    require(connection.vendor == "postgresql", "the concurrency test needs PostgreSQL (set DATABASE_URL)")
    issued = tokens.personal_token_create(user=am, name="Script", scope=ApiTokenScope.READ_WRITE)
    both_inside = threading.Barrier(2, timeout=10)
    real_create = client_services.client_create

    def slow_create(**kwargs):
        # Hold the first request inside its transaction long enough for its twin to arrive and wait on the key;
        # the barrier breaks after 2 s because the twin never gets here (it waits on the key's unique index).
        with contextlib.suppress(threading.BrokenBarrierError):
            both_inside.wait(timeout=2)
        return real_create(**kwargs)

    monkeypatch.setattr(client_services, "client_create", slow_create)
    answers: list[tuple[int, dict, str | None]] = []

    def send():
        request = urllib.request.Request(  # noqa: S310 (the test's own live server)
            f"{live_server.url}/api/v1/clients",
            data=json.dumps({"name": "Masan"}).encode(),
            method="POST",
            headers={
                "Authorization": f"Token {issued.key}",
                "Content-Type": "application/json",
                "Idempotency-Key": "concurrent-1",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the test's live server)
                answers.append((response.status, json.loads(response.read()), response.headers["Idempotent-Replayed"]))
        except urllib.error.HTTPError as error:
            answers.append((error.code, json.loads(error.read()), error.headers["Idempotent-Replayed"]))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=40)

    assert sorted(status for status, _, _ in answers) == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert sorted(str(replayed) for _, _, replayed in answers) == ["None", "true"]
    assert Client.objects.filter(name="Masan").count() == 1
    assert IdempotencyKey.objects.count() == 1
