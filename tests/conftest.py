"""Shared fixtures: fast password hashing, service requirements, a real Celery worker and a real browser.

Tests that need PostgreSQL, Redis or Chromium skip with the reason when the service is missing, except under
REQUIRE_SERVICES=1 (CI), where a missing service fails the run.

Under pytest-xdist (``make test`` runs ``-n auto``) each xdist worker has its own test database (pytest-django
names it ``test_<name>_gw0``, ``_gw1``, ...), its own Redis database (REDIS_URL's number plus the worker's index)
and its own media folder; the processes a test starts (Celery workers, the race tests' scripts) inherit all three
through the environment. ``--dist loadfile`` keeps each module on one xdist worker, so data a module builds once
for its tests (``module_transaction``) is built once. (Not ``loadgroup``: pytest-xdist 3.8 cannot rename the tests
of a group under pytest 9, so its groups are ignored.)
"""

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from rest_framework.test import APIClient

# Playwright's sync API runs an event loop in the test thread; the ORM calls beside it are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

BASE_DIR = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TEST_PASSWORD = "pass-for-tests-1"
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... in an xdist worker; "" otherwise
REDIS_DATABASES = 16  # Redis's default number of databases
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def require(available: bool, reason: str) -> None:
    """Skip a test whose service is missing, or fail it when REQUIRE_SERVICES=1 says it must be there."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def wait_for(condition, timeout: float = 20, interval: float = 0.2):
    """Poll ``condition`` until it returns something truthy; fail with a message after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")


# --- One xdist worker's own services ---------------------------------------------------------------------------


def pytest_configure(config):
    if XDIST_WORKER:
        _isolate_xdist_worker(int(XDIST_WORKER.removeprefix("gw")))


def _isolate_xdist_worker(index: int) -> None:
    """Give this xdist worker its own Redis database and media folder, here and in the processes it starts.

    Django's settings were read before any conftest ran (pytest-django sets Django up first), so they are changed
    in place, and the environment is changed for the subprocesses, which read their settings afresh.
    """
    from django.conf import settings

    if settings.REDIS_URL:
        url = redis_url_of_worker(settings.REDIS_URL, index)
        settings.REDIS_URL = settings.CELERY_BROKER_URL = os.environ["REDIS_URL"] = url
        from config.celery import app

        app.conf.broker_url = url
    if "DOCUMENT_STORAGE_OPTIONS" not in os.environ:  # the documents are files under MEDIA_ROOT
        media = Path(tempfile.mkdtemp(prefix=f"accord-test-media-{XDIST_WORKER}-"))
        atexit.register(shutil.rmtree, media, ignore_errors=True)
        _use_media_root(media)


