"""Measure Accord's pages and API endpoints: p50/p95 server time and query count per request, against a budget.

Runs in-process through Django's test client against the configured database (DATABASE_URL; PostgreSQL for
figures that mean something), after making sure the demo agency exists. For the large-data figures, fill the
database first with bench/generate.py (20k clients, 60k contacts, 500k activities, 100k contracts, 300k invoices,
500k payments).

    python bench/run.py [--runs 50] [--only client] [--only invoice,aging,collections] [--cold]

Each target prints p50 and p95 in milliseconds, the most queries one request made, its budget and PASS or MISS.
A URL that answers 404 (not built yet) prints "n/a (404)", a URL name not registered yet "n/a (no URL)"; any
other failure prints ERROR and the script then exits with status 1, after measuring the rest.
"""

import argparse
import logging
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402

from accounts.models import User  # noqa: E402
from bench import results  # noqa: E402
from clients.models import Activity, Contact, Request  # noqa: E402
from clients.models import Client as ClientAccount  # noqa: E402
from contracts.models import Contract, Invoice, Payment  # noqa: E402
from kpis.periods import current_period  # noqa: E402

ACCOUNT_MANAGER = "am.ha@agency.example"
DIRECTOR = "director@agency.example"
SALES = "sales.nhu@agency.example"
FINANCE = "finance@agency.example"
PAGE_MS, SEARCH_MS, BOARD_MS, AGING_MS, MAX_QUERIES = 150, 200, 300, 500, 15
UNSET = 987654321  # stands for an id in a reversed URL, replaced by its placeholder
# KPIs (issue 7): the director's dashboard and the metrics endpoint have budgets of their own.
KPI_DASHBOARD_MS, KPI_DASHBOARD_QUERIES, KPI_METRICS_MS = 500, 25, 200
THIS_MONTH, THIS_QUARTER, THIS_YEAR = (current_period(kind).key for kind in ("month", "quarter", "year"))


@dataclass(frozen=True)
class Target:
    name: str
    path: str | None  # "{client}", "{invoice}", "{statement_client}": see detail_ids(); None: no such URL yet
    email: str | None  # the demo user who asks; None for an anonymous request
    budget_ms: int = PAGE_MS
    max_queries: int = MAX_QUERIES


def url(name: str, placeholder: str | None = None, query: str = "") -> str | None:
    """The path of a named URL, with ``{placeholder}`` for its id; None while the URL is not registered."""
    try:
        path = reverse(name, args=[UNSET] if placeholder else [])
    except NoReverseMatch:
        return None
    return path.replace(str(UNSET), f"{{{placeholder}}}") + query


@dataclass(frozen=True)
class Figures:
    p50: float
    p95: float
    queries: int


