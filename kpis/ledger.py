"""Invoices and payments pre-summed per month, for the revenue, cash, receivables and retention figures.

Over 300k invoices and 500k payments, adding up a year of them (or every open receivable, or two years of revenue
per client for retention) takes hundreds of milliseconds on each first request after a change. Two tables hold
the same sums, kept exact by PostgreSQL's triggers in the writing transaction (migration ``kpis.0002``) on every
insert, change and delete of an invoice or a payment (services, admin, imports, ``QuerySet.update``, COPY) and on
a contract's change of owner:

- ``BillingMonth``: per contract owner, currency and month: invoices issued (net and gross, drafts and void ones
  excluded), payments received, and the changes of what was owed and past due at each month's end (void and
  written-off invoices excluded), so the sum of the months up to one is what was owed at its end;
- ``ClientRevenue``: per client, contract owner, currency and month, the net invoiced over the 12 months ending
  with it: retention compares a month's with the one a year before;
- ``SignedMonth``: per owner, currency, kind and month of signature in the agency's calendar (``LedgerZone``:
  the ``TIME_ZONE`` its months are counted in), the contracts signed, their value, and for those recorded before
  their signature the time they took: the signed-revenue trend (twelve years on a year's dashboard), deals won,
  upsells and days to close. Kept by a trigger on contracts (insert, delete, a change of signature, owner,
  currency, kind, value or creation time).

The metrics read them for calendar periods (whole months: every month, quarter and year) on PostgreSQL, and add up
the invoices and payments directly otherwise (SQLite, small data). Both give the same figures
(``tests/kpis/test_ledger.py`` compares them after every kind of write). ``manage.py rebuild_kpi_ledger``
recomputes the tables (``--check`` compares them with the invoices and payments).
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction

MONTH_COLUMNS = "owner_id, currency, month, invoiced_net, invoiced_gross, received, owed_change, overdue_change"
REVENUE_COLUMNS = "month, client_id, owner_id, currency, net_12_months"

# What the tables hold, computed from the invoices and payments: the triggers' running sums equal these rows.
MONTHS = """
WITH invoices AS (
    SELECT i.id, k.owner_id, i.currency, i.status, i.issue_date, i.due_date, i.net_amount, i.gross_amount,
           i.status IN ('issued', 'partially_paid', 'paid') AS receivable
    FROM contracts_invoice i JOIN contracts_contract k ON k.id = i.contract_id
), facts (owner_id, currency, day, net, gross, received, owed, overdue) AS (
    SELECT owner_id, currency, issue_date, net_amount, gross_amount, 0, 0, 0
    FROM invoices i WHERE i.status NOT IN ('draft', 'void')
    UNION ALL
    SELECT owner_id, currency, issue_date, 0, 0, 0, gross_amount, 0 FROM invoices WHERE receivable
    UNION ALL
    SELECT owner_id, currency, greatest(issue_date, due_date + 1), 0, 0, 0, 0, gross_amount
    FROM invoices WHERE receivable
    UNION ALL
    SELECT i.owner_id, i.currency, p.received_on, 0, 0, p.amount, 0, 0
    FROM contracts_payment p JOIN invoices i ON i.id = p.invoice_id
    UNION ALL
    SELECT i.owner_id, i.currency, greatest(p.received_on, i.issue_date), 0, 0, 0, -p.amount, 0
    FROM contracts_payment p JOIN invoices i ON i.id = p.invoice_id WHERE i.receivable
    UNION ALL
    SELECT i.owner_id, i.currency, greatest(p.received_on, i.issue_date, i.due_date + 1), 0, 0, 0, 0, -p.amount
    FROM contracts_payment p JOIN invoices i ON i.id = p.invoice_id WHERE i.receivable
)
SELECT owner_id, currency, date_trunc('month', day)::date, sum(net), sum(gross), sum(received), sum(owed),
       sum(overdue)
FROM facts
GROUP BY 1, 2, 3
HAVING sum(net) <> 0 OR sum(gross) <> 0 OR sum(received) <> 0 OR sum(owed) <> 0 OR sum(overdue) <> 0
"""
REVENUES = """
WITH monthly AS (
    SELECT i.client_id, k.owner_id, i.currency, date_trunc('month', i.issue_date) AS month, sum(i.net_amount) AS net
    FROM contracts_invoice i JOIN contracts_contract k ON k.id = i.contract_id
    WHERE i.status NOT IN ('draft', 'void')
    GROUP BY 1, 2, 3, 4
)
SELECT (month + make_interval(months => g))::date, client_id, owner_id, currency, sum(net)
FROM monthly CROSS JOIN generate_series(0, 11) g
GROUP BY 1, 2, 3, 4
HAVING sum(net) <> 0
"""
SIGNED_COLUMNS = "owner_id, currency, kind, month, signed, value, timed, days_to_close"
SIGNED = """
SELECT owner_id, currency, kind, date_trunc('month', signed_at AT TIME ZONE %(zone)s)::date, count(*), sum(value),
       count(*) FILTER (WHERE created_at <= signed_at),
       coalesce(sum(signed_at - created_at) FILTER (WHERE created_at <= signed_at), interval '0')
