"""The read-only API: administrators list the endpoints (never their secret) and the delivery log."""

import pytest
from django.utils import timezone

from accounts.models import Role
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from tests.factories import UserFactory

from .conftest import make_endpoint

pytestmark = pytest.mark.django_db


def test_administrators_read_endpoints_without_their_secret(api, admin):
    endpoint = make_endpoint(events=["invoice.paid"], description="Kế toán")
    api.force_authenticate(admin)

    body = api.get("/api/v1/webhook-endpoints").json()

    [row] = body["results"]
    assert row["id"] == endpoint.pk and row["events"] == ["invoice.paid"] and row["description"] == "Kế toán"
    assert (row["recent_deliveries"], row["recent_trouble"]) == (0, 0)
    assert "secret" not in row and endpoint.secret not in str(body)
    assert api.post("/api/v1/webhook-endpoints", {"url": "https://x.example.com"}).status_code == 405


def test_the_delivery_log_filters_by_endpoint_and_status(api, admin):
    endpoint, other = make_endpoint(), make_endpoint(url="https://other.example.com/")
    event = WebhookEvent.objects.create(type="client.created", created=timezone.now(), data={})
    WebhookDelivery.objects.create(event=event, endpoint=endpoint, status=DeliveryStatus.GAVE_UP, attempts=29)
    WebhookDelivery.objects.create(event=event, endpoint=endpoint, status=DeliveryStatus.SUCCEEDED, attempts=1)
    WebhookDelivery.objects.create(event=event, endpoint=other, status=DeliveryStatus.GAVE_UP, attempts=29)
    api.force_authenticate(admin)

    body = api.get(f"/api/v1/webhook-deliveries?endpoint={endpoint.pk}&status=gave_up").json()

    [row] = body["results"]
    assert (row["endpoint"], row["event_type"], row["event_id"], row["attempts"]) == (
        endpoint.pk,
        "client.created",
        str(event.id),
        29,
    )


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.ACCOUNT_MANAGER, Role.FINANCE])
def test_other_roles_are_refused(api, role):
    make_endpoint()
    api.force_authenticate(UserFactory(role=role))

    assert api.get("/api/v1/webhook-endpoints").status_code == 403
    assert api.get("/api/v1/webhook-deliveries").status_code == 403


def test_the_lists_cost_the_same_queries_for_2_rows_as_for_20(api, admin, django_assert_num_queries):
    endpoint = make_endpoint()
    event = WebhookEvent.objects.create(type="client.created", created=timezone.now(), data={})
    api.force_authenticate(admin)

    def rows(count: int) -> None:
        while WebhookDelivery.objects.count() < count:
            WebhookDelivery.objects.create(event=event, endpoint=endpoint)
            make_endpoint(url=f"https://hooks{WebhookDelivery.objects.count()}.example.com/")

    for count in (2, 20):
        rows(count)
        with django_assert_num_queries(2):  # the count and the page (24-hour counts as subqueries; event joined)
            assert api.get("/api/v1/webhook-endpoints").status_code == 200
        with django_assert_num_queries(2):
            assert api.get("/api/v1/webhook-deliveries").status_code == 200