TARGETS = [
    Target("home (director)", "/", DIRECTOR),
    Target("home (admin)", "/", "admin@agency.example"),
    Target("home (account manager)", "/", ACCOUNT_MANAGER),
    Target("people", "/people/", ACCOUNT_MANAGER),
    Target("notifications", "/notifications/", ACCOUNT_MANAGER),
    Target("GET /api/v1/me", "/api/v1/me", ACCOUNT_MANAGER),
    Target("GET /api/v1/users", "/api/v1/users", ACCOUNT_MANAGER),
    Target("GET /api/v1/notifications", "/api/v1/notifications", ACCOUNT_MANAGER),
    Target("GET /healthz", "/healthz", None),
    Target("client list (AM)", "/clients/", ACCOUNT_MANAGER),
    Target("client list active, -health (AM)", "/clients/?status=active&sort=-health", ACCOUNT_MANAGER),
    Target("client list ?q=nguyen (AM)", "/clients/?q=nguyen", ACCOUNT_MANAGER),
    Target("client list (director, all)", "/clients/", DIRECTOR),
    Target("client detail overview", "/clients/{client}/?tab=overview", ACCOUNT_MANAGER),
    Target("client detail contacts", "/clients/{client}/?tab=contacts", ACCOUNT_MANAGER),
    Target("client detail timeline", "/clients/{client}/?tab=timeline", ACCOUNT_MANAGER),
    Target("client detail requests", "/clients/{client}/?tab=requests", ACCOUNT_MANAGER),
    Target("search ?q=nguyen", "/search/?q=nguyen", ACCOUNT_MANAGER, budget_ms=SEARCH_MS),
    Target("requests", "/requests/", ACCOUNT_MANAGER),
    Target("partners", "/partners/", ACCOUNT_MANAGER),
    Target("GET /api/v1/clients", "/api/v1/clients", ACCOUNT_MANAGER),
    Target("GET /api/v1/clients?q=nguyen", "/api/v1/clients?q=nguyen", ACCOUNT_MANAGER, budget_ms=SEARCH_MS),
    Target("GET /api/v1/contacts", "/api/v1/contacts", ACCOUNT_MANAGER),
    Target("GET /api/v1/activities?client=", "/api/v1/activities?client={client}", ACCOUNT_MANAGER),
    Target("GET /api/v1/requests", "/api/v1/requests", ACCOUNT_MANAGER),
    Target("pipeline board (AM)", "/pipeline/", ACCOUNT_MANAGER, budget_ms=BOARD_MS),
    Target("pipeline board (sales, all deals)", "/pipeline/", SALES, budget_ms=BOARD_MS),
    Target("pipeline board (director)", "/pipeline/", DIRECTOR, budget_ms=BOARD_MS),
    Target("contract list (AM)", "/contracts/", ACCOUNT_MANAGER),
    Target("contract list active (AM)", "/contracts/?stage=active", ACCOUNT_MANAGER),
    Target("contract list (director, all)", "/contracts/", DIRECTOR),
    Target("contract list expiring (AM)", "/contracts/expiring/", ACCOUNT_MANAGER),
    Target("GET /api/v1/contracts", "/api/v1/contracts", ACCOUNT_MANAGER),
    Target("GET /api/v1/contracts (director)", "/api/v1/contracts", DIRECTOR),
    # Billing: finance sees every invoice (the 300k), an account manager those of the clients they may open.
    Target("home (finance)", "/", FINANCE),
    Target("invoice list (finance, all)", url("contracts:invoices"), FINANCE),
    Target("invoice list overdue (finance)", url("contracts:invoices", query="?overdue=1"), FINANCE),
    Target("invoice list 90+ days (finance)", url("contracts:invoices", query="?bucket=d90_plus"), FINANCE),
    Target("invoice list open, by due (finance)", url("contracts:invoices", query="?status=open&sort=due_date"),
           FINANCE),
    Target("invoice list ?q=INV-2026 (finance)", url("contracts:invoices", query="?q=INV-2026-0012"), FINANCE,
           budget_ms=SEARCH_MS),
    Target("invoice list (AM)", url("contracts:invoices"), ACCOUNT_MANAGER),
    Target("invoice detail (finance)", url("contracts:invoice_detail", "invoice"), FINANCE),
    Target("aging by client (finance)", url("contracts:receivables", query="?by=client"), FINANCE, budget_ms=AGING_MS),
    Target("aging by owner (finance)", url("contracts:receivables", query="?by=owner"), FINANCE, budget_ms=AGING_MS),
    Target("aging by team (finance)", url("contracts:receivables", query="?by=team"), FINANCE, budget_ms=AGING_MS),
    Target("aging by currency (finance)", url("contracts:receivables", query="?by=currency"), FINANCE,
           budget_ms=AGING_MS),
    Target("aging by client (AM)", url("contracts:receivables", query="?by=client"), ACCOUNT_MANAGER,
           budget_ms=AGING_MS),
    Target("collections board (finance)", url("contracts:collections"), FINANCE, budget_ms=AGING_MS),
    Target("statement page (finance)", url("contracts:statement", "statement_client"), FINANCE),
    Target("GET /api/v1/invoices (finance)", url("api:invoice-list"), FINANCE),
    Target("GET /api/v1/invoices (AM)", url("api:invoice-list"), ACCOUNT_MANAGER),
    Target("GET /api/v1/invoices?overdue=1", url("api:invoice-list", query="?overdue=1"), FINANCE),
    Target("GET /api/v1/receivables/aging", url("api:receivables-aging"), FINANCE, budget_ms=AGING_MS),
    Target("GET /api/v1/payments (finance)", url("api:payment-list"), FINANCE),
    Target("GET /api/v1/statements/<id>", url("api:statement", "statement_client"), FINANCE),
    # --- KPIs (issue 7) -------------------------------------------------------------------------------------------
    # The director's dashboard: ≤ 500 ms p95 and ≤ 25 queries for the current month, quarter and year; the metrics
    # endpoint ≤ 200 ms (a heavy metric each: DSO sums every open receivable, retention two years of invoices); the
    # rest 150 ms. The home pages' KPI panel is measured by "home (director)" and "home (account manager)" above.
    Target("KPI director dashboard, month", url("kpis:director"), DIRECTOR, budget_ms=KPI_DASHBOARD_MS,
           max_queries=KPI_DASHBOARD_QUERIES),
    Target("KPI director dashboard, quarter", url("kpis:director", query="?kind=quarter"), DIRECTOR,
           budget_ms=KPI_DASHBOARD_MS, max_queries=KPI_DASHBOARD_QUERIES),
    Target("KPI director dashboard, year", url("kpis:director", query="?kind=year"), DIRECTOR,
           budget_ms=KPI_DASHBOARD_MS, max_queries=KPI_DASHBOARD_QUERIES),
    Target("KPI account-manager dashboard", url("kpis:am"), ACCOUNT_MANAGER, max_queries=KPI_DASHBOARD_QUERIES),
    Target("KPI sales dashboard", url("kpis:sales"), SALES),
    Target("KPI drill-down signed revenue", url("kpis:drilldown", query="?metric=signed_revenue&scope=agency"),
           DIRECTOR),
    Target("KPI drill-down DSO", url("kpis:drilldown", query="?metric=dso&scope=agency"), DIRECTOR),
    Target("GET kpis/metrics signed, month",
           url("api:kpi-metrics", query=f"?metric=signed_revenue&scope=agency&period={THIS_MONTH}"), DIRECTOR,
           budget_ms=KPI_METRICS_MS),
    Target("GET kpis/metrics DSO, quarter",
           url("api:kpi-metrics", query=f"?metric=dso&scope=agency&period={THIS_QUARTER}"), DIRECTOR,
           budget_ms=KPI_METRICS_MS),
    Target("GET kpis/metrics retention, year",
           url("api:kpi-metrics", query=f"?metric=net_revenue_retention&scope=agency&period={THIS_YEAR}"),
           DIRECTOR, budget_ms=KPI_METRICS_MS),
    Target("GET /api/v1/kpi-targets", url("api:kpi-target-list"), DIRECTOR),
]  # fmt: skip


