"""Aggregates over many invoices (totals per currency, aging, counts), kept in the cache until an invoice changes.

A figure is stored under its query's own SQL and parameters, so the user's visibility, the filters and today's
date are part of the key, and under the invoices' revision: the latest ``updated_at`` and the highest id, read
with one index look-up, and a counter every billing service moves when its transaction commits
(``invoices_changed``). Any save of an invoice (a service, an import, a test's factory) moves the first; the
counter also catches what the first cannot see: a deleted draft, and a transaction that commits a change stamped
before one committed earlier. A page that only changes its sort or its page number reuses the figure: paging
through 300k invoices does not add them up again on every page.

What a revision cannot see: a client reassigned to another account manager changes which invoices that manager
sees without touching an invoice. ``TIMEOUT`` bounds how long such a figure can lag. With several web processes,
share the cache (``CACHE_URL``, README) so they all drop a figure together; each keeps its own otherwise, still
keyed by the revision it read from the database.
"""

import hashlib
from collections.abc import Callable
from functools import cached_property, partial
from typing import TypeVar

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Max, Model, QuerySet

from contracts.models import Invoice, Payment
from core.counters import bump

TIMEOUT = 120  # seconds
CHANGES_KEY = "billing:invoice-changes"
T = TypeVar("T")


def revision(model: type[Model] = Invoice) -> str:
    """Where the invoices stand: their latest change, highest id and the services' changes. One query. For
    payments (``model=Payment``), which are added and never changed, their highest id and the services' changes."""
    fields = {"last": Max("id")}
    if model is Invoice:
        fields["changed"] = Max("updated_at")
    latest = model.objects.order_by().aggregate(**fields)
    changed = latest.get("changed")
    return f"{model._meta.model_name}:{changed and changed.isoformat()}:{latest['last']}:{cache.get(CHANGES_KEY, 0)}"


def invoices_changed() -> None:
    """Called in a transaction that changes or deletes invoices: once it commits, every cached figure is stale."""
    transaction.on_commit(partial(bump, CHANGES_KEY))


def cached(queryset: QuerySet, compute: Callable[[QuerySet], T], *, revision_now: str | None = None) -> T:
    """``compute(queryset)``, or what it gave for the same query since the invoices last changed."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # a query that matches nothing (.none()): nothing to look up, nothing to add up
        return compute(queryset)
    digest = hashlib.sha256(f"{_name(compute)}\x00{sql}\x00{params!r}".encode()).hexdigest()
    key = f"billing:{digest}:{revision_now or revision()}"
    value = cache.get(key)
    if value is None:
        value = compute(queryset)
        cache.set(key, value, TIMEOUT)
    return value


def _name(compute: Callable) -> str:
    """What is computed, for the key: two figures of the same query must not share one."""
    if isinstance(compute, partial):
        return f"{_name(compute.func)}{compute.args!r}{sorted(compute.keywords.items())!r}"
    return f"{compute.__module__}.{compute.__qualname__}"


class CachedPaginator(Paginator):
    """A Paginator whose count (and with ``cache_pages`` each page's rows: plain values, not model instances)
    comes from the billing cache; the revision (of the invoices, or of the payments for a list of payments) is read
    once for both (``revision``)."""

    def __init__(
        self, object_list: QuerySet, per_page: int, *, cache_pages: bool = False, count_of: QuerySet | None = None
    ):
        super().__init__(object_list, per_page)
        self.cache_pages = cache_pages
        self.count_of = count_of  # a cheaper query with as many rows as object_list (default: object_list itself)

    @cached_property
    def revision(self) -> str:
        return revision(Payment if self.object_list.model is Payment else Invoice)

    @cached_property
    def count(self) -> int:
        counted = self.object_list if self.count_of is None else self.count_of
        return cached(counted.order_by(), _count, revision_now=self.revision)

    def page(self, number) -> Page:
        page = super().page(number)
        if self.cache_pages:
            page.object_list = cached(page.object_list, list, revision_now=self.revision)
        return page


def _count(queryset: QuerySet) -> int:
    return queryset.count()
