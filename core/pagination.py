"""Paging a list whose rows are costly to compute (a client's health score, its last activity, ...).

Django's Paginator counts the rows, then fetches the page: the list's filter (a search over 60k contacts, say)
runs twice, and the page's query computes every row's annotations over everything that matches before keeping
25. ``SlimPaginator`` finds the page's ids with a query that computes only what the filter and the ordering need
(an index in the ordering's order finds 25 rows and stops), then fetches those rows, with everything the page
shows, by id. With ``count_with_page`` (for a costly filter: a search) the same query counts the matches too
(``COUNT(*) OVER ()``: every match is visited once, instead of once to count and again to find the page); else
the rows are counted on their own, which an index answers for a plain list. With ``ordered_ids`` (every id in
the list's order, from a cache: a sort by a computed score) the count and the page's ids are read from it.
"""

from collections.abc import Callable
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window


class SlimPaginator(Paginator):
    """A Paginator over a QuerySet: three queries per page (the count, the ids, the rows); two with
    ``count_with_page``, and then one more for an empty list or a page past the end (the count)."""

    def __init__(
        self,
        object_list: QuerySet,
        per_page: int,
        *,
        count_with_page: bool = False,
        ordered_ids: Callable[[], list] | None = None,
        **kwargs,
    ):
        super().__init__(object_list, per_page, **kwargs)
        self.count_with_page = count_with_page
        self.ordered_ids = ordered_ids
        self._ids: dict[int, list] = {}

    @cached_property
    def count(self) -> int:
        return len(self._all_ids) if self.ordered_ids else self.object_list.count()

    @cached_property
    def _all_ids(self) -> list:
        return self.ordered_ids()

    def get_page(self, number) -> Page:
        self._find(number)
        return super().get_page(number)

    def _find(self, number) -> None:
        """Find the page's ids, and with them the count, before Paginator validates the number against the count
        (a page past the end finds none: then Paginator counts the rows)."""
        try:
            whole = int(number) if not isinstance(number, float) or number.is_integer() else 0
        except (TypeError, ValueError):
            whole = 0
        if whole >= 1 and self._slim and self.count_with_page:
            self._page_ids(whole)

    @property
    def _slim(self) -> bool:
        # DISTINCT applies after the window: it would count the rows before removing duplicates.
        return isinstance(self.object_list, QuerySet) and not self.object_list.query.distinct

    def _page_ids(self, number: int) -> list:
        if number not in self._ids:
            bottom = (number - 1) * self.per_page
            if self.ordered_ids:
                self._ids[number] = self._all_ids[bottom : bottom + self.per_page]
                return self._ids[number]
            lean = self.object_list.select_related(None).prefetch_related(None)
            if not self.count_with_page:
                self._ids[number] = list(lean.values_list("pk", flat=True)[bottom : bottom + self.per_page])
                return self._ids[number]
            rows = list(
                lean.annotate(slim_total=Window(Count("pk"))).values_list("pk", "slim_total")[
                    bottom : bottom + self.per_page
                ]
            )
            self._ids[number] = [pk for pk, _total in rows]
            if rows:
                self.count = rows[0][1]
        return self._ids[number]

    def page(self, number) -> Page:
        self._find(number)
        number = self.validate_number(number)
        if not self._slim:
            return super().page(number)
        ids = self._page_ids(number)
        position = {pk: index for index, pk in enumerate(ids)}
        rows = sorted(self.object_list.filter(pk__in=ids), key=lambda row: position[row.pk]) if ids else []
        return self._get_page(rows, number, self)
