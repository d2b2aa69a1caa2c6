"""PostgreSQL restarted mid-run (issue 9, faults): the web process and the worker carry on without a restart.

The test owns its PostgreSQL: a cluster of its own (``initdb`` into a temporary folder, trust authentication, a free
port), which it restarts and stops; the machine's PostgreSQL is never touched. The web process is gunicorn, as in
production (DEBUG off), and a real ``celery worker``, both on that cluster and on a ``redis-server`` of the test's
own. Persistent connections (CONN_MAX_AGE) die with the server: CONN_HEALTH_CHECKS replaces a dead one at the next
request or task instead of failing it.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from glob import glob
from pathlib import Path

import psycopg
import pytest
import requests

from config.celery import app
from contracts.tasks import render_statement_pdf_task
from tests.conftest import BASE_DIR, celery_worker, require, wait_for
from tests.core.test_outbox_worker import OwnRedis, free_port

pytestmark = [pytest.mark.worker]

SEED = """
import json
from datetime import date
from django.test import Client
from accounts.models import ApiTokenScope, Role
from accounts.tokens import personal_token_create
from tests.factories import ActiveContractFactory, ClientFactory, InvoiceFactory, UserFactory
am = UserFactory(role=Role.ACCOUNT_MANAGER, full_name="Lan Nguyễn")
contract = ActiveContractFactory(client=ClientFactory(owner=am, name="Công ty Bánh kẹo Hải Hà"))
InvoiceFactory(contract=contract, issue_date=date(2026, 6, 1), due_date=date(2026, 7, 1))
token = personal_token_create(user=am, name="Timesheets", scope=ApiTokenScope.READ_WRITE).key
browser = Client()
browser.force_login(am)
print(json.dumps({"client": contract.client_id, "token": token, "session": browser.cookies["sessionid"].value}))
"""


def postgres_binaries() -> Path | None:
    """The folder of the newest installed PostgreSQL server's programs (Debian keeps them off the PATH)."""
    folders = sorted(glob("/usr/lib/postgresql/*/bin"), key=lambda folder: int(Path(folder).parent.name))
    for folder in [*reversed(folders), str(Path(shutil.which("initdb") or "/nonexistent").parent)]:
        if all(Path(folder, program).is_file() for program in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class OwnPostgres:
    """A PostgreSQL cluster of the test's own, in a temporary folder, on a free port of 127.0.0.1.

    PostgreSQL refuses to run as root: as root (CI) the cluster belongs to the ``postgres`` system user and its
    programs run through ``runuser``.
    """

    def __init__(self, binaries: Path):
        self.binaries, self.port = binaries, free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="accord-faults-pg-"))
        self.data = self.folder / "data"
        self.log = str(self.folder / "server.log")  # pg_ctl: the server writes here, not into our pipes
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/accord"

    def _run(self, program: str, *arguments: str) -> None:
        done = subprocess.run(
            [*self.as_owner, str(self.binaries / program), *arguments], capture_output=True, text=True, timeout=60
        )
        if done.returncode:
            log = Path(self.log).read_text() if Path(self.log).exists() else ""
            pytest.fail(f"{program} {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}\n{log[-3000:]}")

    def create(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        with (self.data / "postgresql.conf").open("a") as conf:  # every start, not only the first, uses them
            conf.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n")
            conf.write(f"unix_socket_directories = '{self.folder}'\nfsync = off\n")
        self.start()
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as connection:
            connection.execute("CREATE DATABASE accord")

    def restart(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", self.log, "-m", "fast", "-w", "restart")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", self.log, "-w", "start")

    def dsn(self, database: str = "accord") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database} connect_timeout=5"

    def query(self, sql: str, *parameters):
        with psycopg.connect(self.dsn()) as connection:
            return connection.execute(sql, parameters).fetchall()

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [*self.as_owner, str(self.binaries / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def own_postgres():
    binaries = postgres_binaries()
    require(binaries is not None, "needs PostgreSQL's server programs (apt-get install postgresql)")
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        require(shutil.which("runuser") is not None, "needs runuser to run PostgreSQL as its own user")
        require(_user_exists("postgres"), "needs the postgres system user (apt-get install postgresql)")
    postgres = OwnPostgres(binaries)
    try:
        postgres.create()
        yield postgres
    finally:
        postgres.remove()


@pytest.fixture(scope="module")
def own_redis_of_module(tmp_path_factory):
    require(shutil.which("redis-server") is not None, "needs redis-server (apt-get install redis-server)")
    redis = OwnRedis(tmp_path_factory.mktemp("redis"))
    redis.start()
    yield redis
    if redis.process.poll() is None:
        redis.stop()


@pytest.fixture(scope="module")
def environment(own_postgres, own_redis_of_module, tmp_path_factory):
    """Production-like settings on the test's own PostgreSQL and Redis, the documents in a folder of the test's."""
    return {
        **os.environ,
        "DATABASE_URL": own_postgres.url,
        "REDIS_URL": own_redis_of_module.url,
        "DEBUG": "false",
        "SECRET_KEY": "faults-test-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "STATIC_MANIFEST": "false",
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
        "DOCUMENT_STORAGE_OPTIONS": json.dumps({"location": str(tmp_path_factory.mktemp("documents"))}),
        "CONN_MAX_AGE": "600",  # the connections outlive the restart: the health checks must replace them
    }


@pytest.fixture(scope="module")
def seeded(environment):
    """The schema migrated and an account manager with a client, an API token and a browser session."""
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input"], cwd=BASE_DIR, env=environment, check=True, capture_output=True)
    seed = subprocess.run(
        [*manage, "shell", "-c", SEED], cwd=BASE_DIR, env=environment, check=True, capture_output=True, text=True
    )
    return json.loads(seed.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def gunicorn(environment, seeded, tmp_path_factory):
    """gunicorn as production runs it (one worker process here), on the test's own PostgreSQL."""
    port, log = free_port(), tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    command = [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "1", "--timeout", "30"]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=environment, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: process.poll() is not None or _answers(base), timeout=60)
        assert process.poll() is None, log.read_text()
        yield Gunicorn(process, base, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


class Gunicorn:
    def __init__(self, process, base, log):
        self.process, self.base, self.log = process, base, log

    def workers(self) -> set[int]:
        """The pids of gunicorn's worker processes: the same set means no worker was restarted."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        return {int(pid) for pid in children.split()}


def pending_statement_document(postgres: OwnPostgres) -> int:
    """A statement document waiting to be rendered, written straight into the database (no task queued)."""
    [(document_id,)] = postgres.query(
        "INSERT INTO contracts_statementdocument "
        '(client_id, currency, start, "end", language, content_hash, status, file, error, requested_by_id, created_at) '
        "SELECT client_id, currency, start, DATE '2026-05-31', language, 'waiting', 'pending', '', '', "
        "requested_by_id, now() FROM contracts_statementdocument LIMIT 1 RETURNING id"
    )
    return document_id


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/healthz", timeout=10).status_code in (200, 503)
    except requests.RequestException:  # not listening yet, or its first request still loading the code
        return False


def test_the_app_and_the_worker_recover_from_a_postgresql_restart_without_being_restarted(
    own_postgres, own_redis_of_module, environment, seeded, gunicorn, tmp_path
):
    web, client_id = gunicorn.base, seeded["client"]
    api = requests.Session()
    api.headers["Authorization"] = f"Token {seeded['token']}"
    browser = requests.Session()
    browser.cookies.set("sessionid", seeded["session"])

    def everything_answers() -> None:
        assert requests.get(f"{web}/healthz", timeout=10).status_code == 200
        assert browser.get(f"{web}/clients/{client_id}/", timeout=10).status_code == 200
        assert api.get(f"{web}/api/v1/clients", timeout=10).status_code == 200

    def statement_rendered_by_the_worker(end: str) -> None:
        """A statement PDF asked for through the API (a write) and rendered by the worker (its own writes)."""
        asked = api.post(
            f"{web}/api/v1/statements/{client_id}/pdf",
            json={"currency": "VND", "start": "2026-01-01", "end": end, "language": "vi"},
            timeout=30,
        )
        assert asked.status_code == 202, asked.text
        document_id = asked.json()["id"]
        query = "SELECT status FROM contracts_statementdocument WHERE id = %s"
        wait_for(lambda: own_postgres.query(query, document_id) != [("pending",)], timeout=60)
        assert own_postgres.query(query, document_id) == [("ready",)]

    # Given the web process and a worker, each holding persistent connections to PostgreSQL,
    worker_environment = {key: environment[key] for key in ("DATABASE_URL", "REDIS_URL", "DOCUMENT_STORAGE_OPTIONS")}
    with celery_worker(
        tmp_path / "worker.log", "pg-restart", queues="celery", environment=worker_environment
    ) as worker:
        everything_answers()
        statement_rendered_by_the_worker("2026-06-28")
        workers = gunicorn.workers()

        # when PostgreSQL restarts, every one of those connections is cut:
        own_postgres.restart()
        everything_answers()
        statement_rendered_by_the_worker("2026-06-29")

        # while it is down the app answers at once with an error (not a hang), and /healthz says why;
        own_postgres.stop()
        health = requests.get(f"{web}/healthz", timeout=10)
        assert health.status_code == 503
        assert health.json()["checks"]["database"]["status"] == "error"
        assert health.json()["checks"]["broker"]["status"] == "ok"
        page = browser.get(f"{web}/clients/{client_id}/", timeout=10)
        assert page.status_code == 500 and "Something went wrong on our side" in page.text
        failed = api.get(f"{web}/api/v1/clients", timeout=10)
        assert failed.status_code == 500 and failed.json()["error"]["code"] == "server_error"
        own_postgres.start()

        # a task the worker takes meanwhile fails on the database and is retried (TRANSIENT_DATABASE_ERRORS);
        waiting = pending_statement_document(own_postgres)  # written before the outage, queued during it
        own_postgres.stop()
        with app.connection_for_write(own_redis_of_module.url) as broker:
            render_statement_pdf_task.apply_async((waiting,), connection=broker)
        wait_for(lambda: "Retry in" in (tmp_path / "worker.log").read_text(), timeout=30)

        # once it is back, the same processes answer and write again, and the retried task is done.
        own_postgres.start()
        everything_answers()
        query = "SELECT status FROM contracts_statementdocument WHERE id = %s"
        wait_for(lambda: own_postgres.query(query, waiting) == [("ready",)], timeout=60)
        created = api.post(f"{web}/api/v1/clients", json={"name": "Công ty Sữa Ba Vì"}, timeout=10)
        assert created.status_code == 201, created.text
        statement_rendered_by_the_worker("2026-06-30")
        assert worker.poll() is None

    assert gunicorn.workers() == workers and gunicorn.process.poll() is None
    own_postgres.restart()  # what was written after the outage is in PostgreSQL, not in a lost connection
    assert own_postgres.query("SELECT count(*) FROM clients_client WHERE name = %s", "Công ty Sữa Ba Vì") == [(1,)]
