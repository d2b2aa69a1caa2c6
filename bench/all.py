"""`make bench`: every speed target of the issues, measured on large data, printed as one table.

    make bench                                   # or: python bench/all.py
    python bench/all.py --clients 5000 --contracts 20000 --invoices 60000 --payments 100000   # smaller data
    python bench/all.py --skip load,import       # leave parts out: pages, sweeps, pdf, import, load
    python bench/all.py --runs 50                # requests per page target (default 20)

It needs PostgreSQL and Redis (the figures of SQLite and an in-process broker would mean nothing):
``BENCH_DATABASE_URL`` (default postgres://postgres@127.0.0.1:5432/accord_bench, a database of its own, created
if absent) and ``BENCH_REDIS_URL`` (default redis://127.0.0.1:6379/5; the load test's cache takes the next
database). Steps, each a script of this folder run with those settings:

1. migrate, then ``generate.py`` at the sizes given (default: 20k clients, 60k contacts, 500k activities, 100k
   contracts, 300k invoices, 500k payments). At the size already there it does nothing. Then ``VACUUM (ANALYZE)``
   (what an earlier run's sweeps and import deleted, on a server without autovacuum).
2. ``run.py --both``: every page and API endpoint, repeat visits then first visits (the cache emptied before
   each request), judged on the repeat visits; the first visits' p95 is printed beside them.
3. ``reminder_sweep.py`` and ``collection_sweep.py``: the two sweeps in a real Celery worker.
4. ``proposal_pdf.py``: proposal PDFs (3 pages and 200 lines) and saving a line in the editor.
5. ``import_bench.py``: a 10,000-row client CSV import.
6. ``load.py``: 50 users for 2 minutes against gunicorn, a Celery worker, PostgreSQL and Redis.

Each script prints its own figures as it goes and appends them to a results file (bench/results.py); the table at
the end puts them side by side: target, p50, p95 (and the first visit's p95), queries, the issue's budget
("floor"), issue 10's stretch figure where it sets one, and PASS or MISS against the floor. Exit status 1 when a
target misses its floor or a script fails.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench import results  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/accord_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
SIZES = {
    "clients": 20_000,
    "contacts-per-client": 3,
    "activities": 500_000,
    "requests": 20_000,
    "partners": 300,
    "contracts": 100_000,
    "invoices": 300_000,
    "payments": 500_000,
}
PARTS = ("pages", "sweeps", "pdf", "import", "load")
GROUP_TITLES = {
    "pages": "Pages and API endpoints (server time; p95 of repeat visits, first visits beside them)",
    "sweeps": "Sweeps in a Celery worker",
    "pdf": "Proposal PDF and editor (judged on the median)",
    "import": "Client CSV import",
    "load": "Load test",
}


def ensure_database(url: str) -> None:
    """Create the bench database when it does not exist yet (connecting to the server's ``postgres`` database)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"creating the database {name}")
            connection.execute(f'CREATE DATABASE "{name}"')


def vacuum(url: str) -> None:
    """``VACUUM (ANALYZE)`` the bench database, as autovacuum would on a server that runs it: the sweeps and the
    import of an earlier run deleted what they wrote, and a server with autovacuum off (this machine's) keeps the
    dead rows, which the next run's pages would scan (30k of them in the clients' table after three runs)."""
    import psycopg

    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
    print(f"\n=== VACUUM (ANALYZE): {time.monotonic() - started:.0f} s", flush=True)


def run(step: str, arguments: list[str], environment: dict[str, str]) -> bool:
    """Run one script (or manage.py) with the bench settings; its output goes straight to the terminal."""
    print(f"\n=== {step}", flush=True)
    started = time.monotonic()
    finished = subprocess.run([sys.executable, *arguments], cwd=HERE.parent, env=environment, check=False)
    print(f"--- {step}: {time.monotonic() - started:.0f} s, exit status {finished.returncode}", flush=True)
    return finished.returncode == 0


def number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}" if unit == "s" or value < 100 else f"{value:.0f}"


