"""Schemathesis against a live server: every operation of the OpenAPI schema, with data the schema allows and data
it forbids, must answer without a 5xx, with a documented status code, content type and body, and must refuse what
the schema forbids. The settings (seed, examples per operation, the one excluded check and why) are in
tests/schemathesis.toml; docs/api.md tells how to run it by hand.

Schemathesis runs as its own process (its command line, the report it prints) against gunicorn with two worker
processes on the test database, as in production (DEBUG off, persistent database connections; tasks run in the
web process, as without Redis): pytest-django's live server answers in one thread of this process and opens a
database connection per request, which made the run three times slower. The fuzzer's writes go to the test
database; the transactional test empties it afterwards.
"""

import datetime
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import ApiTokenScope, Role
from accounts.tokens import personal_token_create
from kpis.models import LedgerZone
from tests.conftest import BASE_DIR, require, restore_migration_departments, wait_for
from tests.conftest import test_database_url as database_url_of_this_run
from tests.factories import (
    ActivityFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    DepartmentFactory,
    HandoverFactory,
    InvoiceFactory,
    NotificationFactory,
    PartnerRelationshipFactory,
    PaymentFactory,
    RequestFactory,
    TeamFactory,
    UserFactory,
)
from tests.kpis.factories import CostEntryFactory, KpiTargetFactory
from tests.proposals.factories import RateCardItemFactory, line, proposal_with_lines

pytestmark = pytest.mark.django_db(transaction=True)

CONFIG = BASE_DIR / "tests" / "schemathesis.toml"
TIME_LIMIT_SECONDS = 600  # a hung run fails instead of holding CI; a normal run takes two to four minutes


@pytest.fixture
def agency():
    """A small agency for the fuzzer to find: two teams, clients with contacts, partners, a timeline, requests and
    hand-overs, deals and contracts with invoices and payments, proposals, rate card and targets. Returns the
    keys of a director's and an administrator's read-write tokens."""
    restore_migration_departments()
    # The row a data migration writes and a transactional test run before empties: the signed-months trigger
    # needs the agency's time zone.
    LedgerZone.objects.get_or_create(pk=1, defaults={"time_zone": settings.TIME_ZONE})
    hanoi, saigon = TeamFactory(name="Hà Nội"), TeamFactory(name="Sài Gòn")
    director = UserFactory(role=Role.DIRECTOR, full_name="Trần Thị Mai Anh")
    admin = UserFactory(role=Role.ADMIN, full_name="Quản trị")
    managers = [UserFactory(team=hanoi), UserFactory(team=saigon)]
    creative = DepartmentFactory(name="Creative")
    for index, owner in enumerate(managers * 2):
        client = ClientFactory(owner=owner)
        ContactFactory(client=client, is_billing=index % 2 == 0)
        PartnerRelationshipFactory(client=client)
        ActivityFactory(client=client, next_step="Gửi báo giá", next_step_due=timezone.localdate())
        HandoverFactory(request=RequestFactory(client=client), department=creative, assignee=managers[0])
        ContractFactory(client=client)
        invoice = InvoiceFactory(contract__client=client)
        PaymentFactory(invoice=invoice, recorded_by=director)
        CostEntryFactory(contract=invoice.contract, department=creative)
        proposal_with_lines(owner, client=client, lines=[line(department=creative)])
        NotificationFactory(recipient=director)
    RateCardItemFactory(department=creative)
    KpiTargetFactory(user=managers[0], set_by=director)
    KpiTargetFactory(scope="team", user=None, team=hanoi, set_by=director, period_start=datetime.date(2026, 10, 1))
    KpiTargetFactory(scope="agency", user=None, set_by=director, value=Decimal("5000000000"))
    write = ApiTokenScope.READ_WRITE
    return {
        "ACCORD_FUZZ_TOKEN": personal_token_create(user=director, name="schemathesis", scope=write).key,
        "ACCORD_FUZZ_ADMIN_TOKEN": personal_token_create(user=admin, name="schemathesis", scope=write).key,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)  # noqa: S310 - our own server on 127.0.0.1
    except urllib.error.HTTPError:
        return True  # any HTTP answer: the server is up
    except OSError:
        return False
    return True


@pytest.fixture
def api_server(tmp_path):
    """gunicorn serving Accord on the test database at a free port; its log is printed with a failing report."""
    database = settings.DATABASES["default"]
    require(database["ENGINE"].endswith("postgresql"), "the API fuzz test needs PostgreSQL (set DATABASE_URL)")
    port, log_path = free_port(), tmp_path / "gunicorn.log"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url_of_this_run(),
        "REDIS_URL": "",  # tasks (e-mails, PDFs, webhooks) run in the web process; nothing is left queued
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_RATE_PER_TOKEN": "1000000/minute",  # the fuzzer sends thousands of requests a minute
        "API_RATE_PER_IP": "1000000/minute",
    }
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            command, cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: server.poll() is not None or answers(f"{url}/healthz"), timeout=60)
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited at start:\n{log_path.read_text()}", pytrace=False)
        yield {"url": url, "log": log_path}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def run_schemathesis(url: str, tokens: dict, report_dir) -> tuple[int, str, float]:
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "--no-color", "run", url]
    command += ["--report", "junit", "--report-dir", str(report_dir)]
    started = time.monotonic()
    result = subprocess.run(
        command,
        cwd=BASE_DIR,
        env={**os.environ, **tokens},
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT_SECONDS,
    )
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def test_schemathesis_finds_no_failure_in_any_operation(api_server, agency, tmp_path):
    status, report, seconds = run_schemathesis(f"{api_server['url']}/api/schema/", agency, tmp_path)

    print(report)
    print(f"schemathesis took {seconds:.0f} s; load average {os.getloadavg()}")
    if status != 0:
        server_log = api_server["log"].read_text()
        pytest.fail(
            f"schemathesis found failures (exit status {status}):\n{report}\n--- server log ---\n{server_log}",
            pytrace=False,
        )
    assert "Tested: " in report
