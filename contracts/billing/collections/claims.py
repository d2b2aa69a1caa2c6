"""Claims: one ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per batch takes the rows nobody took before."""

from datetime import date

from django.db import connection
from django.utils import timezone

from contracts.models import CollectionNotice, CollectionStep, Invoice, NoticeDelivery

ROWS_PER_INSERT = 1000  # keeps a claim's parameters under the databases' limits, whatever a batch holds


def insert_returning(model, columns: tuple[str, ...], rows: list[tuple], conflict: tuple[str, ...], returning):
    """INSERT the rows (in the order given), skipping those that conflict; the ``returning`` columns of the rows
    this call inserted.

    A row another open transaction has just inserted makes this one wait for it: skipped when that transaction
    commits, inserted here when it rolls back (a killed worker). Every sweep inserts in the same order, so two
    sweeps never wait for each other in a circle.
    """
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    tail = (
        f"ON CONFLICT ({', '.join(quote(column) for column in conflict)}) DO NOTHING "
        f"RETURNING {', '.join(quote(column) for column in returning)}"
    )
    if connection.vendor == "postgresql":
        return _insert_arrays(model, columns, rows, names, tail) if rows else []
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    inserted = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_INSERT):
            chunk = rows[start : start + ROWS_PER_INSERT]
            statement = (
                f"INSERT INTO {quote(model._meta.db_table)} ({names}) "  # noqa: S608 - names, not values
                f"VALUES {', '.join([placeholders] * len(chunk))} {tail}"
            )
            cursor.execute(statement, [value for row in chunk for value in row])
            inserted += cursor.fetchall()
    return inserted


def _insert_arrays(model, columns: tuple[str, ...], rows: list[tuple], names: str, tail: str) -> list[tuple]:
    """PostgreSQL: the rows as one array per column, unnested in their order. A statement of a few parameters
    whatever the batch holds, where thousands of placeholders cost the driver more than the insert."""
    fields = {field.column: field for field in model._meta.concrete_fields}
    arrays = ", ".join(f"%s::{fields[column].db_type(connection)}[]" for column in columns)
    statement = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) "  # noqa: S608 - names, not values
        f"SELECT {names} FROM unnest({arrays}) WITH ORDINALITY AS claimed ({names}, position) "
        f"ORDER BY position {tail}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [list(values) for values in zip(*rows, strict=True)])
        return cursor.fetchall()


def _now():
    return connection.ops.adapt_datetimefield_value(timezone.now())


def claim_notices(levels: dict[int, int], today: date) -> dict[int, int]:
    """Insert the day's CollectionNotice of each client (``levels``: client id → level); client id → notice id of
    the ones this call inserted."""
    day, now = connection.ops.adapt_datefield_value(today), _now()
    rows = sorted((client_id, day, level, now) for client_id, level in levels.items())
    columns = ("client_id", "sent_on", "level", "created_at")
    return dict(insert_returning(CollectionNotice, columns, rows, ("client_id", "sent_on"), ("client_id", "id")))


def claim_steps(invoices: list[Invoice], notices: dict[int, int], today: date) -> set[int]:
    """Insert the CollectionStep (invoice, ``due_level``) of each invoice, linked to its client's notice; the ids
    of the invoices whose step this call inserted."""
    day, now = connection.ops.adapt_datefield_value(today), _now()
    rows = sorted((invoice.pk, invoice.due_level, day, notices[invoice.client_id], now) for invoice in invoices)
    columns = ("invoice_id", "level", "taken_on", "notice_id", "created_at")
    return {pk for (pk,) in insert_returning(CollectionStep, columns, rows, ("invoice_id", "level"), ("invoice_id",))}


def claim_delivery(notice_id: int, contact_id: int) -> bool:
    columns = ("notice_id", "contact_id", "sent_at")
    row = (notice_id, contact_id, _now())
    return bool(insert_returning(NoticeDelivery, columns, [row], ("notice_id", "contact_id"), ("id",)))