def table(rows: list[results.Result]) -> list[str]:
    lines = []
    header = f"{'target':46} {'p50':>7} {'p95':>7} {'cold p95':>8} {'queries':>7} {'floor':>12} {'stretch':>9}  result"
    for group in PARTS:
        members = [row for row in rows if row.group == group]
        if not members:
            continue
        lines += ["", GROUP_TITLES[group], header, "-" * len(header)]
        for row in members:
            unit = row.unit
            queries = "" if row.queries is None else str(row.queries)
            floor = f"{number(row.floor, unit)} {unit}" + (f", ≤{row.max_queries} q" if row.max_queries else "")
            stretch = f"{number(row.stretch, unit)} {unit}" if row.stretch is not None else "—"
            if row.error and row.figure is None:
                verdict = f"ERROR {row.error}"
            else:
                verdict = "PASS" if row.passed else "MISS"
                if row.stretch_met is not None:
                    verdict += ", stretch met" if row.stretch_met else ", stretch missed"
                if row.error:
                    verdict += f" ({row.error})"
            p50 = number(row.p50, unit) if row.judged != "value" else ""
            lines.append(
                f"{row.target[:46]:46} {p50:>7} {number(row.p95, unit):>7} {number(row.cold_p95, unit):>8} "
                f"{queries:>7} {floor:>12} {stretch:>9}  {verdict}"
            )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in SIZES.items():
        parser.add_argument(f"--{name}", type=int, default=default, help=f"generated data (default {default:,})")
    parser.add_argument("--runs", type=int, default=20, help="requests per page target, each way (default 20)")
    parser.add_argument("--skip", default="", help=f"parts to leave out, comma-separated: {', '.join(PARTS)}")
    parser.add_argument("--load-time", default="2m", help="how long the load test runs (default 2m)")
    options = parser.parse_args()
    skipped = {part.strip() for part in options.skip.split(",") if part.strip()}
    if unknown := skipped - set(PARTS):
        parser.error(f"unknown part(s) to skip: {', '.join(sorted(unknown))}; the parts are {', '.join(PARTS)}")

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("make bench measures on PostgreSQL: set BENCH_DATABASE_URL=postgres://…")
    try:
        ensure_database(database_url)
    except Exception as error:
        raise SystemExit(f"PostgreSQL at {database_url} did not answer: {error}") from error

    results_file = tempfile.NamedTemporaryFile(prefix="accord-bench-", suffix=".jsonl", delete=False)  # noqa: SIM115
    results_file.close()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ACCORD_BENCH_RESULTS": results_file.name,
        "PYTHONUNBUFFERED": "1",
    }
    environment.pop("CACHE_URL", None)  # the pages' figures use the process's own cache, as run.py documents
    started = time.monotonic()
    failed = []
    print(f"database {database_url}, Redis {redis_url}; load average {load()}")
    if not run("migrate", ["manage.py", "migrate", "--noinput", "-v0"], environment):
        raise SystemExit("migrate failed")
    sizes = [f"--{name}={getattr(options, name.replace('-', '_'))}" for name in SIZES]
    if not run("data (bench/generate.py)", ["bench/generate.py", *sizes], environment):
        raise SystemExit("bench/generate.py failed: see above (another size is there? add --reset to generate.py)")
    vacuum(database_url)
    steps = {
        "pages": [("pages and API (bench/run.py)", ["bench/run.py", "--both", f"--runs={options.runs}"])],
        "sweeps": [
            ("renewal-reminder sweep (bench/reminder_sweep.py)", ["bench/reminder_sweep.py"]),
            ("collection sweep (bench/collection_sweep.py)", ["bench/collection_sweep.py"]),
        ],
        "pdf": [("proposal PDF and editor (bench/proposal_pdf.py)", ["bench/proposal_pdf.py"])],
        "import": [("client import (bench/import_bench.py)", ["bench/import_bench.py"])],
        "load": [("load test (bench/load.py)", ["bench/load.py", f"--time={options.load_time}"])],
    }
    for part in PARTS:
        if part in skipped:
            continue
        for step, arguments in steps[part]:
            if not run(step, arguments, environment):
                failed.append(step)

    rows = results.read(results_file.name)
    os.unlink(results_file.name)
    print("\n" + "=" * 120)
    print(f"Accord speed targets, {time.strftime('%Y-%m-%d %H:%M')}; load average {load()}; {len(rows)} figures")
    print("\n".join(table(rows)))
    misses = [row for row in rows if not row.passed]
    stretch = [row for row in rows if row.stretch_met is not None]
    print(
        f"\n{len(rows) - len(misses)} of {len(rows)} targets met their floor; "
        f"{sum(row.stretch_met for row in stretch)} of {len(stretch)} stretch figures met; "
        f"{(time.monotonic() - started) / 60:.1f} minutes in all."
    )
    for step in failed:
        print(f"FAILED: {step} (exit status not 0: a miss, or an error above)")
    return 1 if misses or failed else 0


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
