"""Measure Accord's pages and API endpoints: p50/p95 server time and query count per request, against a budget.

Runs in-process through Django's test client against the configured database (DATABASE_URL; PostgreSQL for
figures that mean something), after making sure the demo agency exists. For the large-data figures, fill the
database first with bench/generate.py (20k clients, 60k contacts, 500k activities, 100k contracts).

    python bench/run.py [--runs 50] [--only client]

Each target prints p50 and p95 in milliseconds, the most queries one request made, its budget and PASS or MISS.
A URL that answers 404 (not built yet) prints "n/a (404)"; any other failure prints ERROR and the script then
exits with status 1, after measuring the rest.
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

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from accounts.models import User  # noqa: E402
from clients.models import Activity, Contact, Request  # noqa: E402
from clients.models import Client as ClientAccount  # noqa: E402
from contracts.models import Contract  # noqa: E402

ACCOUNT_MANAGER = "am.ha@agency.example"
DIRECTOR = "director@agency.example"
SALES = "sales.nhu@agency.example"
PAGE_MS, SEARCH_MS, BOARD_MS, MAX_QUERIES = 150, 200, 300, 15


@dataclass(frozen=True)
class Target:
    name: str
    path: str  # "{client}" is replaced by the id of the detail client
    email: str | None  # the demo user who asks; None for an anonymous request
    budget_ms: int = PAGE_MS
    max_queries: int = MAX_QUERIES


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
]


class NotThere(Exception):
    """The URL answers 404: the page or endpoint is not built yet."""


def measure(client: Client, path: str, runs: int) -> Figures:
    check(client.get(path), path)  # warm caches and connections
    timings, queries = [], 0
    for _ in range(runs):
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


def describe_data(client_id: int | None) -> str:
    sizes = (
        f"{ClientAccount.objects.count()} clients, {Contact.objects.count()} contacts, "
        f"{Activity.objects.count()} activities, {Request.objects.count()} requests, "
        f"{Contract.objects.count()} contracts ({Contract.objects.active().count()} active)"
    )
    if client_id is None:
        return f"{sizes}; no client for the detail pages"
    entries = Activity.objects.filter(client=client_id).count()
    requests = Request.objects.filter(client=client_id).count()
    return f"{sizes}; detail client {client_id} ({entries} activities, {requests} requests)"


def run_target(target: Target, client_id: int | None, runs: int) -> tuple[str, bool]:
    """The printed line for one target, and whether it failed (an error, not a miss)."""
    budget = f"{target.budget_ms} ms, ≤{target.max_queries} q"
    if "{client}" in target.path and client_id is None:
        return f"{target.name:36} {'n/a (no client)':>27} {budget:>18}", False
    path = target.path.format(client=client_id)
    client = Client()
    if target.email:
        client.force_login(User.objects.get(email=target.email))
    try:
        figures = measure(client, path, runs)
    except NotThere:
        return f"{target.name:36} {'n/a (404)':>27} {budget:>18}", False
    except Exception as error:  # a broken page must not hide the figures of the others
        return f"{target.name:36} {'ERROR':>27} {budget:>18}  {type(error).__name__}: {error}", True
    passed = figures.p95 <= target.budget_ms and figures.queries <= target.max_queries
    verdict = "PASS" if passed else "MISS"
    return (
        f"{target.name:36} {figures.p50:8.1f} {figures.p95:8.1f} {figures.queries:9d} {budget:>18}  {verdict}",
        False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="requests per target (default 50)")
    parser.add_argument("--only", default="", help="measure only the targets whose name contains this text")
    options = parser.parse_args()

    setup_test_environment()
    logging.getLogger("django.request").setLevel(logging.CRITICAL)  # a 404 or 500 is reported in the table
    call_command("migrate", verbosity=0)
    call_command("seed_demo", quiet=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    client_id = detail_client_id(ACCOUNT_MANAGER)

    print(f"database: {connection.vendor}, {options.runs} requests per target")
    print(f"data: {describe_data(client_id)}")
    print(f"{'target':36} {'p50 ms':>8} {'p95 ms':>8} {'queries':>9} {'budget':>18}  result")
    failed = False
    for target in TARGETS:
        if options.only.lower() in target.name.lower():
            line, error = run_target(target, client_id, options.runs)
            print(line, flush=True)
            failed = failed or error
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
