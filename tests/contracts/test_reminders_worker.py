"""Renewal reminders exactly once with real ``celery worker`` processes on Redis and PostgreSQL.

These tests start their own workers (not the session's shared one): one with two pool processes, so two sweeps
run at the same moment, and one that is killed with SIGKILL in the middle of a sweep. The sweeps go to a queue of
this test run's own, so no other worker can take them; the notification e-mails go to the default queue.
"""

import os
import re
import signal
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Notification, Role
from contracts.models import RenewalReminder
from contracts.reminders import PAUSE_VARIABLE
from contracts.tasks import send_renewal_reminders_task
from tests.conftest import celery_worker as run_celery_worker
from tests.conftest import forget_queue, redis_answers, require, wait_for
from tests.factories import ActiveContractFactory, UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = f"renewal-reminders-test-{os.getpid()}"
SUCCEEDED = re.compile(
    r"/(?P<worker>[\w-]+)\] Task contracts\.tasks\.send_renewal_reminders_task\[[\w-]+\] "
    r"succeeded in [\d.]+s: (?P<sent>\d+)"
)


@pytest.fixture(scope="session")
def redis_and_postgresql():
    """Session-scoped, so a missing service skips before the test database is set up (and flushed after)."""
    require(bool(settings.REDIS_URL), "needs Redis (set REDIS_URL=redis://127.0.0.1:6379/5)")
    require(redis_answers(settings.REDIS_URL), f"Redis does not answer at {settings.REDIS_URL}")
    require(settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), "needs PostgreSQL (set DATABASE_URL)")
    return redis.Redis.from_url(settings.REDIS_URL)


@pytest.fixture
def services_available(redis_and_postgresql):
    broker = redis_and_postgresql
    broker.delete(QUEUE)
    yield broker
    forget_queue(broker, QUEUE)


@contextmanager
def celery_worker(tmp_path: Path, name: str, *, pool: str = "solo", concurrency: int = 1, pause: float = 0):
    """A ``celery worker`` in its own process group, on the test database, with a file mailbox in ``tmp_path``.

    ``pause``: seconds each sweep batch waits before it commits (contracts.reminders.PAUSE_VARIABLE).
    """
    mailbox = tmp_path / "mail"
    mailbox.mkdir(exist_ok=True)
    environment = {"EMAIL_URL": f"filemail:///{mailbox}", PAUSE_VARIABLE: str(pause)}
    log = tmp_path / f"{name}.log"
    with run_celery_worker(
        log, name, queues=f"{QUEUE},celery", pool=pool, concurrency=concurrency, environment=environment
    ) as process:
        yield SimpleNamespace(process=process, log=log, mailbox=mailbox)


def sweeps_succeeded(worker) -> list[tuple[str, int]]:
    """(pool process, reminders sent) of every sweep the worker finished."""
    return [(match["worker"], int(match["sent"])) for match in SUCCEEDED.finditer(worker.log.read_text())]


def enqueue_sweep(today, batch_size: int) -> None:
    send_renewal_reminders_task.apply_async(kwargs={"today": today.isoformat(), "batch_size": batch_size}, queue=QUEUE)


