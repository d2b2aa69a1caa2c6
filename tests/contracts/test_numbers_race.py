"""Contract numbers stay unique when several deals are created at the same moment (PostgreSQL row lock)."""

import threading

import pytest
from django.db import connection, connections

from accounts.models import Role
from contracts import services
from contracts.models import Contract
from tests.conftest import require
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_deals_get_distinct_consecutive_numbers():
    require(connection.vendor == "postgresql", "needs PostgreSQL for real concurrent transactions")
    am = UserFactory(role=Role.ACCOUNT_MANAGER)
    client = ClientFactory(owner=am)
    start = threading.Barrier(6)
    errors: list[Exception] = []

    def create(index: int) -> None:
        try:
            start.wait()
            services.contract_create(client=client, actor=am, title=f"Deal {index}")
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    numbers = sorted(Contract.objects.values_list("number", flat=True))
    assert errors == []
    assert [int(number.rsplit("-", 1)[1]) for number in numbers] == [1, 2, 3, 4, 5, 6]