# Issue 10's stretch figures (p95): list pages and list endpoints 50 ms, detail pages 50 ms, the pipeline board 100 ms,
# the director's dashboard 200 ms. The other targets have their budget only.
LIST_STRETCH_MS, DETAIL_STRETCH_MS, BOARD_STRETCH_MS, DIRECTOR_STRETCH_MS = 50, 50, 100, 200
STRETCH_MS = {
    **dict.fromkeys(
        [
            "people",
            "notifications",
            "GET /api/v1/users",
            "GET /api/v1/notifications",
            "client list (AM)",
            "client list active, -health (AM)",
            "client list ?q=nguyen (AM)",
            "client list (director, all)",
            "requests",
            "partners",
            "GET /api/v1/clients",
            "GET /api/v1/clients?q=nguyen",
            "GET /api/v1/contacts",
            "GET /api/v1/activities?client=",
            "GET /api/v1/requests",
            "contract list (AM)",
            "contract list active (AM)",
            "contract list (director, all)",
            "contract list expiring (AM)",
            "GET /api/v1/contracts",
            "GET /api/v1/contracts (director)",
            "invoice list (finance, all)",
            "invoice list overdue (finance)",
            "invoice list 90+ days (finance)",
            "invoice list open, by due (finance)",
            "invoice list ?q=INV-2026 (finance)",
            "invoice list (AM)",
            "GET /api/v1/invoices (finance)",
            "GET /api/v1/invoices (AM)",
            "GET /api/v1/invoices?overdue=1",
            "GET /api/v1/payments (finance)",
            "GET /api/v1/kpi-targets",
        ],
        LIST_STRETCH_MS,
    ),
    **dict.fromkeys(
        [
            "GET /api/v1/me",
            "client detail overview",
            "client detail contacts",
            "client detail timeline",
            "client detail requests",
            "invoice detail (finance)",
            "statement page (finance)",
            "GET /api/v1/statements/<id>",
        ],
        DETAIL_STRETCH_MS,
    ),
    **{target.name: BOARD_STRETCH_MS for target in TARGETS if target.name.startswith("pipeline board")},
    **{target.name: DIRECTOR_STRETCH_MS for target in TARGETS if target.name.startswith("KPI director dashboard")},
}


