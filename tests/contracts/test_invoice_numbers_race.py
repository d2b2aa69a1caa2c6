"""Invoice numbers under two concurrent creators: two separate OS processes on PostgreSQL, started at once.

Each process is a small Django script against this test run's database. They wait for a start file, then issue
invoices (or run the billing-schedule sweep) as fast as they can, so both take numbers from the same year's
counter row at the same time. Issued numbers must come out 1..N: no gap, no repeat, and a rolled-back issue gives
its number back.
"""

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Role
from contracts.models import Invoice, InvoiceNumber
from tests.conftest import BASE_DIR, require
from tests.factories import ActiveContractFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

YEAR = 2031  # no other test numbers invoices in this year; its counter row does not exist yet

SCRIPT = """
import json, os, sys, time
from datetime import date
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db import transaction

from accounts.models import User
from contracts.billing import services
from contracts.billing.schedule import create_scheduled_invoices
from contracts.models import Contract

job, name, start_file = sys.argv[1], sys.argv[2], sys.argv[3]
arguments = json.loads(sys.argv[4])


class GiveTheNumberBack(Exception):
    pass


def issue_invoices(contract_id, actor_id, year, count, roll_back_every):
    contract, actor = Contract.objects.get(pk=contract_id), User.objects.get(pk=actor_id)
    issued = []
    for index in range(count):
        try:
            with transaction.atomic():
                invoice = services.invoice_create(
                    contract=contract,
                    actor=actor,
                    net_amount=Decimal("1000000"),
                    description=f"{name} {index}",
                    issue_date=date(year, 3, 1),
                    issue=index % 2 == 0,  # half issued at creation, half created as drafts and issued after
                )
                if invoice.number is None:
                    invoice = services.invoice_issue(invoice=invoice, actor=actor)
                time.sleep(0.005)  # hold the year's counter a moment: the other process queues behind it
                if (index + 1) % roll_back_every == 0:
                    raise GiveTheNumberBack
            issued.append(invoice.number)
        except GiveTheNumberBack:
            pass
    return issued


print("ready", flush=True)
while not os.path.exists(start_file):
    time.sleep(0.002)
started = time.monotonic()
if job == "issue":
    result = issue_invoices(**arguments)
else:
    result = create_scheduled_invoices(today=date.fromisoformat(arguments["today"]))
print(json.dumps({"result": result, "started": started, "finished": time.monotonic()}), flush=True)
"""


@pytest.fixture(autouse=True)
def _postgresql():
    require(connection.vendor == "postgresql", "needs PostgreSQL for two processes writing at once")


def database_url() -> str:
    database = settings.DATABASES["default"]
    user = database.get("USER") or ""
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    address = f"{database.get('HOST') or '127.0.0.1'}:{database.get('PORT') or 5432}"
    return f"postgres://{user}{password}@{address}/{database['NAME']}"


def run_at_once(tmp_path: Path, job: str, arguments: dict, processes: int = 2) -> list[dict]:
    """Start ``processes`` Django scripts, let them all set up, then release them together; their outputs."""
    start_file = tmp_path / "start"
    environment = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "config.settings"}
    running = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, job, f"process {index}", str(start_file), json.dumps(arguments)],
            cwd=BASE_DIR,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(processes)
    ]
    try:
        for process in running:
            assert process.stdout.readline().strip() == "ready", process.stderr.read()
        start_file.touch()
        outputs = [process.communicate(timeout=120) for process in running]
    finally:
        for process in running:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, (_, errors) in zip(running, outputs, strict=True):
        assert process.returncode == 0, errors
    return [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]


def sequence_numbers(numbers) -> list[int]:
    return sorted(int(number.rsplit("-", 1)[1]) for number in numbers)


def assert_overlapped(runs: list[dict]) -> None:
    """Both processes were at work at the same time (each started before the other finished)."""
    assert max(run["started"] for run in runs) < min(run["finished"] for run in runs)


def test_two_processes_issuing_at_once_get_numbers_one_to_n_with_no_gap_or_repeat(tmp_path):
    finance = UserFactory(role=Role.FINANCE)
    contract = ActiveContractFactory(start_date=date(YEAR, 1, 1), end_date=date(YEAR, 12, 31))
    arguments = {"contract_id": contract.pk, "actor_id": finance.pk, "year": YEAR, "count": 25, "roll_back_every": 5}

    runs = run_at_once(tmp_path, "issue", arguments)

    assert_overlapped(runs)
    issued = [number for run in runs for number in run["result"]]
    assert len(issued) == 2 * 20  # every fifth issue of each process rolled back
    stored = list(Invoice.objects.filter(contract=contract).values_list("number", flat=True))
    assert sorted(stored) == sorted(issued)
    assert sequence_numbers(stored) == list(range(1, 41))
    assert all(number.startswith(f"INV-{YEAR}-") for number in stored)
    assert InvoiceNumber.objects.get(year=YEAR).last == 40


def test_two_billing_schedule_sweeps_at_once_invoice_each_month_once_with_gap_free_numbers(tmp_path):
    contracts = [
        ActiveContractFactory(
            billing_schedule="monthly_retainer", start_date=date(YEAR, 1, 1), end_date=date(YEAR, 12, 31)
        )
        for _ in range(8)
    ]

    runs = run_at_once(tmp_path, "sweep", {"today": f"{YEAR}-06-01"})

    assert sum(run["result"] for run in runs) == 8 * 6  # January to June, split between the two sweeps
    keys = list(Invoice.objects.values_list("contract", "schedule_key"))
    assert len(keys) == len(set(keys)) == 8 * 6
    assert {contract.invoices.count() for contract in contracts} == {6}
    assert sequence_numbers(Invoice.objects.values_list("number", flat=True)) == list(range(1, 49))
    assert InvoiceNumber.objects.get(year=YEAR).last == 48
