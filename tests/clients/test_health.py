"""The least healthy clients: the score computed once per client, the lowest first, with how many are under it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clients.health import AT_RISK_BELOW, annotate_health, health_factors, least_healthy
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


# --- The list's score and the client page's explanation agree ---------------------------------------------------


def _varied_client(owner, index: int, now) -> Client:
    """A client shaped by one of the health rules' cases (``index`` modulo their number): inactivity counted from
    an activity or from the creation date (future and automatic entries ignored), urgent requests, renewals due with
    or without a renewal deal, overdue invoices, and all of them at once."""
    from contracts.models import Stage
    from tests.factories import ActiveContractFactory, ContractFactory, InvoiceFactory

    def ago(days: int):
        return now - timedelta(days=days)

    def due_contract(client, days: int):
        return ActiveContractFactory(client=client, notice_deadline=timezone.localdate(now) + timedelta(days=days))

    def overdue(client, days: int, **fields):
        due = timezone.localdate(now) - timedelta(days=days)
        contract = ActiveContractFactory(client=client)
        return InvoiceFactory(contract=contract, issue_date=due - timedelta(days=30), due_date=due, **fields)

    client = ClientFactory(owner=owner, name=f"Khách {index % 3}")  # names repeat: ties go by name, then id
    case = index % 13
    created = {0: 2, 1: 35, 2: 400, 3: 400, 4: 5, 7: 70, 10: 31, 11: 120, 12: 61}.get(case, 10)
    Client.objects.filter(pk=client.pk).update(created_at=ago(created))
    if case == 0:
        ActivityFactory(client=client, occurred_at=ago(2))
    elif case == 2:
        ActivityFactory(client=client, occurred_at=ago(65))
    elif case == 3:  # a meeting planned for next week and Accord's own entry are no contact: 55
        ActivityFactory(client=client, occurred_at=ago(95))
        ActivityFactory(client=client, occurred_at=ago(-7))
        ActivityFactory(client=client, occurred_at=ago(1), is_system=True)
    elif case == 4:  # created last week from an import, its timeline older: 55
        ActivityFactory(client=client, occurred_at=ago(100))
    elif case == 5:
        RequestFactory(client=client, priority="urgent")
        RequestFactory(client=client, priority="urgent", status="closed")
        RequestFactory(client=client, priority="normal")
    elif case == 6:
        RequestFactory.create_batch(3, client=client, priority="urgent", status="in_progress")
    elif case == 7:  # the window's last day
        due_contract(client, 60)
    elif case == 8:  # one renewal on its way (no points), another due today whose renewal was lost (20)
        ContractFactory(client=client, renewal_of=due_contract(client, 40), kind="renewal", stage=Stage.DRAFT)
        lost = ContractFactory(client=client, kind="renewal", stage=Stage.LOST, lost_reason="Budget cut")
        lost.renewal_of = due_contract(client, 0)
        lost.save(update_fields=["renewal_of"])
    elif case == 9:  # notice deadlines outside the window cost nothing
        due_contract(client, 61)
        due_contract(client, -1)
    elif case == 10:
        overdue(client, 35)
        overdue(client, 200, status="paid", paid_amount=Decimal("110000000"))
    elif case == 11:  # every rule at once: 55 + 30 + 20 + 30 points, the score stops at 0
        RequestFactory.create_batch(2, client=client, priority="urgent")
        due_contract(client, 0)
        overdue(client, 95, disputed=True)
        overdue(client, 40)
    elif case == 12:
        overdue(client, 65)
        RequestFactory(client=client, priority="urgent", status="waiting_client")
    return client


def test_the_at_risk_list_scores_as_the_client_page_explains(django_assert_num_queries):
    """Every client's score in the list is 100 less the points of the factors its page shows, and the list's order
    is the clients list's own (score, then name, then id)."""
    now = timezone.now()
    owner = UserFactory(role="account_manager")
    for index in range(26):
        _varied_client(owner, index, now)

    with django_assert_num_queries(1):
        page, total = least_healthy(Client.objects.all(), limit=100, below=101, now=now)

    explained = {
        client.pk: max(100 - sum(factor.points for factor in health_factors(client, now)), 0)
        for client in annotate_health(Client.objects.all(), now)
    }
    assert total == len(explained) == 26
    assert {client.pk: client.health_score for client in page} == explained
    # 100, 85, 70, 45, 45, 85, 70, 50, 80, 100, 75, 0, 35: each case's points as worked out above
    assert sorted(set(explained.values())) == [0, 35, 45, 50, 70, 75, 80, 85, 100]
    ordered = annotate_health(Client.objects.all(), now).order_by("health_score", "name", "pk")
    assert [client.pk for client in page] == list(ordered.values_list("pk", flat=True))


