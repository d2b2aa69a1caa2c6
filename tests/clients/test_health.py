"""The least healthy clients: the score computed once per client, the lowest first, with how many are under it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from clients.health import AT_RISK_BELOW, annotate_health, least_healthy
from clients.models import Client
from tests.factories import ActivityFactory, ClientFactory, RequestFactory, UserFactory

pytestmark = pytest.mark.django_db


def _idle(client: Client, days: int) -> Client:
    Client.objects.filter(pk=client.pk).update(created_at=timezone.now() - timedelta(days=days))
    return client


def test_the_least_healthy_clients_come_first_with_their_count(django_assert_num_queries):
    owner = UserFactory(role="account_manager", full_name="Nguyễn Thu Hà")
    worst = _idle(ClientFactory(owner=owner, name="Bình Minh"), 120)  # 55 for inactivity
    RequestFactory.create_batch(2, client=worst, priority="urgent")  # and 30 for urgent requests: 15
    tied_b = _idle(ClientFactory(owner=owner, name="Sao Mai B"), 100)  # 45
    tied_a = _idle(ClientFactory(owner=owner, name="Sao Mai A"), 95)  # 45: same score, first by name
    _idle(ClientFactory(owner=owner, name="Ổn Định"), 70)  # 70: not at risk
    ActivityFactory(client=_idle(ClientFactory(owner=owner), 200), occurred_at=timezone.now())  # 100

    with django_assert_num_queries(1):
        page, total = least_healthy(Client.objects.all(), limit=2)

    assert total == 3
    assert [(client.pk, client.health_score, client.owner.full_name) for client in page] == [
        (worst.pk, 15, "Nguyễn Thu Hà"),
        (tied_a.pk, 45, "Nguyễn Thu Hà"),
    ]
    # The same clients and scores as the clients list's own filter on the annotation.
    listed = annotate_health(Client.objects.all()).filter(health_score__lt=AT_RISK_BELOW)
    assert sorted(listed.values_list("pk", "health_score")) == sorted(
        [(worst.pk, 15), (tied_a.pk, 45), (tied_b.pk, 45)]
    )


def test_no_client_under_the_threshold_is_an_empty_page():
    ClientFactory()

    assert least_healthy(Client.objects.all(), limit=10) == ([], 0)
