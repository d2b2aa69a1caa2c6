"""Audit history: who changed which field of a record, from what to what, and when (django-simple-history).

Each audited model declares ``history = AuditHistory(excluded_fields=[...])``. A save writes a historical row in the
same transaction, with the signed-in user of the request (HistoryRequestMiddleware for pages; DRF sets the same
request's ``user`` once it has checked the token) or none for background work ("System"). Nothing edits or deletes
historical rows: no page or API route writes them, and the admin shows them read-only.

``history_page`` reads one page of the history of one or more records (a client and its contacts, an invoice and its
payments), newest first, with field-level differences, in a number of queries that does not grow with the entries.
"""

import datetime
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from celery.signals import task_postrun, task_prerun
from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format, number_format
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _
from simple_history.models import HistoricalRecords

from core.money import Currency, format_money

# Never worth a line of history: the row's own "last changed" stamp repeats the entry's time.
ALWAYS_EXCLUDED = ("updated_at",)
# Fields a history entry never lists (the entry itself says when the record was created).
NOT_SHOWN = {"id", "created_at"}
PAGE_SIZE = 20
TEXT_SHOWN = 300  # characters of a long text shown in a difference


class AuditHistory(HistoricalRecords):
    """HistoricalRecords for Accord's audited models.

    A save that writes only excluded fields (``save(update_fields=["search_text", "version"])``: caches, revision
    counters, a PDF's hash) writes no history, so the history lists changes a person would recognise.
    """

    def __init__(self, *, excluded_fields: Iterable[str] = (), **kwargs):
        super().__init__(excluded_fields=[*ALWAYS_EXCLUDED, *excluded_fields], **kwargs)

    registered: ClassVar[list] = []  # (AuditHistory, model): what history_paused() disconnects

    def finalize(self, sender, **kwargs):
        already = hasattr(sender._meta, "simple_history_manager_attribute")
        super().finalize(sender, **kwargs)
        if sender is self.cls and not already:
            AuditHistory.registered.append((self, sender))

    def post_save(self, instance, created, using=None, **kwargs):
        update_fields = kwargs.get("update_fields")
        if not created and update_fields is not None and set(update_fields) <= set(self.excluded_fields):
            return
        super().post_save(instance, created, using=using, **kwargs)


@contextmanager
def history_paused():
    """No history written, and deletes as fast as without it (no receiver left to call for each row), in the block:
    for bulk maintenance of generated rows (bench/generate.py), never for people's changes. Not thread-safe: the
    receivers are disconnected for the whole process while the block runs."""
    signals = (models.signals.post_save, models.signals.post_delete, models.signals.pre_delete)
    handlers = ("post_save", "post_delete", "pre_delete")
    for history, model in AuditHistory.registered:
        for signal, handler in zip(signals, handlers, strict=True):
            signal.disconnect(getattr(history, handler), sender=model)
    try:
        yield
    finally:
        for history, model in AuditHistory.registered:
            for signal, handler in zip(signals, handlers, strict=True):
                signal.connect(getattr(history, handler), sender=model, weak=False)


def record_history(queryset: models.QuerySet, *, user=None, created: bool = False) -> None:
    """Write the history of rows changed with ``QuerySet.update()`` (or inserted with ``bulk_create``), which send
    no signal: one read of the rows as they are now and one insert, by ``user`` or else the request's user (none in
    a task)."""
    queryset.model.history.bulk_history_create(list(queryset), update=not created, default_user=user)


# --- Background work records no user --------------------------------------------------------------------------


@task_prerun.connect(weak=False)
def _tasks_act_as_system(**_kwargs) -> None:
    """A task run in-process (eager, or without a broker) inside a request is not that person's doing: its
    changes are recorded with no user, as when a worker runs it."""
    context = HistoricalRecords.context
    suspended = getattr(context, "suspended_requests", [])
    suspended.append(getattr(context, "request", None))
    context.suspended_requests = suspended
    if hasattr(context, "request"):
        del context.request


@task_postrun.connect(weak=False)
def _tasks_give_the_request_back(**_kwargs) -> None:
    context = HistoricalRecords.context
    suspended = getattr(context, "suspended_requests", [])
    request = suspended.pop() if suspended else None
    if request is not None:
        context.request = request


