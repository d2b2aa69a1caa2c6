"""Collection follow-ups exactly once with real ``celery worker`` processes on Redis and PostgreSQL.

These tests start their own workers, as the renewal-reminder ones do: one with two pool processes, so two sweeps
run at the same moment, and one killed with SIGKILL in the middle of a sweep. The sweeps go to a queue of this test
run's own, so no other worker takes them; the e-mail tasks go to the default queue, which the session's shared
worker (``celery_worker_process``) reads too: the e-mails are counted across both mailboxes, so "once" is exact.
"""

import os
import re
import signal
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from email import message_from_string
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Role
from contracts.billing.collections import PAUSE_VARIABLE
from contracts.billing.services import invoice_totals
from contracts.models import CollectionNotice, CollectionStep, NoticeDelivery
from contracts.tasks import send_collection_follow_ups_task
from core.models import OutgoingEmail, OutgoingEmailStatus
from tests.conftest import celery_worker as run_celery_worker
from tests.conftest import forget_queue, redis_answers, require, wait_for
from tests.factories import ActiveContractFactory, ClientFactory, ContactFactory, InvoiceFactory, UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = f"collection-follow-ups-test-{os.getpid()}"
SUCCEEDED = re.compile(
    r"/(?P<worker>[\w-]+)\] Task contracts\.tasks\.send_collection_follow_ups_task\[[\w-]+\] "
    r"succeeded in [\d.]+s: (?P<taken>\d+)"
)
DOMAIN = "collect-worker.test"  # the billing contacts' addresses: this module's e-mails among the shared worker's


@pytest.fixture(scope="session")
def redis_and_postgresql():
    """Session-scoped, so a missing service skips before the test database is set up (and flushed after)."""
    require(bool(settings.REDIS_URL), "needs Redis (set REDIS_URL=redis://127.0.0.1:6379/11)")
    require(redis_answers(settings.REDIS_URL), f"Redis does not answer at {settings.REDIS_URL}")
    require(settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), "needs PostgreSQL (set DATABASE_URL)")
    return redis.Redis.from_url(settings.REDIS_URL)


@pytest.fixture
def services_available(redis_and_postgresql, celery_worker_process):
    broker = redis_and_postgresql
    broker.delete(QUEUE)
    yield SimpleNamespace(broker=broker, shared_mailbox=celery_worker_process["mailbox"])
    forget_queue(broker, QUEUE)


@contextmanager
def celery_worker(tmp_path: Path, name: str, *, pool: str = "solo", concurrency: int = 1, pause: float = 0):
    """A ``celery worker`` in its own process group, on the test database, with a file mailbox in ``tmp_path``.

    ``pause``: seconds each sweep batch waits before it commits (contracts.billing.collections.PAUSE_VARIABLE).
    """
    mailbox = tmp_path / f"mail-{name}"
    mailbox.mkdir(exist_ok=True)
    environment = {"EMAIL_URL": f"filemail:///{mailbox}", PAUSE_VARIABLE: str(pause)}
    log = tmp_path / f"{name}.log"
    with run_celery_worker(
        log, name, queues=f"{QUEUE},celery", pool=pool, concurrency=concurrency, environment=environment
    ) as process:
        yield SimpleNamespace(process=process, log=log, mailbox=mailbox)


def sweeps_succeeded(worker) -> list[tuple[str, int]]:
    """(pool process, steps taken) of every sweep the worker finished."""
    return [(match["worker"], int(match["taken"])) for match in SUCCEEDED.finditer(worker.log.read_text())]


def enqueue_sweep(today, batch_size: int) -> None:
    send_collection_follow_ups_task.apply_async(
        kwargs={"today": today.isoformat(), "batch_size": batch_size}, queue=QUEUE
    )


def sweep_holds_uncommitted_claims() -> bool:
    """Another connection holds a write lock on the notice table: a sweep's batch is open, not committed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks JOIN pg_class ON pg_class.oid = pg_locks.relation "
            "WHERE pg_class.relname = %s AND pg_locks.mode = 'RowExclusiveLock' AND pg_locks.pid <> pg_backend_pid()",
            [CollectionNotice._meta.db_table],
        )
        return cursor.fetchone()[0] > 0


def mail_queue_drained() -> bool:
    """Every e-mail queued (core/mail.py) was delivered: the mail queue's own tasks run after the ones queueing."""
    return not OutgoingEmail.objects.filter(status=OutgoingEmailStatus.QUEUED).exists()


def follow_up_emails(*mailboxes: Path) -> Counter:
    """Recipient (To) of every follow-up e-mail of this module in the mailboxes (file backend: one or more
    messages per file, separated by a line of dashes)."""
    recipients = Counter()
    for mailbox in mailboxes:
        for message_file in mailbox.iterdir():
            for chunk in message_file.read_text().split("-" * 79):
                if chunk.strip():
                    message = message_from_string(chunk.strip())
                    if (message["To"] or "").endswith(f"@{DOMAIN}"):
                        recipients[message["To"]] += 1
    return recipients


