"""The Webhooks pages: administrators only; create with a URL check, edit, rotate, ping, delete; the delivery log
filters by status, paginates, redelivers, and costs the same queries for 2 rows as for 20."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from accounts.navigation import navigation_for
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.factories import UserFactory

from .conftest import make_endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, admin):
    client.force_login(admin)
    return client


def deliveries(endpoint, count: int, status=DeliveryStatus.SUCCEEDED) -> None:
    now = timezone.now()
    for number in range(count):
        event = WebhookEvent.objects.create(type="client.created", created=now, data={"object": {"id": number}})
        WebhookDelivery.objects.create(
            event=event, endpoint=endpoint, status=status, attempts=1, last_status_code=200, duration_ms=42
        )


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.ACCOUNT_MANAGER, Role.FINANCE, Role.SALES])
def test_only_administrators_see_the_pages(client, role):
    endpoint = make_endpoint()
    client.force_login(UserFactory(role=role))

    assert client.get("/settings/webhooks/").status_code == 403
    assert client.get(f"/settings/webhooks/{endpoint.pk}/").status_code == 403
    assert client.post(f"/settings/webhooks/{endpoint.pk}/rotate-secret/").status_code == 403
    assert client.post(f"/settings/webhooks/{endpoint.pk}/delete/").status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk, secret=endpoint.secret).exists()
    assert "/settings/webhooks/" not in client.get("/").content.decode()  # no menu entry either


def test_the_menu_has_webhooks_for_administrators_under_settings(signed_in, admin):
    [settings_menu] = [item for item in navigation_for(admin) if getattr(item, "test_id", "") == "nav-settings"]

    assert [str(child.label) for child in settings_menu.children] == ["Webhooks", "Administration"]
    assert 'href="/settings/webhooks/"' in signed_in.get("/").content.decode()


def test_creating_an_endpoint_with_events_as_checkboxes(signed_in, admin, allow_private):
    page = signed_in.get("/settings/webhooks/new/").content.decode()
    assert 'type="checkbox" name="events" value="invoice.overdue"' in page

    response = signed_in.post(
        "/settings/webhooks/new/",
        {"url": "http://127.0.0.1:8123/in", "description": "Kế toán", "events": ["invoice.paid", "client.created"]},
    )

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/settings/webhooks/{endpoint.pk}/"
    assert endpoint.events == ["client.created", "invoice.paid"]  # in the documented order
    assert endpoint.is_active is False  # the box was not ticked
    assert endpoint.created_by == admin
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40


def test_a_private_url_is_a_form_error(signed_in):
    response = signed_in.post("/settings/webhooks/new/", {"url": "http://10.0.0.8/hook", "events": ["ping"]})

    assert response.status_code == 200
    assert "Choose at least one event" not in response.content.decode()  # "ping" is not a choice: a field error
    response = signed_in.post(
        "/settings/webhooks/new/", {"url": "http://10.0.0.8/hook", "events": ["client.created"], "is_active": "on"}
    )
    assert response.status_code == 200
    assert "private or reserved address" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_editing_keeps_the_secret(signed_in):
    endpoint = make_endpoint(url="https://hooks.example.com/in")
    response = signed_in.post(
        f"/settings/webhooks/{endpoint.pk}/edit/",
        {"url": "https://hooks.example.com/in", "events": ["request.created"], "is_active": "on"},
    )

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.events == ["request.created"]
    assert WebhookEndpoint.objects.get().secret == endpoint.secret


def test_rotating_the_secret_keeps_the_previous_one_for_a_day(signed_in):
    endpoint = make_endpoint()
    old = endpoint.secret

    response = signed_in.post(f"/settings/webhooks/{endpoint.pk}/rotate-secret/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and response["HX-Redirect"] == f"/settings/webhooks/{endpoint.pk}/"
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    page = signed_in.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    assert endpoint.secret in page and old not in page
    assert "The previous secret also signs until" in page


def test_a_test_event_is_queued_for_this_endpoint_only(signed_in, django_capture_on_commit_callbacks):
    endpoint = make_endpoint()
    make_endpoint(url="https://other.example.com/in")

    with django_capture_on_commit_callbacks() as callbacks:
        response = signed_in.post(f"/settings/webhooks/{endpoint.pk}/ping/")

    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint_id, delivery.event.type, delivery.status) == (endpoint.pk, "ping", "pending")
    assert len(callbacks) == 1


def test_deleting_an_endpoint_deletes_its_log(signed_in):
    endpoint = make_endpoint()
    deliveries(endpoint, 2)

    response = signed_in.post(f"/settings/webhooks/{endpoint.pk}/delete/")

    assert response.status_code == 302 and response["Location"] == "/settings/webhooks/"
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()


def test_the_delivery_log_filters_by_status_and_redelivers(signed_in, django_capture_on_commit_callbacks):
    endpoint = make_endpoint()
    deliveries(endpoint, 3)
    deliveries(endpoint, 2, status=DeliveryStatus.GAVE_UP)

    page = signed_in.get(f"/settings/webhooks/{endpoint.pk}/?status=gave_up").content.decode()
    assert page.count('data-testid="delivery-row"') == 2
    partial = signed_in.get(f"/settings/webhooks/{endpoint.pk}/?status=succeeded", HTTP_HX_REQUEST="true")
    assert partial.content.decode().count('data-testid="delivery-row"') == 3
    assert "<html" not in partial.content.decode()

    given_up = WebhookDelivery.objects.filter(status=DeliveryStatus.GAVE_UP).first()
    with django_capture_on_commit_callbacks() as callbacks:
        response = signed_in.post(f"/settings/webhooks/deliveries/{given_up.pk}/redeliver/")

    assert response.status_code == 302
    again = WebhookDelivery.objects.get(redelivery_of=given_up)
    assert (again.event_id, again.status, again.attempts) == (given_up.event_id, "pending", 0)
    assert len(callbacks) == 1


def test_a_delivery_page_shows_the_payload_and_the_response(signed_in):
    endpoint = make_endpoint()
    deliveries(endpoint, 1)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(response_excerpt="thanks, Accord")

    page = signed_in.get(f"/settings/webhooks/deliveries/{delivery.pk}/").content.decode()

    assert str(delivery.event_id) in page and "thanks, Accord" in page and "&quot;client.created&quot;" in page


def test_list_pages_cost_the_same_queries_for_2_rows_as_for_20(signed_in):
    endpoints = [make_endpoint(url=f"https://hooks{number}.example.com/") for number in range(2)]
    deliveries(endpoints[0], 2)
    log = f"/settings/webhooks/{endpoints[0].pk}/"
    small = (queries(signed_in, "/settings/webhooks/"), queries(signed_in, log))

    for number in range(2, 20):
        make_endpoint(url=f"https://hooks{number}.example.com/")
    deliveries(endpoints[0], 18)

    assert (queries(signed_in, "/settings/webhooks/"), queries(signed_in, log)) == small
    # The list: session, user, the unread-notification badge, the endpoints' count (paginator) and the page of
    # endpoints with their 24-hour counts (subqueries, not a query per row). The endpoint's page: session, user,
    # badge, the endpoint, the log's count and the page of deliveries with their event (joined).
    assert small == (5, 6)
