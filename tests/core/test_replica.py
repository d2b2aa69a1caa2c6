"""The read replica (core/replica.py): the KPI dashboards and the metrics endpoint read from it when
DATABASE_REPLICA_URL is set; every other page and every write stays on the primary."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, router

from accounts.models import User
from clients.models import Client
from core.replica import ReplicaRouter, replica_reads
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]

# Run in a process of its own, with DATABASE_REPLICA_URL pointing at the test database: the "replica" alias then
# exists, as it would in production. It prints how many queries each alias ran for each path.
SCRIPT = """
import json, sys
import django
django.setup()
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
setup_test_environment()
from accounts.models import User
browser = Client()
browser.force_login(User.objects.get(email=sys.argv[1]))
counts = {}
for path in sys.argv[2:]:
    with CaptureQueriesContext(connections["default"]) as primary:
        with CaptureQueriesContext(connections["replica"]) as replica:
            status = browser.get(path).status_code
    counts[path] = {"status": status, "default": len(primary), "replica": len(replica)}
print(json.dumps(counts))
"""


def test_without_a_replica_every_read_goes_to_the_primary():
    with replica_reads():
        assert ReplicaRouter().db_for_read(Client) == "default"
        assert router.db_for_read(Client) == "default"
    assert ReplicaRouter().db_for_write(Client) == "default"


@pytest.mark.django_db(transaction=True)
def test_dashboards_read_from_the_replica_and_the_rest_from_the_primary(director):
    if connection.vendor != "postgresql":
        require(False, "the replica test needs PostgreSQL (set DATABASE_URL)")
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    director.email = "replica-director@agency.example"
    director.save(update_fields=["email"])
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": url,
        "DATABASE_REPLICA_URL": url,
    }
    paths = ["/kpis/", "/kpis/?kind=year", "/api/v1/kpis/metrics?metric=signed_revenue&scope=agency", "/clients/"]
    finished = subprocess.run(
        [sys.executable, "-c", SCRIPT, director.email, *paths],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    counts = json.loads(finished.stdout.strip().splitlines()[-1])
    for path in paths:
        assert counts[path]["status"] == 200, (path, counts[path])
    for dashboard in paths[:3]:
        # The session and the user are read before the view, on the primary; the figures on the replica.
        assert counts[dashboard]["replica"] >= 2, (dashboard, counts[dashboard])
        assert counts[dashboard]["default"] <= 3, (dashboard, counts[dashboard])
    assert counts["/clients/"]["replica"] == 0, counts["/clients/"]
    assert User.objects.filter(pk=director.pk).exists()