class NotThere(Exception):
    """The URL answers 404: the page or endpoint is not built yet."""


def measure(client: Client, path: str, runs: int, cold: bool = False) -> Figures:
    check(client.get(path), path)  # warm caches and connections
    timings, queries = [], 0
    for _ in range(runs):
        if cold:
            cache.clear()  # --cold: no figure from the cache (the billing aggregates): every request computes
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        check(response, path)
        queries = max(queries, len(captured.captured_queries))
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
    return Figures(statistics.median(timings), p95, queries)


def check(response, path: str) -> None:
    if response.status_code == 404:
        raise NotThere(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")


def detail_client_id(email: str) -> int | None:
    """The client with the longest timeline among those whose page the user may open: the heaviest detail page."""
    user = User.objects.get(email=email)
    heaviest = (
        Activity.objects.filter(client__in=ClientAccount.objects.detailed_for(user).values("pk"))
        .values("client")
        .annotate(entries=Count("pk"))
        .order_by("-entries")
        .values_list("client", flat=True)
        .first()
    )
    return heaviest or ClientAccount.objects.detailed_for(user).values_list("pk", flat=True).first()


def heaviest_invoice_id() -> int | None:
    """The invoice with the most payments (then follow-ups): the longest invoice page."""
    return (
        Invoice.objects.annotate(entries=Count("payments", distinct=True), steps=Count("collection_steps"))
        .order_by("-entries", "-steps", "pk")
        .values_list("pk", flat=True)
        .first()
        if Payment.objects.exists()
        else Invoice.objects.values_list("pk", flat=True).first()
    )


def heaviest_statement_client_id() -> int | None:
    """The client with the most invoices: the longest statement of account."""
    return (
        Invoice.objects.values("client")
        .annotate(invoices=Count("pk"))
        .order_by("-invoices", "client")
        .values_list("client", flat=True)
        .first()
    )


def detail_ids() -> dict[str, int | None]:
    return {
        "client": detail_client_id(ACCOUNT_MANAGER),
        "invoice": heaviest_invoice_id(),
        "statement_client": heaviest_statement_client_id(),
    }


def describe_data(ids: dict[str, int | None]) -> str:
    sizes = (
        f"{ClientAccount.objects.count()} clients, {Contact.objects.count()} contacts, "
        f"{Activity.objects.count()} activities, {Request.objects.count()} requests, "
        f"{Contract.objects.count()} contracts ({Contract.objects.active().count()} active), "
        f"{Invoice.objects.count()} invoices ({Invoice.objects.open().count()} open), "
        f"{Payment.objects.count()} payments"
    )
    details = []
    if ids["client"] is not None:
        entries = Activity.objects.filter(client=ids["client"]).count()
        requests = Request.objects.filter(client=ids["client"]).count()
        details.append(f"detail client {ids['client']} ({entries} activities, {requests} requests)")
    if ids["invoice"] is not None:
        details.append(f"invoice {ids['invoice']} ({Payment.objects.filter(invoice=ids['invoice']).count()} payments)")
    if ids["statement_client"] is not None:
        invoices = Invoice.objects.filter(client=ids["statement_client"]).count()
        details.append(f"statement of client {ids['statement_client']} ({invoices} invoices)")
    return f"{sizes}; " + ("; ".join(details) or "no data for the detail pages")


def run_target(target: Target, ids: dict[str, int | None], runs: int, mode: str = "warm") -> tuple[str, bool]:
    """The printed line for one target, and whether it failed (an error, not a miss). ``mode``: "warm" (repeat
    visits), "cold" (the cache emptied before each request) or "both" (judged on the repeat visits, the cold p95
    printed beside them)."""
    budget = f"{target.budget_ms} ms, ≤{target.max_queries} q"
    stretch = STRETCH_MS.get(target.name)
    if target.path is None:
        return f"{target.name:36} {'n/a (no URL)':>27} {budget:>18}", False
    missing = [name for name, value in ids.items() if value is None and f"{{{name}}}" in target.path]
    if missing:
        return f"{target.name:36} {f'n/a (no {missing[0]})':>27} {budget:>18}", False
    path = target.path.format(**ids)
    client = Client()
    if target.email:
        client.force_login(User.objects.get(email=target.email))
    try:
        figures = measure(client, path, runs, cold=mode == "cold")
        cold = measure(client, path, runs, cold=True) if mode == "both" else None
    except NotThere:
        return f"{target.name:36} {'n/a (404)':>27} {budget:>18}", False
    except Exception as error:  # a broken page must not hide the figures of the others
        results.record(
            group="pages",
            target=target.name,
            p50=None,
            p95=None,
            unit="ms",
            floor=target.budget_ms,
            stretch=stretch,
            error=f"{type(error).__name__}: {error}",
        )
        return f"{target.name:36} {'ERROR':>27} {budget:>18}  {type(error).__name__}: {error}", True
    result = results.record(
        group="pages",
        target=target.name,
        p50=round(figures.p50, 1),
        p95=round(figures.p95, 1),
        unit="ms",
        floor=target.budget_ms,
        stretch=stretch,
        queries=max(figures.queries, cold.queries if cold else 0),
        max_queries=target.max_queries,
        cold_p95=round(cold.p95, 1) if cold else (round(figures.p95, 1) if mode == "cold" else None),
    )
    verdict = "PASS" if result.passed else "MISS"
    if result.stretch_met is not None:
        verdict += f", stretch {stretch} ms {'met' if result.stretch_met else 'not met'}"
    cold_text = f" {cold.p95:8.1f}" if cold else ""
    return (
        f"{target.name:36} {figures.p50:8.1f} {figures.p95:8.1f}{cold_text} {result.queries:9d} {budget:>18}  "
        f"{verdict}",
        False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="requests per target (default 50)")
    parser.add_argument(
        "--only", default="", help="measure only the targets whose name contains this text (or one of a,b,c)"
    )
    parser.add_argument(
        "--cold", action="store_true", help="empty the cache before each request: the figures of a first visit"
    )
    parser.add_argument(
        "--both",
        action="store_true",
        help="measure repeat visits, then first visits (--cold) too: judged on the first, the cold p95 beside them",
    )
    options = parser.parse_args()
    mode = "both" if options.both else "cold" if options.cold else "warm"

    setup_test_environment()
    logging.getLogger("django.request").setLevel(logging.CRITICAL)  # a 404 or 500 is reported in the table
    call_command("migrate", verbosity=0)
    call_command("seed_demo", quiet=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    ids = detail_ids()

    described = {
        "warm": "",
        "cold": ", cache emptied before each (--cold)",
        "both": ", then as many with the cache emptied before each (cold p95)",
    }
    print(f"database: {connection.vendor}, {options.runs} requests per target{described[mode]}")
    print(f"data: {describe_data(ids)}")
    cold_column = f" {'cold p95':>8}" if mode == "both" else ""
    print(f"{'target':36} {'p50 ms':>8} {'p95 ms':>8}{cold_column} {'queries':>9} {'budget':>18}  result")
    failed = False
    for target in TARGETS:
        if any(term in target.name.lower() for term in options.only.lower().split(",")):
            line, error = run_target(target, ids, options.runs, mode)
            print(line, flush=True)
            failed = failed or error
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