def redis_url_of_worker(url: str, index: int) -> str:
    """REDIS_URL with the database number moved up by the xdist worker's index (redis://host:6379/8 → /9 for
    gw1): Celery's queues and the tests' checks on them stay apart from the other workers'."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    if base + index >= REDIS_DATABASES:
        raise pytest.UsageError(
            f"REDIS_URL uses database {base}: xdist worker {index} would need database {base + index}, past the last "
            f"one ({REDIS_DATABASES - 1}). Choose a lower database number in REDIS_URL or fewer workers."
        )
    return urlunsplit(parts._replace(path=f"/{base + index}"))


def _use_media_root(media: Path) -> None:
    """MEDIA_ROOT and the documents storage (statement and proposal PDFs) in ``media``: the PDF worker tests list
    what the storage holds, which another xdist worker writing PDFs at the same moment would change."""
    from django.apps import apps
    from django.conf import settings
    from django.core.signals import setting_changed
    from django.db.models import FileField

    os.environ["MEDIA_ROOT"] = str(media)
    settings.MEDIA_ROOT = media
    documents = settings.STORAGES["documents"]
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {**documents, "OPTIONS": {**documents.get("OPTIONS", {}), "location": str(media / "documents")}},
    }
    # Django's own handlers (as override_settings sends them) drop the storages built from the old settings;
    # each FileField kept the storage its callable returned when the model was imported: it asks again.
    import django.test.signals  # noqa: F401 - connects those handlers

    for setting in ("MEDIA_ROOT", "STORAGES"):
        value = getattr(settings, setting)
        setting_changed.send(sender=type(settings._wrapped), setting=setting, value=value, enter=True)
    for model in apps.get_models():
        for field in model._meta.fields:
            if isinstance(field, FileField) and hasattr(field, "_storage_callable"):
                field.storage = field._storage_callable()


# --- Every test ----------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = list(FAST_PASSWORD_HASHERS)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts and ends with an empty cache. Billing and KPI figures are cached under the data's revision
    (highest id, latest change): a rolled-back test leaves ids that SQLite hands out again and timestamps a frozen
    clock repeats, so a test could otherwise meet a figure, a query count or a rate-limit counter of the one before."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _api_rate_limits_out_of_reach(settings):
    """The whole suite calls the API from one address; tests/test_throttling.py sets low limits of its own."""
    settings.ACCORD_API_THROTTLE_RATES = {"token": "100000/minute", "ip": "100000/minute"}


@pytest.fixture(autouse=True)
def _mail_goes_through_the_queue(settings):
    """E-mail takes the production path (core/mail.py: a row, then delivery once the transaction commits) to
    Django's test outbox, ``mail.outbox``; Django's test set-up had made the locmem backend the EMAIL_BACKEND."""
    settings.EMAIL_BACKEND = "core.mail.QueuedEmailBackend"
    settings.ACCORD_EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def smtp_server(settings):
    """A mail server of the test's own (tests/mail_support.py), set as EMAIL_URL; it accepts until told to refuse."""
    import environ

    from tests.mail_support import FakeSmtpServer

    with FakeSmtpServer() as server:
        configuration = environ.Env.email_url_config(server.url)
        settings.ACCORD_EMAIL_DELIVERY_BACKEND = configuration.pop("EMAIL_BACKEND")
        for name, value in configuration.items():
            setattr(settings, name, value)
        settings.EMAIL_TIMEOUT = 5
        yield server


@contextmanager
def tasks_run_in_process():
    """Celery tasks run eagerly in the block, even when REDIS_URL is set."""
    from django.conf import settings

    from config.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture(autouse=True)
def _tasks_run_in_process_unless_a_worker_is_used(request):
    """Unit tests run tasks eagerly even when REDIS_URL is set; worker tests keep the real broker."""
    if request.node.get_closest_marker("worker"):
        yield
        return
    with tasks_run_in_process():
        yield


def restore_migration_departments() -> None:
    """Put back the departments a data migration creates: a transactional test run before, on the same xdist
    worker, empties every table when it ends."""
    from importlib import import_module

    from clients.models import Department

    for name in import_module("clients.migrations.0003_departments").DEPARTMENTS:
        Department.objects.get_or_create(name=name)


@pytest.fixture(scope="module")
def module_transaction(django_db_setup, django_db_blocker):
    """A transaction open for a whole module, for data its tests share, built once by a module-scoped fixture
    that requests this one (inside ``django_db_blocker.unblock()``).

    Each ``django_db`` test of the module runs in a savepoint inside it (pytest-django's TestCase), so what one
    test changes is undone before the next; after the module everything is rolled back. Nothing is committed, so
    nothing needs cleaning up and no other module sees the data. Not for transactional tests (which commit, and
    empty the database after): keep those in another module. Callbacks registered with on_commit never run, as in
    any ``django_db`` test.
    """
    from django.db import transaction

    with django_db_blocker.unblock():
        block = transaction.atomic()
        block.__enter__()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            block.__exit__(None, None, None)