def sweep_holds_uncommitted_claims() -> bool:
    """Another connection holds a write lock on the reminder table: a sweep's batch is open, not committed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks JOIN pg_class ON pg_class.oid = pg_locks.relation "
            "WHERE pg_class.relname = %s AND pg_locks.mode = 'RowExclusiveLock' AND pg_locks.pid <> pg_backend_pid()",
            [RenewalReminder._meta.db_table],
        )
        return cursor.fetchone()[0] > 0


def emails_in(mailbox: Path) -> Counter:
    """Recipient of every e-mail written to the mailbox (file backend: one or more messages per file)."""
    return Counter(
        recipient
        for message_file in mailbox.iterdir()
        for recipient in re.findall(r"^To: (.+)$", message_file.read_text(), flags=re.MULTILINE)
    )


def assert_emailed_once(mailbox: Path) -> None:
    """Every notification was e-mailed, none twice. The session's shared worker, when a test before started it,
    listens on the default queue too and may send some of them from its own mailbox: so at most, not exactly."""
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    expected = Counter(Notification.objects.values_list("recipient__email", flat=True))
    assert all(count <= expected[recipient] for recipient, count in emails_in(mailbox).items())


def contracts_due_in_30_days(count: int) -> list:
    deadline = timezone.localdate() + timedelta(days=30)
    end = deadline + timedelta(days=30)
    return [ActiveContractFactory(start_date=end - timedelta(days=364), end_date=end) for _ in range(count)]


def assert_each_reminder_and_notification_once(contracts, director) -> None:
    assert Counter(RenewalReminder.objects.values_list("contract", flat=True)) == Counter(c.pk for c in contracts)
    assert set(RenewalReminder.objects.values_list("offset_days", flat=True)) == {30}
    owners = Counter(Notification.objects.exclude(recipient=director).values_list("recipient", flat=True))
    assert owners == Counter(contract.owner_id for contract in contracts)
    assert Notification.objects.filter(recipient=director).count() == len(contracts)


def test_two_sweeps_at_the_same_time_send_each_reminder_once(services_available, tmp_path):
    director = UserFactory(role=Role.DIRECTOR, email="director@agency.test")
    contracts = contracts_due_in_30_days(12)
    today = timezone.localdate()

    with celery_worker(tmp_path, "two-at-once", pool="prefork", concurrency=2, pause=0.4) as worker:
        enqueue_sweep(today, batch_size=3)
        enqueue_sweep(today, batch_size=3)
        finished = wait_for(lambda: len(sweeps_succeeded(worker)) == 2 and sweeps_succeeded(worker), timeout=60)
        wait_for(lambda: not Notification.objects.filter(emailed_at__isnull=True).exists(), timeout=60)

    assert len({process for process, _sent in finished}) == 2  # two pool processes: the sweeps ran side by side
    assert sum(sent for _process, sent in finished) == 12  # between them, each reminder once
    assert_each_reminder_and_notification_once(contracts, director)
    assert_emailed_once(worker.mailbox)


def test_a_worker_killed_mid_sweep_loses_and_duplicates_nothing_when_the_sweep_reruns(services_available, tmp_path):
    director = UserFactory(role=Role.DIRECTOR, email="director@agency.test")
    contracts = contracts_due_in_30_days(9)
    today = timezone.localdate()

    # Given a sweep in batches of 3 that waits 3 s before committing each batch,
    with celery_worker(tmp_path, "killed", pause=3) as doomed:
        enqueue_sweep(today, batch_size=3)
        # when the first batch is committed and the second one is open,
        wait_for(lambda: RenewalReminder.objects.count() == 3 and sweep_holds_uncommitted_claims(), timeout=30)
        # the worker is killed with SIGKILL (the whole process group).
        os.killpg(doomed.process.pid, signal.SIGKILL)
        doomed.process.wait(timeout=10)

    # The open batch rolled back: its claims and notifications are gone together; the first batch stays.
    wait_for(lambda: not sweep_holds_uncommitted_claims(), timeout=10)
    assert RenewalReminder.objects.count() == 3
    assert Notification.objects.count() == 3 * 2  # owner and director, for the first batch only
    assert not sweeps_succeeded(doomed)  # the sweep never finished (its e-mails' deliveries may have)

    # Its message is redelivered only after the visibility timeout (hours): the rerun is enqueued explicitly.
    with celery_worker(tmp_path, "rerun") as worker:
        enqueue_sweep(today, batch_size=3)
        rerun = wait_for(lambda: sweeps_succeeded(worker), timeout=60)
        wait_for(lambda: not Notification.objects.filter(emailed_at__isnull=True).exists(), timeout=60)

    assert rerun == [("MainProcess", 6)]  # the two batches the killed sweep never committed
    assert_each_reminder_and_notification_once(contracts, director)
    assert_emailed_once(worker.mailbox)