def clients_owing(count: int, tag: str) -> list[str]:
    """``count`` clients, each with an invoice due today (L1) and one 7 days overdue (L2), and a billing contact;
    every third client has a second one, in English. The billing contacts' addresses (``tag`` in each: the shared
    worker's mailbox keeps the e-mails of every test)."""
    today = timezone.localdate()
    totals = invoice_totals(100_000_000, 10, "VND")
    addresses = []
    for number in range(count):
        client = ClientFactory(name=f"Công ty Khách hàng Đông Á {number}", owner=UserFactory(role=Role.ACCOUNT_MANAGER))
        contacts = [ContactFactory(client=client, is_billing=True, email=f"ke-toan-{tag}-{number}@{DOMAIN}")]
        if number % 3 == 0:
            english = ContactFactory(
                client=client, is_billing=True, preferred_language="en", email=f"finance-{tag}-{number}@{DOMAIN}"
            )
            contacts.append(english)
        contract = ActiveContractFactory(client=client)
        for days_overdue in (0, 7):
            due = today - timedelta(days=days_overdue)
            InvoiceFactory(
                contract=contract,
                issue_date=due - timedelta(days=30),
                due_date=due,
                net_amount=totals.net,
                vat_amount=totals.vat,
                gross_amount=totals.gross,
            )
        addresses += [contact.email for contact in contacts]
    return addresses


def assert_each_step_notice_and_email_once(addresses: list[str], clients: int, *mailboxes: Path) -> None:
    assert CollectionNotice.objects.count() == clients
    assert Counter(CollectionStep.objects.values_list("level", flat=True)) == {1: clients, 2: clients}
    assert NoticeDelivery.objects.count() == len(addresses)
    emails = follow_up_emails(*mailboxes)
    assert Counter({address: emails[address] for address in addresses}) == Counter(addresses)


def test_two_sweeps_at_the_same_time_take_each_step_once_and_send_each_email_once(services_available, tmp_path):
    addresses = clients_owing(12, "together")
    today = timezone.localdate()

    with celery_worker(tmp_path, "two-at-once", pool="prefork", concurrency=2, pause=0.4) as worker:
        enqueue_sweep(today, batch_size=3)
        enqueue_sweep(today, batch_size=3)
        finished = wait_for(lambda: len(sweeps_succeeded(worker)) == 2 and sweeps_succeeded(worker), timeout=90)
        wait_for(lambda: NoticeDelivery.objects.count() == len(addresses), timeout=90)
        wait_for(mail_queue_drained, timeout=90)

    assert len({process for process, _taken in finished}) == 2  # two pool processes: the sweeps ran side by side
    assert sum(taken for _process, taken in finished) == 24  # between them, each (invoice, level) once
    assert_each_step_notice_and_email_once(addresses, 12, worker.mailbox, services_available.shared_mailbox)


def test_a_worker_killed_mid_sweep_loses_and_duplicates_nothing_when_the_sweep_reruns(services_available, tmp_path):
    addresses = clients_owing(9, "killed")
    today = timezone.localdate()

    # Given a sweep in batches of 3 clients that waits 3 s before committing each batch,
    with celery_worker(tmp_path, "killed", pause=3) as doomed:
        enqueue_sweep(today, batch_size=3)
        # when the first batch is committed and the second one is open,
        wait_for(lambda: CollectionNotice.objects.count() == 3 and sweep_holds_uncommitted_claims(), timeout=30)
        # the worker is killed with SIGKILL (the whole process group).
        os.killpg(doomed.process.pid, signal.SIGKILL)
        doomed.process.wait(timeout=10)

    # The open batch rolled back, its notices and steps together; the first batch stays, its e-mails queued.
    wait_for(lambda: not sweep_holds_uncommitted_claims(), timeout=10)
    assert CollectionNotice.objects.count() == 3
    assert CollectionStep.objects.count() == 3 * 2
    assert "succeeded" not in doomed.log.read_text()

    # Its message is redelivered only after the visibility timeout (hours): the rerun is enqueued explicitly.
    with celery_worker(tmp_path, "rerun") as worker:
        enqueue_sweep(today, batch_size=3)
        rerun = wait_for(lambda: sweeps_succeeded(worker), timeout=60)
        wait_for(lambda: NoticeDelivery.objects.count() == len(addresses), timeout=60)
        wait_for(mail_queue_drained, timeout=60)

    assert rerun == [("MainProcess", 6 * 2)]  # the two batches the killed sweep never committed
    mailboxes = (doomed.mailbox, worker.mailbox, services_available.shared_mailbox)
    assert_each_step_notice_and_email_once(addresses, 9, *mailboxes)