def test_database_url() -> str:
    """The current test database as a DATABASE_URL, for a process a test starts (a worker, a script)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    address = f"{database.get('HOST') or '127.0.0.1'}:{database.get('PORT') or 5432}"
    return f"postgres://{database.get('USER') or ''}{password}@{address}/{database['NAME']}"


def forget_queue(broker, queue: str) -> None:
    """Drop a test queue from Redis: its messages, its bindings, and what a killed worker left unacknowledged
    (which Redis would otherwise hand back after the visibility timeout)."""
    broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    for tag, payload in broker.hgetall("unacked").items():
        if queue.encode() in payload:
            broker.hdel("unacked", tag)
            broker.zrem("unacked_index", tag)


@contextmanager
def celery_worker(
    log_path: Path, name: str, *, queues: str, pool: str = "solo", concurrency: int = 1, environment: dict | None = None
):
    """A ``celery worker`` in its own process group (so a test can kill it and its children), on the test
    database and this run's Redis, reading ``queues``; ``environment`` adds variables (a mailbox, a pause). Waits
    until it is ready; stops it (TERM, then KILL) on the way out."""
    from django.conf import settings

    command = [
        *(sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}", f"--concurrency={concurrency}"),
        *("-Q", queues, "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"),
        *("-n", f"{name}-{os.getpid()}@%h"),
    ]
    variables = {**os.environ, "DATABASE_URL": test_database_url(), "REDIS_URL": settings.REDIS_URL}
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env={**variables, **(environment or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: process.poll() is not None or " ready." in log_path.read_text(), timeout=60)
        if process.poll() is not None:
            pytest.fail(f"celery worker exited at start:\n{log_path.read_text()}", pytrace=False)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real ``celery worker`` process on Redis, using this test run's database and a file mailbox."""
    from django.conf import settings

    require(bool(settings.REDIS_URL), "needs Redis (set REDIS_URL=redis://127.0.0.1:6379/0)")
    require(redis_answers(settings.REDIS_URL), f"Redis does not answer at {settings.REDIS_URL}")
    database = settings.DATABASES["default"]
    require(database["ENGINE"].endswith("postgresql"), "the worker test needs PostgreSQL (set DATABASE_URL)")

    from config.celery import app

    app.control.purge()
    mailbox = tmp_path_factory.mktemp("worker-mail")
    log_path = tmp_path_factory.mktemp("worker-log") / "worker.log"
    user = database.get("USER") or ""
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    host, port = database.get("HOST") or "127.0.0.1", database.get("PORT") or 5432
    environment = {
        **os.environ,
        "DATABASE_URL": (f"postgres://{user}{password}@{host}:{port}/{database['NAME']}"),
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_URL": f"filemail:///{mailbox}",  # four slashes: an absolute path for django-environ
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"]
    command += [
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"pytest-{os.getpid()}@%h",
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: process.poll() is not None or " ready." in log_path.read_text(), timeout=60)
        if process.poll() is not None:
            pytest.fail(f"celery worker exited at start:\n{log_path.read_text()}", pytrace=False)
        yield {"process": process, "mailbox": mailbox, "log": log_path}
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    require(os.path.exists(CHROMIUM), f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.console_errors = errors
    yield page
    context.close()


# --- People for the API and permission tests (a test module may define its own instead) --------------------


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def team():
    from tests.factories import TeamFactory

    return TeamFactory(name="Hà Nội")


@pytest.fixture
def am(team):
    from accounts.models import Role
    from tests.factories import UserFactory

    return UserFactory(role=Role.ACCOUNT_MANAGER, team=team, full_name="Lan Nguyễn")


@pytest.fixture
def teammate(team):
    from accounts.models import Role
    from tests.factories import UserFactory

    return UserFactory(role=Role.ACCOUNT_MANAGER, team=team)


@pytest.fixture
def stranger():
    """An account manager of another team."""
    from accounts.models import Role
    from tests.factories import TeamFactory, UserFactory

    return UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Sài Gòn"))


@pytest.fixture
def sales():
    from accounts.models import Role
    from tests.factories import TeamFactory, UserFactory

    return UserFactory(role=Role.SALES, team=TeamFactory(name="Sales"))


@pytest.fixture
def finance():
    from accounts.models import Role
    from tests.factories import UserFactory

    return UserFactory(role=Role.FINANCE)


@pytest.fixture
def director():
    from accounts.models import Role
    from tests.factories import UserFactory

    return UserFactory(role=Role.DIRECTOR)