FROM contracts_contract
WHERE signed_at IS NOT NULL
GROUP BY 1, 2, 3, 4
"""


def kept() -> bool:
    """Whether the database keeps the pre-summed rows (PostgreSQL's triggers; not SQLite)."""
    return connection.vendor == "postgresql"


def is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def signed_months_kept() -> bool:
    """Whether ``SignedMonth`` counts months in the configured time zone (after a change of ``TIME_ZONE``, or with
    the zone's row gone, not until ``rebuild_kpi_ledger``)."""
    from kpis.models import LedgerZone

    return kept() and LedgerZone.objects.filter(pk=1, time_zone=settings.TIME_ZONE).exists()


def covers(start: date, end: date) -> bool:
    """Whether the rows can give a figure for the days ``start``–``end``: kept, and whole months."""
    return kept() and start.day == 1 and is_month_end(end)


@transaction.atomic
def rebuild() -> int:
    """Recompute both tables from the invoices and payments; the number of rows written. Locks the invoices and
    payments against writes meanwhile, so no trigger adds to rows being replaced."""
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE contracts_invoice, contracts_payment, contracts_contract IN SHARE MODE")
        cursor.execute("DELETE FROM kpis_billingmonth")
        cursor.execute("DELETE FROM kpis_clientrevenue")
        cursor.execute("DELETE FROM kpis_signedmonth")
        cursor.execute(f"INSERT INTO kpis_billingmonth ({MONTH_COLUMNS}) {MONTHS}")
        rows = cursor.rowcount
        cursor.execute(f"INSERT INTO kpis_clientrevenue ({REVENUE_COLUMNS}) {REVENUES}")
        rows += cursor.rowcount
        cursor.execute(
            "INSERT INTO kpis_ledgerzone (id, time_zone) VALUES (1, %s) "
            "ON CONFLICT (id) DO UPDATE SET time_zone = EXCLUDED.time_zone",
            [settings.TIME_ZONE],
        )
        cursor.execute(f"INSERT INTO kpis_signedmonth ({SIGNED_COLUMNS}) {SIGNED}", {"zone": settings.TIME_ZONE})
        return rows + cursor.rowcount


def differences(limit: int = 10) -> tuple[int, list[tuple]]:
    """How many pre-summed rows differ from what the invoices and payments give, and the first ``limit`` of them
    (table, key and the two sets of values: stored, then computed)."""
    checks = (
        ("kpis_billingmonth", MONTH_COLUMNS, MONTHS, 3),
        ("kpis_clientrevenue", REVENUE_COLUMNS, REVENUES, 4),
        # In the months of the zone the rows were counted in (signed_months_kept says whether it is TIME_ZONE).
        ("kpis_signedmonth", SIGNED_COLUMNS, SIGNED.replace("%(zone)s", "(SELECT time_zone FROM kpis_ledgerzone)"), 4),
    )
    count, first = 0, []
    with connection.cursor() as cursor:
        for table, columns, computed, keys in checks:
            names = [name.strip() for name in columns.split(",")]
            key, values = names[:keys], names[keys:]
            joined = " AND ".join(f"s.{name} = c.{name}" for name in key)
            differ = " OR ".join(f"s.{name} IS DISTINCT FROM c.{name}" for name in values)
            cursor.execute(
                f"WITH c ({columns}) AS ({computed}), s AS (SELECT {columns} FROM {table}) "  # noqa: S608 - constant SQL
                f"SELECT '{table}', {', '.join(f'coalesce(s.{n}, c.{n})' for n in key)}, "
                f"{', '.join(f's.{n}' for n in values)}, {', '.join(f'c.{n}' for n in values)}, count(*) OVER () "
                f"FROM s FULL JOIN c ON {joined} WHERE {differ} LIMIT %s",
                [limit],
            )
            rows = cursor.fetchall()
            count += rows[0][-1] if rows else 0
            first += [row[:-1] for row in rows]
    return count, first[:limit]