# --- Reading -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistorySource:
    """The historical rows of one audited model that belong to a page: ``rows`` filters its history table.

    ``label`` names the kind of record in a history that shows several (a client's contacts); ``currency`` is the
    path to the currency of the record's amounts: a field of its own ("currency") or of a record it points to
    ("invoice.currency").
    """

    model: type[models.Model]
    rows: Q
    label: str = ""
    currency: str = ""
    describe: Callable[[models.Model], str] | None = None


@dataclass
class Change:
    field: str
    label: str
    old: str | None
    new: str | None


@dataclass
class Entry:
    id: str
    at: datetime.datetime
    kind: str  # created, changed, deleted
    object_type: str
    object_id: int
    object_label: str
    type_label: str
    user: object | None
    changes: list[Change] = field(default_factory=list)
    # A change with no earlier row (the record existed before its history began): its values, not a difference.
    baseline: bool = False

    @property
    def user_name(self) -> str:
        return self.user.full_name if self.user is not None else _("System")


@dataclass
class HistoryPage:
    entries: list[Entry]
    older: int | None  # the cursor of the next page (``before``), None on the last page


KINDS = {"+": "created", "~": "changed", "-": "deleted"}


def parse_cursor(value: str | None) -> int | None:
    """The ``before`` cursor of a page: microseconds since the epoch, or None for the first page. ValueError when
    it is not one."""
    if value in (None, ""):
        return None
    if not value.isdigit() or len(value) > 19:
        raise ValueError(value)
    return int(value)


def _cursor(moment: datetime.datetime) -> int:
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
# A cursor past the year 9999 means "from the newest": no history is that old, and datetime stops there.
LATEST_CURSOR = 253_402_128_000_000_000


