"""Paging a list whose rows are costly to compute (a client's health score, its last activity, ...).

Django's Paginator fetches the page with everything the rows show, and PostgreSQL computes those annotations over
every row that matches before keeping 25. ``SlimPaginator`` finds the page's ids with a query that computes only
what the filter and the ordering need (an index in the ordering's order finds 25 rows and stops), then fetches
those rows, with everything the page shows, by id. With ``ordered_ids`` (every id of the list in its order, from a
cache: ``clients.selectors.client_order_kept``) the count and the page's ids are read from it, without a query.
"""

from collections.abc import Callable
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet


class SlimPaginator(Paginator):
    """A Paginator over a QuerySet: three queries per page (the count, the ids, the rows), or with ``ordered_ids``
    the rows only (and what ``ordered_ids`` costs)."""

    def __init__(
        self, object_list: QuerySet, per_page: int, *, ordered_ids: Callable[[], list] | None = None, **kwargs
    ):
        super().__init__(object_list, per_page, **kwargs)
        self.ordered_ids = ordered_ids

    @cached_property
    def count(self) -> int:
        return len(self._all_ids) if self.ordered_ids else self.object_list.count()

    @cached_property
    def _all_ids(self) -> list:
        return self.ordered_ids()

    def _page_ids(self, number: int) -> list:
        bottom = (number - 1) * self.per_page
        if self.ordered_ids:
            return self._all_ids[bottom : bottom + self.per_page]
        lean = self.object_list.select_related(None).prefetch_related(None)
        return list(lean.values_list("pk", flat=True)[bottom : bottom + self.per_page])

    def page(self, number) -> Page:
        number = self.validate_number(number)
        ids = self._page_ids(number)
        position = {pk: index for index, pk in enumerate(ids)}
        rows = sorted(self.object_list.filter(pk__in=ids), key=lambda row: position[row.pk]) if ids else []
        return self._get_page(rows, number, self)
