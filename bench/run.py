"""Measure Accord's pages and API endpoints: p50/p95 server time and query count per request.

Runs in-process through Django's test client against the configured database (DATABASE_URL; PostgreSQL for
figures that mean something), after making sure the demo agency exists. Later issues add their pages here and
a large-data generator beside it.

    python bench/run.py [--runs 50]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from accounts.models import User  # noqa: E402

# (name, path, the demo user who asks, extra headers)
TARGETS = [
    ("home (director)", "/", "director@agency.example"),
    ("home (admin)", "/", "admin@agency.example"),
    ("home (account manager)", "/", "am.ha@agency.example"),
    ("people", "/people/", "am.ha@agency.example"),
    ("notifications", "/notifications/", "am.ha@agency.example"),
    ("GET /api/v1/me", "/api/v1/me", "am.ha@agency.example"),
    ("GET /api/v1/users", "/api/v1/users", "am.ha@agency.example"),
    ("GET /api/v1/notifications", "/api/v1/notifications", "am.ha@agency.example"),
    ("GET /healthz", "/healthz", None),
]


def measure(client: Client, path: str, runs: int) -> tuple[float, float, int]:
    client.get(path)  # warm caches and connections
    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
    return statistics.median(timings), p95, len(queries.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="requests per target (default 50)")
    options = parser.parse_args()

    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", quiet=True, stdout=open(os.devnull, "w"))  # noqa: SIM115

    print(f"database: {connection.vendor}, {options.runs} requests per target")
    print(f"{'target':32} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for name, path, email in TARGETS:
        client = Client()
        if email:
            client.force_login(User.objects.get(email=email))
        p50, p95, queries = measure(client, path, options.runs)
        print(f"{name:32} {p50:8.1f} {p95:8.1f} {queries:8d}")


if __name__ == "__main__":
    main()