@pytest.mark.parametrize("clients", [13, 39])
def test_the_at_risk_list_is_one_query_however_many_clients(clients, django_assert_num_queries):
    now = timezone.now()
    owner = UserFactory(role="account_manager")
    for index in range(clients):
        _varied_client(owner, index, now)

    with django_assert_num_queries(1):
        page, total = least_healthy(Client.objects.all(), limit=10, now=now)

    assert (len(page), total) == (min(10, total), 4 * clients // 13)


def test_the_home_pages_clients_at_risk_are_kept_until_an_input_changes(client, django_capture_on_commit_callbacks):
    """The home pages keep their clients at risk in the cache (clients.selectors): a new activity, a request
    opened or a client deleted shows on the next visit."""
    from django.core.cache import cache

    from accounts.models import Role

    cache.clear()
    owner = UserFactory(role=Role.ACCOUNT_MANAGER)
    gone = _idle(ClientFactory(owner=owner, name="Sao Mai"), 120)  # first: its deletion moves no latest id or stamp
    idle = _idle(ClientFactory(owner=owner, name="Bình Minh"), 120)
    client.force_login(owner)

    first = client.get("/").content.decode()
    assert "Bình Minh" in first and "Sao Mai" in first
    assert "Bình Minh" in client.get("/").content.decode()  # from the cache

    with django_capture_on_commit_callbacks(execute=True):
        gone.delete()  # moves the deletions' counter when it commits
    answer = client.get("/").content.decode()
    assert "Bình Minh" in answer and "Sao Mai" not in answer

    ActivityFactory(client=idle, occurred_at=timezone.now())  # a sign of life: healthy again
    assert "Bình Minh" not in client.get("/").content.decode()


def test_the_list_sorted_by_health_is_kept_until_an_input_changes(client):
    """A sort by health scores every client the list holds: its order is kept in the cache (clients.views,
    selectors.client_order_kept) and is the selector's own, and a new activity moves a client on the next visit."""
    from django.core.cache import cache

    from clients.selectors import client_list

    cache.clear()
    owner = UserFactory(role="account_manager")
    idle = _idle(ClientFactory(owner=owner, name="Bình Minh"), 120)  # 45
    _idle(ClientFactory(owner=owner, name="Sao Mai"), 70)  # 70
    ActivityFactory(client=_idle(ClientFactory(owner=owner, name="Ổn Định"), 10), occurred_at=timezone.now())  # 100
    client.force_login(owner)

    def names(path: str) -> list[str]:
        return [row.name for row in client.get(path).context["page"].object_list]

    assert names("/clients/?sort=health") == ["Bình Minh", "Sao Mai", "Ổn Định"]
    assert names("/clients/?sort=health") == [row.name for row in client_list(user=owner, ordering="health")]
    assert names("/clients/?sort=-health&status=active") == ["Ổn Định", "Sao Mai", "Bình Minh"]

    ActivityFactory(client=idle, occurred_at=timezone.now())  # a sign of life: healthy again

    assert names("/clients/?sort=health") == ["Sao Mai", "Bình Minh", "Ổn Định"]
