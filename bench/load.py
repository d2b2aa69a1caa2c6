"""Load test (issue 9): 50 people and tools using Accord at once for 2 minutes, against gunicorn, PostgreSQL, Redis
and a Celery worker on this machine. Prints throughput, p50/p95/p99 and errors per page and endpoint and overall.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/accord_bench REDIS_URL=redis://127.0.0.1:6379/6
    python bench/load.py [--users 50] [--time 2m] [--workers 5] [--port 8765]

The users (bench/locustfile.py): account managers, sales, directors and finance signed in with the demo logins
(``seed_demo``), clicking through their pages a few seconds apart, and API clients reading with a read-only
service token made for the run (revoked afterwards). The figures start afresh once the last user has signed in,
and cover ``--time`` from then (the locustfile stops locust): a sign-in costs a deliberately slow password hash,
once per working day. gunicorn serves
with ``--workers`` sync workers and shares its cache through Redis (``CACHE_URL``, database REDIS_URL + 1); a
Celery worker takes the background work. Target: 0 errors and p95 ≤ 300 ms over every request. Exit status 1 on a miss.
"""

import argparse
import csv
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.management.commands.seed_demo import DEMO_PASSWORD  # noqa: E402
from accounts.models import ApiTokenScope, Role, User  # noqa: E402
from accounts.tokens import service_token_create, token_revoke  # noqa: E402
from bench import results  # noqa: E402
from clients.models import Client  # noqa: E402
from contracts.models import Contract, Invoice  # noqa: E402
from kpis.periods import current_period  # noqa: E402

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
P95_MS, ERRORS = 300, 0
ROLES = (Role.ACCOUNT_MANAGER, Role.SALES, Role.DIRECTOR, Role.FINANCE)


