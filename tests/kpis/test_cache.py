"""The KPI figures' revision (kpis/cache.py): every kind of change to the contracts or invoices behind a cached
figure moves it, in one query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kpis import cache as kpi_cache
from tests.factories import ContractFactory, InvoiceFactory

pytestmark = pytest.mark.django_db


def test_a_deleted_contract_moves_the_revision_once_its_deletion_commits(django_capture_on_commit_callbacks):
    draft, newer = ContractFactory(), ContractFactory()
    assert draft.pk < newer.pk and draft.updated_at <= newer.updated_at
    before = kpi_cache.revision()

    with django_capture_on_commit_callbacks(execute=True):
        draft.delete()  # neither the latest change nor the highest id moves

    assert kpi_cache.revision() != before


def test_new_and_changed_rows_move_the_revision_in_one_query():
    contract = ContractFactory()
    first = kpi_cache.revision()
    contract.title = "Chiến dịch Trung thu"
    contract.save()
    second = kpi_cache.revision()
    InvoiceFactory()

    with CaptureQueriesContext(connection) as queries:
        third = kpi_cache.revision()

    assert len({first, second, third}) == 3
    assert len(queries) == 1