def _moment(cursor: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(microseconds=min(cursor, LATEST_CURSOR))


def history_page(*, sources: list[HistorySource], before: int | None = None, limit: int = PAGE_SIZE) -> HistoryPage:
    """One page of history, newest first: at most ``limit`` entries older than the ``before`` cursor.

    Queries: per source, one for the page's rows (each with the id of the row before it) and one for the rows
    before the page's oldest ones; then one per kind of record the changed fields point to, and one for the people.
    """
    fetched = []
    for source in sources:
        history = source.model.history.model
        rows = history.objects.filter(source.rows)
        if before is not None:
            rows = rows.filter(history_date__lt=_moment(before))
        previous = history.objects.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
        rows = rows.annotate(audit_previous_id=Subquery(previous.order_by("-history_id").values("history_id")[:1]))
        fetched += [(source, row) for row in rows.order_by("-history_date", "-history_id")[: limit + 1]]
    fetched.sort(key=lambda pair: (pair[1].history_date, pair[1].history_id), reverse=True)
    shown, older = fetched[:limit], None
    if len(fetched) > limit:
        older = _cursor(shown[-1][1].history_date)
    previous_rows = _previous_rows(shown)
    names = _Names.for_rows([row for _source, row in shown] + list(previous_rows.values()), shown)
    entries = [
        _entry(source, row, previous_rows.get((source.model, row.audit_previous_id)), names) for source, row in shown
    ]
    return HistoryPage(entries=entries, older=older)


def _previous_rows(shown: list) -> dict:
    """The row before each shown one, by (model, history id): from the page itself, else one query per model."""
    known = {(source.model, row.history_id): row for source, row in shown}
    missing: dict = {}
    for source, row in shown:
        if row.audit_previous_id is not None and (source.model, row.audit_previous_id) not in known:
            missing.setdefault(source.model, set()).add(row.audit_previous_id)
    for model, ids in missing.items():
        for row in model.history.model.objects.filter(history_id__in=ids):
            known[(model, row.history_id)] = row
    return known


def tracked_fields(model: type[models.Model]) -> list[models.Field]:
    """The audited model's fields that its history keeps and shows, in the model's order."""
    kept = {item.name for item in model.history.model._meta.concrete_fields}
    return [
        item
        for item in model._meta.concrete_fields
        if item.name in kept and item.name not in NOT_SHOWN and not item.name.startswith("history_")
    ]


class _Names:
    """Readable names of the records that the page's rows point to, one query per related model."""

    def __init__(self, objects: dict):
        self.objects = objects  # (model, pk) -> instance

    @classmethod
    def for_rows(cls, rows: list, shown: list) -> "_Names":
        wanted: dict = {}
        for row in rows:
            model = row.instance_type
            for item in tracked_fields(model):
                value = getattr(row, item.attname)
                if item.is_relation and value is not None:
                    wanted.setdefault(item.related_model, set()).add(value)
        for _source, row in shown:
            if row.history_user_id is not None:
                wanted.setdefault(get_user_model(), set()).add(row.history_user_id)
        objects = {}
        for model, ids in wanted.items():
            for instance in model._base_manager.filter(pk__in=ids):
                objects[(model, instance.pk)] = instance
        return cls(objects)

    def get(self, model, pk):
        return self.objects.get((model, pk))


def _entry(source: HistorySource, row, previous, names: _Names) -> Entry:
    model = source.model
    kind = KINDS[row.history_type]
    fields = tracked_fields(model)
    currency = _currency(source, row, names)
    if kind == "changed" and previous is not None:
        changed = [item for item in fields if getattr(previous, item.attname) != getattr(row, item.attname)]
        old_currency = _currency(source, previous, names)
        changes = [
            Change(
                item.name,
                capfirst(item.verbose_name),
                _shown(item, getattr(previous, item.attname), old_currency, names),
                _shown(item, getattr(row, item.attname), currency, names),
            )
            for item in changed
        ]
    elif kind == "created" or (kind == "changed" and previous is None):
        # The first values of a record (or of one whose history began after it was created).
        changes = [
            Change(
                item.name, capfirst(item.verbose_name), None, _shown(item, getattr(row, item.attname), currency, names)
            )
            for item in fields
            if getattr(row, item.attname) not in (None, "")
        ]
    else:
        changes = []
    user = names.get(get_user_model(), row.history_user_id) if row.history_user_id else None
    return Entry(
        id=f"{model._meta.label_lower}:{row.history_id}",
        at=row.history_date,
        kind=kind,
        object_type=model._meta.model_name,
        object_id=row.id,
        object_label=_object_label(source, row),
        type_label=source.label,
        user=user,
        changes=changes,
        baseline=kind == "changed" and previous is None,
    )


def _object_label(source: HistorySource, row) -> str:
    """The record's name as it was then (``row.instance`` would read the excluded fields back: a query a row)."""
    model = source.model
    kept = {item.attname for item in model.history.model._meta.concrete_fields}
    instance = model(
        **{item.attname: getattr(row, item.attname) for item in model._meta.concrete_fields if item.attname in kept}
    )
    if source.describe is not None:
        return source.describe(instance)
    return str(instance)


def _currency(source: HistorySource, row, names: _Names) -> str:
    if not source.currency:
        return ""
    head, _dot, rest = source.currency.partition(".")
    if not rest:
        return getattr(row, head, "") or ""
    item = row.instance_type._meta.get_field(head)
    related = names.get(item.related_model, getattr(row, item.attname))
    return getattr(related, rest, "") if related is not None else ""


def _shown(item: models.Field, value, currency: str, names: _Names) -> str | None:
    """A value as the pages write it: a choice's label, a record's name, money with its currency, local dates."""
    if value is None or value == "":
        return None
    if item.is_relation:
        related = names.get(item.related_model, value)
        if related is None:
            return _("#%(id)s (deleted)") % {"id": value}
        return getattr(related, "full_name", None) or str(related)
    if item.choices:
        return str(dict(item.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, Decimal):
        if currency in Currency.values:
            return format_money(value, currency)
        plain = value.quantize(Decimal(1)) if value == value.to_integral_value() else value
        return number_format(plain, force_grouping=True)
    if isinstance(item, models.TextField | models.CharField):
        return Truncator(str(value)).chars(TEXT_SHOWN)
    return str(value)


# --- Pages -------------------------------------------------------------------------------------------------------

HISTORY_TARGET = "changes-body"


def history_response(
    request: HttpRequest, *, sources: list[HistorySource], title: str, back_url: str, url: str
) -> HttpResponse:
    """A record's history page: the whole page, or (asked by htmx from the record's page) the list alone for its
    "Change history" section. A malformed ``before`` cursor is a 404, like any other address that does not exist."""
    try:
        before = parse_cursor(request.GET.get("before"))
    except ValueError:
        raise Http404 from None
    page = history_page(sources=sources, before=before)
    partial = bool(getattr(request, "htmx", False)) and request.htmx.target == HISTORY_TARGET
    context = {
        "history": page,
        "title": title,
        "back_url": back_url,
        "older_url": f"{url}{'&' if '?' in url else '?'}before={page.older}" if page.older else "",
        "history_target": HISTORY_TARGET if partial else "",
    }
    response = render(request, "partials/history.html" if partial else "history.html", context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response
