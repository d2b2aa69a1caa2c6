"""The dashboards' grouped facts, kept in the cache until the contracts or invoices behind them change.

A board's facts (``kpis.selectors.board``: contracts signed over the trend, lost, ending, the open pipeline, invoices
issued, payments, new clients, receivables, revenue retention) add up every contract, invoice and payment of a
period: hundreds of milliseconds on a large agency, for figures that move only when a deal or an invoice does.
They are stored under the board's scope and period, who is in which team, and the data's revision, read from the
database on every request (one query), so a figure is never older than the rows it sums:

- the invoices' as billing reads it (``contracts.billing.cache.revision``): their latest change and highest id, and
  the counter the billing services move on commit; recording a payment changes its invoice, so payments move it too;
- the contracts': their latest change and highest id, and a counter every deletion of a contract moves when it
  commits (``contract_deleted``, connected in ``KpisConfig.ready``). Every contract service stamps ``updated_at``
  (a move, a lost deal, a renewal, an expiry) and a new contract raises the highest id. (Counting the contracts
  instead cost 30–80 ms on every request at 100k contracts.)

The same revision keeps the heavy single figures (``metrics.CACHED_METRICS``: the API, the targets page), the home
panel's four figures and the sales funnel and forecast. The clients at risk (``selectors.lists``) add the clients'
own inputs (``clients_revision``) and the day: a health score also moves with time alone.

What a revision cannot see: a transaction that commits a change stamped before one committed earlier. ``TIMEOUT``
bounds how long such a figure can lag. Costs, targets and the people are read live (a few rows each). With several
web processes, share the cache (``CACHE_URL``, README) or each keeps its own copy, still keyed by the revisions.
"""

import hashlib
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from django.core.cache import cache
from django.db import connections, transaction
from django.utils import timezone

from contracts.billing.cache import CHANGES_KEY as INVOICE_CHANGES_KEY
from contracts.models import Contract, Invoice
from core.counters import bump
from core.read_once import read_once, remembered

TIMEOUT = 120  # seconds
CONTRACTS_DELETED_KEY = "kpis:contract-deletions"
CLIENT_INPUTS_DELETED_KEY = "kpis:client-input-deletions"
T = TypeVar("T")


def revision() -> str:
    """Where the contracts and the invoices stand, in one query of index look-ups: the contracts' latest change
    and highest id, and the invoices' latest change and highest id; with the billing services' counter and the
    contract deletions'. Inside ``core.read_once.read_once()``, read once with ``clients_revision`` (one query)."""
    both = remembered("kpis:revisions", partial(_read, clients=True))
    return (both or _read(clients=False))["contracts"]


def _read(*, clients: bool) -> dict[str, str]:
    """The contracts' and invoices' revision, and with ``clients`` the clients' (``clients_revision``): one query
    of index look-ups whatever the size (a SELECT of one uncorrelated subquery per stamp: an empty table gives
    NULL for its own stamps only)."""
    from clients.models import Activity, Client, Contact, Request

    latest = {
        "contracts_changed": (Contract, "updated_at"),
        "contracts_last": (Contract, "id"),
        "invoices_changed": (Invoice, "updated_at"),
        "invoices_last": (Invoice, "id"),
    }
    if clients:
        latest |= {
            "clients_changed": (Client, "updated_at"),
            "clients_last": (Client, "id"),
            "requests_changed": (Request, "updated_at"),
            "requests_last": (Request, "id"),
            "activities_last": (Activity, "id"),
            "contacts_changed": (Contact, "updated_at"),
            "contacts_last": (Contact, "id"),
        }
    selects, params = [], []
    for model, field in latest.values():
        sql, values = model.objects.order_by(f"-{field}").values(field)[:1].query.sql_with_params()
        selects.append(f"({sql})")
        params.extend(values)
    with connections[Contract.objects.all().db].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(selects)}", params)
        row = dict(zip(latest, cursor.fetchone(), strict=True))
    stamps = {name: value.isoformat() if hasattr(value, "isoformat") else str(value) for name, value in row.items()}
    counters = cache.get_many([INVOICE_CHANGES_KEY, CONTRACTS_DELETED_KEY, CLIENT_INPUTS_DELETED_KEY])
    count = {
        key: str(counters.get(key, 0))
        for key in (INVOICE_CHANGES_KEY, CONTRACTS_DELETED_KEY, CLIENT_INPUTS_DELETED_KEY)
    }
    answer = {
        "contracts": ":".join(
            [
                *(
                    stamps[name]
                    for name in ("contracts_changed", "contracts_last", "invoices_changed", "invoices_last")
                ),
                count[INVOICE_CHANGES_KEY],
                count[CONTRACTS_DELETED_KEY],
            ]
        )
    }
    if clients:
        answer["clients"] = ":".join(
            [
                *(
                    stamps[name]
                    for name in (
                        "clients_changed",
                        "clients_last",
                        "requests_changed",
                        "requests_last",
                        "activities_last",
                        "contacts_changed",
                        "contacts_last",
                    )
                ),
                count[CLIENT_INPUTS_DELETED_KEY],
            ]
        )
    return answer


def contract_deleted(**kwargs) -> None:
    """``post_delete`` of a contract: once the deletion commits, every figure cached under a revision is stale."""
    transaction.on_commit(partial(bump, CONTRACTS_DELETED_KEY))


def client_input_deleted(**kwargs) -> None:
    """``post_delete`` of a client, a request or a contact: once the deletion commits, every clients' revision is
    stale."""
    transaction.on_commit(partial(bump, CLIENT_INPUTS_DELETED_KEY))


def clients_revision() -> str:
    """Where the clients' own inputs stand, in one query of index look-ups: the clients' latest change and highest
    id (status, owner), the requests' latest change and highest id (an urgent request opened or closed: every
    request service stamps ``updated_at``), the highest activity id (a new activity is the only way one changes the
    health score) and the contacts' latest change and highest id (what a client search matches); with a counter
    every deletion of a client, a request or a contact moves when it commits (``client_input_deleted``; counting
    them instead cost 10–15 ms on every request at 20k clients). Inside ``core.read_once.read_once()``, read once
    with ``revision`` (one query)."""
    return (remembered("kpis:revisions", partial(_read, clients=True)) or _read(clients=True))["clients"]


def cached_until_clients_change(
    name: str, parts: tuple, compute: Callable[[], T], *, revision_now: str | None = None
) -> T:
    """``cached`` until a contract, an invoice or a client's own input changes (``clients_revision``), and for the
    day: a health score also moves with time alone. Both revisions in one query (``revision_now``: the contracts'
    and invoices' revision if the caller read it already)."""
    with read_once():
        both = f"{revision_now or revision()}/{clients_revision()}"
    return cached(name, (*parts, timezone.localdate()), compute, revision_now=both)


def cached(name: str, parts: tuple, compute: Callable[[], T], *, revision_now: str | None = None) -> T:
    """``compute()``, or what it gave for the same ``name`` and ``parts`` since the contracts and invoices last
    changed (``revision_now``: the revision the caller already read, else one more query)."""
    digest = hashlib.sha256(repr((name, parts)).encode()).hexdigest()
    stamp = hashlib.sha256((revision_now or revision()).encode()).hexdigest()[:32]  # keys stay under 250 characters
    key = f"kpis:{digest}:{stamp}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT)
    return value