def plan(token_key: str) -> dict:
    """Who signs in, and which of their records they open."""
    logins: dict[str, list[dict]] = {}
    for role in ROLES:
        people = User.objects.filter(
            role=role, is_active=True, is_service_account=False, email__endswith="@agency.example"
        )
        logins[role] = []
        for person in people.order_by("pk"):
            clients = list(Client.objects.filter(owner=person).order_by("-pk").values_list("pk", flat=True)[:50])
            contracts = list(Contract.objects.filter(owner=person).order_by("-pk").values_list("pk", flat=True)[:50])
            logins[role].append({"email": person.email, "clients": clients, "contracts": contracts})
        if not logins[role]:
            raise SystemExit(f"No demo {role} to sign in as: run `manage.py seed_demo` first.")
    invoices = list(Invoice.objects.order_by("-pk").values_list("pk", flat=True)[:500])
    for login in logins[Role.FINANCE]:
        login["invoices"] = invoices
    for login in logins[Role.ACCOUNT_MANAGER]:
        if not login["clients"] or not login["contracts"]:
            raise SystemExit(f"{login['email']} owns no client or contract: run bench/generate.py first.")
    return {
        "password": DEMO_PASSWORD,
        "logins": logins,
        "api_token": token_key,
        "invoices": invoices,
        "period": current_period().key,
    }


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (our own server)
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer {url} within {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def seconds(duration: str) -> float:
    """Locust's form of a duration ("2m", "90s", "1m30s") in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    total, number = 0.0, ""
    for character in duration.strip():
        if character.isdigit() or character == ".":
            number += character
        elif character in units and number:
            total, number = total + float(number) * units[character], ""
        else:
            raise SystemExit(f"--time {duration!r}: write it as 2m, 90s or 1m30s")
    return total + float(number or 0)


def report(stats_csv: Path, measured: float, users: int) -> bool:
    rows = list(csv.DictReader(stats_csv.open(encoding="utf-8")))
    print(f"\n{'request':44} {'count':>7} {'errors':>6} {'req/s':>6} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)")
    total = None
    for row in rows:
        if row["Name"] == "Aggregated":
            total = row
            continue
        print(
            f"{row['Type'] + ' ' + row['Name']:44.44} {row['Request Count']:>7} {row['Failure Count']:>6} "
            f"{float(row['Requests/s']):6.1f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
        )
    if total is None:
        raise SystemExit("locust wrote no aggregate row")
    errors, p95 = int(total["Failure Count"]), float(total["95%"])
    print(
        f"{'all requests':44} {total['Request Count']:>7} {errors:>6} {float(total['Requests/s']):6.1f} "
        f"{total['50%']:>6} {total['95%']:>6} {total['99%']:>6}"
    )
    failures = stats_csv.with_name("load_failures.csv")
    for row in csv.DictReader(failures.open(encoding="utf-8")) if failures.exists() else []:
        print(f"  failed {row['Occurrences']}× {row['Method']} {row['Name']}: {row['Error']}")
    ok = errors <= ERRORS and p95 <= P95_MS
    rate = float(total["Requests/s"])
    results.record(
        group="load",
        target=f"load test, {users} users: every request",
        p50=float(total["50%"]),
        p95=p95,
        unit="ms",
        floor=P95_MS,
        note=f"{rate:.1f} req/s, p99 {total['99%']} ms, {errors} errors",
        error=f"{errors} errors" if errors else "",
    )
    print(
        f"\nthroughput {float(total['Requests/s']):.1f} requests/s over {measured:.0f} s after the last sign-in; "
        f"errors {errors} (target "
        f"{ERRORS}); p95 {p95:.0f} ms (target ≤ {P95_MS} ms): {'PASS' if ok else 'MISS'}"
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--time", default="2m", help="how long, in locust's form: 2m, 90s")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8765)
    options = parser.parse_args()
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        raise SystemExit("The load test runs on PostgreSQL and Redis: set DATABASE_URL and REDIS_URL.")
    base, _, number = settings.REDIS_URL.rpartition("/")
    cache_url = f"{base.replace('redis://', 'rediscache://', 1)}/{int(number or 0) + 1}"
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
    if admin is None:
        raise SystemExit("No active administrator to make the API token: run `manage.py seed_demo` first.")
    issued = service_token_create(
        actor=admin, name=f"Load test {os.getpid()}", role=Role.FINANCE, scope=ApiTokenScope.READ
    )
    # Production settings, over plain HTTP on this machine (behind a TLS proxy in production).
    environment = {
        **os.environ,
        "CACHE_URL": cache_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
    }
    processes: list[subprocess.Popen] = []
    try:
        with TemporaryDirectory(prefix="accord-load-") as folder:
            plan_file = Path(folder) / "plan.json"
            plan_file.write_text(json.dumps(plan(issued.key)), encoding="utf-8")
            subprocess.run(
                [BIN / "python", "manage.py", "collectstatic", "--noinput", "-v0"],
                cwd=BASE_DIR,
                env=environment,
                check=True,
            )
            processes.append(
                subprocess.Popen(
                    [
                        BIN / "gunicorn",
                        "config.wsgi:application",
                        "--bind",
                        f"127.0.0.1:{options.port}",
                        "--workers",
                        str(options.workers),
                        "--access-logfile",
                        "-",
                        "--log-level",
                        "warning",
                    ],
                    cwd=BASE_DIR,
                    env=environment,
                    stdout=(Path(folder) / "gunicorn.log").open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
            processes.append(
                subprocess.Popen(
                    [
                        BIN / "celery",
                        "-A",
                        "config",
                        "worker",
                        "--loglevel=WARNING",
                        "--concurrency=1",
                        "--hostname",
                        f"load-{os.getpid()}@%h",
                    ],
                    cwd=BASE_DIR,
                    env=environment,
                    stdout=(Path(folder) / "worker.log").open("w"),
                    stderr=subprocess.STDOUT,
                )
            )
            host = f"http://127.0.0.1:{options.port}"
            wait_until_up(f"{host}/healthz")
            print(f"gunicorn ({options.workers} workers), a Celery worker; {options.users} users for {options.time}")
            subprocess.run(
                [
                    BIN / "locust",
                    "-f",
                    BASE_DIR / "bench" / "locustfile.py",
                    "--headless",
                    "--host",
                    host,
                    "--users",
                    str(options.users),
                    "--spawn-rate",
                    "10",
                    "--run-time",  # an upper bound: the locustfile stops --time after the last sign-in
                    f"{seconds(options.time) + 600:.0f}s",
                    "--csv",
                    Path(folder) / "load",
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=BASE_DIR,
                env={
                    **environment,
                    "ACCORD_LOAD_PLAN": str(plan_file),
                    "ACCORD_LOAD_SECONDS": str(seconds(options.time)),
                },
                stdout=(Path(folder) / "locust.log").open("w"),
                stderr=subprocess.STDOUT,
                check=False,
            )
            ok = report(Path(folder) / "load_stats.csv", seconds(options.time), options.users)
    finally:
        for process in reversed(processes):
            stop(process)
        token_revoke(token=issued.token, actor=admin)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
