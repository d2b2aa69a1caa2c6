"""Redis down (issue 9, faults): the web process keeps answering pages and the API, /healthz says 503 for the
broker, work asked for meanwhile waits in the outbox, and once Redis is back the relay hands it to a real worker,
which does it once.

The test owns its Redis: a ``redis-server`` on a port of its own, stopped and started again; the web process is
``manage.py runserver`` on the test database, pointed at that Redis.
"""

import os
import shutil
import socket
import subprocess
import sys
from datetime import date

import pytest
import requests
from django.test import Client

from accounts.models import ApiTokenScope
from accounts.tokens import personal_token_create
from contracts.models import DocumentStatus, StatementDocument
from core.models import OutboxMessage
from tests import conftest
from tests.conftest import BASE_DIR, celery_worker, require, wait_for
from tests.factories import ActiveContractFactory, ClientFactory, InvoiceFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnRedis:
    """A redis-server of the test's own, which it may stop and start (keeping nothing on disk)."""

    def __init__(self, folder):
        self.port, self.folder, self.process = free_port(), folder, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: _answers(self.port), timeout=20)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def own_redis(tmp_path):
    require(shutil.which("redis-server") is not None, "needs redis-server (apt-get install redis-server)")
    redis = OwnRedis(tmp_path)
    redis.start()
    yield redis
    if redis.process.poll() is None:
        redis.stop()


@pytest.fixture
def web(own_redis, tmp_path):
    """``manage.py runserver`` on the test database and the test's own Redis."""
    port = free_port()
    environment = {"DATABASE_URL": conftest.test_database_url(), "REDIS_URL": own_redis.url, "DEBUG": "true"}
    log = (tmp_path / "web.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        cwd=BASE_DIR,
        env={**os.environ, **environment},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: process.poll() is not None or _up(base), timeout=60)
        assert process.poll() is None, (tmp_path / "web.log").read_text()
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def _up(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=2).status_code in (200, 503)
    except requests.ConnectionError:
        return False


@pytest.fixture
def stored_documents():
    yield
    for document in StatementDocument.objects.exclude(file=""):
        document.file.delete(save=False)


def test_redis_down_keeps_the_app_working_and_loses_no_work(am, own_redis, web, tmp_path, stored_documents):
    contract = ActiveContractFactory(client=ClientFactory(owner=am, name="Công ty Bánh kẹo Hải Hà"))
    InvoiceFactory(contract=contract, issue_date=date(2026, 6, 1), due_date=date(2026, 7, 1))
    token = personal_token_create(user=am, name="Timesheets", scope=ApiTokenScope.READ_WRITE).key
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token}"
    assert requests.get(f"{web}/healthz", timeout=10).status_code == 200

    own_redis.stop()

    health = requests.get(f"{web}/healthz", timeout=10)
    assert health.status_code == 503
    assert health.json()["checks"]["broker"]["status"] == "error"
    assert health.json()["checks"]["database"]["status"] == "ok"
    assert api.get(f"{web}/api/v1/clients", timeout=10).status_code == 200
    signed_in = Client()
    signed_in.force_login(am)  # a session in the database the web process reads
    browser = requests.Session()
    browser.cookies.set("sessionid", signed_in.cookies["sessionid"].value)
    assert browser.get(f"{web}/clients/{contract.client_id}/", timeout=10).status_code == 200

    asked = api.post(
        f"{web}/api/v1/statements/{contract.client_id}/pdf",
        json={"currency": "VND", "start": "2026-01-01", "end": "2026-06-30", "language": "vi"},
        timeout=30,
    )

    assert asked.status_code == 202, asked.text
    document_id = asked.json()["id"]
    waiting = OutboxMessage.objects.get()
    assert waiting.task == "contracts.tasks.render_statement_pdf_task" and waiting.args == [document_id]
    assert waiting.attempts == 1 and waiting.last_error

    own_redis.start()  # empty: whatever it held before is gone, the outbox is not
    with celery_worker(
        tmp_path / "worker.log", "outbox", queues="celery", environment={"REDIS_URL": own_redis.url}
    ) as worker:
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from core.tasks import relay_outbox_task; relay_outbox_task.delay(0)",
            ],
            cwd=BASE_DIR,
            env={**os.environ, "DATABASE_URL": conftest.test_database_url(), "REDIS_URL": own_redis.url},
            check=True,
            timeout=60,
        )
        status = wait_for(lambda: _finished(document_id), timeout=90)
        assert worker.poll() is None

    assert status == DocumentStatus.READY, StatementDocument.objects.get(pk=document_id).error
    assert not OutboxMessage.objects.exists()
    rendered = [line for line in (tmp_path / "worker.log").read_text().splitlines() if "succeeded" in line]
    assert sum("render_statement_pdf_task[" in line for line in rendered) == 1  # once, not lost nor twice
    assert requests.get(f"{web}/healthz", timeout=10).status_code == 200


def _finished(document_id: int) -> str | None:
    status = StatementDocument.objects.values_list("status", flat=True).get(pk=document_id)
    return status if status != DocumentStatus.PENDING else None
