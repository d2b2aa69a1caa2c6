"""core/pagination.py: SlimPaginator gives the pages Django's Paginator gives, its rows fetched by id."""

import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator

from accounts.models import Role
from clients.models import Client
from clients.selectors import client_list
from core.pagination import SlimPaginator
from tests.factories import ClientFactory, UserFactory


@pytest.fixture
def director(db):
    owner = UserFactory()
    for index in range(7):
        ClientFactory(owner=owner, name=f"Khách {index % 4} {index}", tier="AB"[index % 2])
    return UserFactory(role=Role.DIRECTOR)


def pages(paginator) -> list[tuple]:
    return [
        (page.number, [client.pk for client in page.object_list], page.has_next(), paginator.count)
        for page in (paginator.page(number) for number in paginator.page_range)
    ]


def kept(clients):
    """``ordered_ids`` as a cache would hand them: the list's ids in order."""
    return lambda: list(clients.values_list("pk", flat=True))


@pytest.mark.parametrize("with_ids", [False, True])
@pytest.mark.parametrize("ordering", ["name", "-name", "health", "-last_activity", "tier", "owner"])
def test_the_same_pages_as_django_paginator(director, ordering, with_ids):
    clients = client_list(user=director, ordering=ordering)
    slim = SlimPaginator(clients, 3, ordered_ids=kept(clients) if with_ids else None)

    assert pages(slim) == pages(Paginator(clients, 3))


@pytest.mark.parametrize(("with_ids", "queries"), [(False, 4), (True, 3)])
def test_a_page_with_every_annotation_on_its_rows(director, django_assert_num_queries, with_ids, queries):
    clients = client_list(user=director)

    # the count and the ids (or what ordered_ids costs: here one query for both); the rows; their tags
    with django_assert_num_queries(queries):
        page = SlimPaginator(clients, 3, ordered_ids=kept(clients) if with_ids else None).get_page(2)
        rows = list(page.object_list)

    assert [row.name for row in rows] == [client.name for client in clients[3:6]]
    assert all(hasattr(row, "health_score") and row.owner.full_name for row in rows)
    assert page.paginator.count == 7 and page.paginator.num_pages == 3


def test_a_page_past_the_end_or_not_a_number(director):
    clients = client_list(user=director)
    paginator = SlimPaginator(clients, 3)

    assert paginator.get_page(99).number == 3  # as Paginator: the last page
    assert paginator.get_page("x").number == 1
    with pytest.raises(EmptyPage):
        SlimPaginator(clients, 3).page(4)
    with pytest.raises(PageNotAnInteger):
        SlimPaginator(clients, 3).page("two")


def test_an_empty_list_has_one_empty_page(db):
    page = SlimPaginator(Client.objects.none(), 3).get_page(1)

    assert list(page.object_list) == [] and page.paginator.count == 0
