"""Emission: an event and its deliveries are written in the change's transaction and queued only after it commits;
nothing at all when nobody subscribes; the payload is frozen at emit time; a ``once_key`` event happens once."""

import pytest
from django.db import transaction

from accounts.models import Role
from clients import services as client_services
from clients.models import Client
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEvent
from integrations.services import emit
from tests.factories import ClientFactory, UserFactory

from .conftest import make_endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def am():
    return UserFactory(role=Role.ACCOUNT_MANAGER)


def test_an_event_goes_to_each_active_subscribed_endpoint_after_commit(am, django_capture_on_commit_callbacks):
    first = make_endpoint(events=["client.created", "client.updated"])
    second = make_endpoint(url="https://crm.example.org/in", events=["client.created"])
    make_endpoint(url="https://off.example.org/in", events=["client.created"], is_active=False)
    make_endpoint(url="https://other.example.org/in", events=["invoice.paid"])

    with django_capture_on_commit_callbacks() as callbacks:
        client = client_services.client_create(actor=am, name="Công ty Sữa Ba Vì")

    event = WebhookEvent.objects.get()
    assert event.type == "client.created"
    assert event.data["object"]["id"] == client.pk
    assert event.data["object"]["name"] == "Công ty Sữa Ba Vì"
    assert event.data["object"]["url"].endswith(f"/clients/{client.pk}/")
    deliveries = WebhookDelivery.objects.filter(event=event)
    assert {delivery.endpoint_id for delivery in deliveries} == {first.pk, second.pk}
    assert {delivery.status for delivery in deliveries} == {DeliveryStatus.PENDING}
    assert len(callbacks) == 2  # each delivery handed to the worker once the change commits (core/outbox.py)


def test_a_rolled_back_change_emits_nothing(am, django_capture_on_commit_callbacks):
    make_endpoint(events=["client.created"])

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        client_services.client_create(actor=am, name="Rolled back")
        raise RuntimeError("the surrounding transaction fails")

    assert callbacks == []  # nothing queued: the task never runs
    assert not Client.objects.filter(name="Rolled back").exists()
    assert not WebhookEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_nobody_subscribed_costs_one_query_and_writes_nothing(am, django_assert_num_queries):
    make_endpoint(events=["invoice.paid"])
    client = ClientFactory(owner=am)

    with django_assert_num_queries(1):  # the active endpoints and their events
        assert emit("client.updated", client) is None

    assert not WebhookEvent.objects.exists()


def test_the_payload_is_frozen_when_the_event_is_emitted(am):
    make_endpoint(events=["client.updated"])
    client = ClientFactory(owner=am, name="Before")

    with transaction.atomic():
        event = emit("client.updated", client, reason="test")
    Client.objects.filter(pk=client.pk).update(name="After")

    event.refresh_from_db()
    assert event.data["object"]["name"] == "Before"
    assert event.data["reason"] == "test"
    assert event.payload() == {
        "id": str(event.id),
        "type": "client.updated",
        "created": event.created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "data": event.data,
    }


def test_an_event_with_a_once_key_happens_once(am):
    make_endpoint(events=["client.updated"])
    client = ClientFactory(owner=am)

    with transaction.atomic():
        first = emit("client.updated", client, once_key="client.updated:test")
        second = emit("client.updated", client, once_key="client.updated:test")

    assert first is not None and second is None
    assert WebhookEvent.objects.count() == 1
    assert WebhookDelivery.objects.count() == 1


def test_an_unknown_event_type_is_a_programming_error(am):
    with pytest.raises(ValueError):
        emit("client.exploded", ClientFactory(owner=am))
