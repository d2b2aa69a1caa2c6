"""Shared fixtures: fast password hashing, service requirements, a real Celery worker and a real browser.

Tests that need PostgreSQL, Redis or Chromium skip with the reason when the service is missing, except under
REQUIRE_SERVICES=1 (CI), where a missing service fails the run.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

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


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _tasks_run_in_process_unless_a_worker_is_used(request):
    """Unit tests run tasks eagerly even when REDIS_URL is set; worker tests keep the real broker."""
    from config.celery import app

    if request.node.get_closest_marker("worker"):
        yield
        return
    app.conf.task_always_eager = True
    yield
    from django.conf import settings

    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


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
