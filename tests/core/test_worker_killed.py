"""A worker killed mid-task (issue 9, faults): no renewal reminder, collection follow-up, PDF or webhook is lost or
done twice.

Each task is caught at a point where it is really in the middle of its work, then the worker is killed with
SIGKILL in one of two ways:

- ``pool process``: only the prefork pool's process running the task dies; the worker's main process sees it lost
  and gives the message back to Redis (``task_acks_late`` with ``task_reject_on_worker_lost``), and runs it again;
- ``whole worker``: the main process dies too, so nobody gives the message back: Redis hands it to the next
  worker once the visibility timeout (CELERY_VISIBILITY_TIMEOUT, 5 s here) has passed since it was taken.

The points where the tasks wait are natural ones the test controls: the sweeps' pause before each batch commits
(the env variables the reminder and follow-up worker tests use), a lock the test holds on a row or a table the
PDF tasks need, a webhook receiver that does not answer. The test owns its Redis (a ``redis-server`` on a port of
its own), so the visibility timeout and the unacknowledged messages are its own; the test process sends its tasks
there too. The database is the test database.
"""

import os
import re
import shutil
import signal
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
import redis
from django.db import connection, transaction
from django.utils import timezone
from kombu import pools as kombu_pools

from accounts.models import Notification, Role
from clients import services as client_services
from config.celery import app
from contracts.billing.collections import PAUSE_VARIABLE as COLLECTION_PAUSE
from contracts.models import (
    CollectionNotice,
    CollectionStep,
    DocumentStatus,
    NoticeDelivery,
    RenewalReminder,
    StatementDocument,
)
from contracts.reminders import PAUSE_VARIABLE as REMINDER_PAUSE
from contracts.tasks import render_statement_pdf_task, send_collection_follow_ups_task, send_renewal_reminders_task
from integrations.models import DeliveryStatus, WebhookDelivery
from integrations.tasks import send_due_webhooks_task
from proposals.models import Proposal
from proposals.tasks import render_proposal_pdf_task
from tests.conftest import celery_worker, require, wait_for
from tests.contracts.test_collections_worker import (
    assert_each_step_notice_and_email_once,
    clients_owing,
    follow_up_emails,
)
from tests.contracts.test_reminders_worker import contracts_due_in_30_days, emails_in
from tests.core.test_outbox_worker import OwnRedis
from tests.factories import ActiveContractFactory, ClientFactory, InvoiceFactory, UserFactory
from tests.integrations.conftest import make_endpoint, receiver  # noqa: F401 - the receiver fixture
from tests.proposals.pdf_factories import proposal_for, reload
from tests.proposals.test_pdf_worker import stored_in

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT = 5  # seconds: CELERY_VISIBILITY_TIMEOUT of the workers started here
SWEEP_PAUSE = 3  # seconds each sweep batch waits before it commits
KILLS = ["pool process", "whole worker"]


# --- The test's own Redis, and the test process sending its tasks there -------------------------------------


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory):
    require(shutil.which("redis-server") is not None, "needs redis-server (apt-get install redis-server)")
    server = OwnRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def broker(own_redis, django_db_setup):
    """The test process's tasks (queued by services on commit, or sent here) go to the test's own Redis."""
    from django.conf import settings

    require(settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), "needs PostgreSQL (set DATABASE_URL)")
    previous = app.conf.broker_url
    _use_broker(own_redis.url)
    yield redis.Redis.from_url(own_redis.url)
    _use_broker(previous)


def _use_broker(url: str) -> None:
    """Point this process's task producer at ``url``. kombu keeps its connection and producer pools in a registry
    keyed by the broker's address: ``pools.reset()`` closes and forgets them all, where closing only the app's pool
    left it in the registry, closed, for the next test in this process ("Acquire on closed pool")."""
    kombu_pools.reset()
    app._pool = None
    app.amqp._producer_pool = None
    app.conf.broker_url = url


@pytest.fixture
def empty_broker(broker):
    broker.flushdb()
    yield broker
    broker.flushdb()


@contextmanager
def prefork_worker(tmp_path: Path, name: str, own_redis: OwnRedis):
    """A ``celery worker`` with one pool process, on the test's Redis with a short visibility timeout."""
    mailbox = tmp_path / "mail"
    mailbox.mkdir(exist_ok=True)
    environment = {
        "REDIS_URL": own_redis.url,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "EMAIL_URL": f"filemail:///{mailbox}",
        "WEBHOOKS_ALLOW_PRIVATE": "true",
        REMINDER_PAUSE: str(SWEEP_PAUSE),
        COLLECTION_PAUSE: str(SWEEP_PAUSE),
    }
    log = tmp_path / f"{name}.log"
    with celery_worker(log, name, queues="celery", pool="prefork", environment=environment) as process:
        yield SimpleNamespace(process=process, log=log, mailbox=mailbox)


@contextmanager
def killed_mid_task(tmp_path: Path, own_redis: OwnRedis, broker, how: str, *, started, caught, after_kill=None):
    """Run the task ``started()`` queues until ``caught()`` says it is in the middle of its work, kill the worker
    (``how``: one of KILLS), call ``after_kill()``, and yield the worker that finishes the task: the same one, or a
    fresh one."""
    with prefork_worker(tmp_path, "doomed", own_redis) as doomed:
        started()
        wait_for(caught, timeout=60)
        if how == "pool process":
            os.kill(pool_process(doomed.process.pid), signal.SIGKILL)
            wait_for(lambda: "WorkerLostError" in doomed.log.read_text(), timeout=30)
            if after_kill:
                after_kill()
            yield doomed  # its main process gave the message back and runs it again in a new pool process
            return
        os.killpg(doomed.process.pid, signal.SIGKILL)
        doomed.process.wait(timeout=10)
    if after_kill:
        after_kill()
    assert broker.zcard("unacked_index") == 1  # taken, never acknowledged: Redis still holds it for redelivery
    wait_until_visibility_timeout_passed(broker)
    with prefork_worker(tmp_path, "fresh", own_redis) as fresh:
        yield fresh


def pool_process(main_pid: int) -> int:
    """The pid of the only pool process of a prefork worker."""
    children = Path(f"/proc/{main_pid}/task/{main_pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def wait_until_visibility_timeout_passed(broker) -> None:
    """The unacknowledged message is older than the visibility timeout: a worker that starts now restores it."""
    [(_tag, taken_at)] = broker.zrange("unacked_index", 0, -1, withscores=True)
    time.sleep(max(0.0, taken_at + VISIBILITY_TIMEOUT + 0.5 - time.time()))


def succeeded(worker, task: str) -> list[str]:
    """The results the worker logged for ``task`` (the killed worker logged none)."""
    return re.findall(rf"Task {re.escape(task)}\[[\w-]+\] succeeded in [\d.]+s: (.*)", worker.log.read_text())


def holds_write_lock(table: str) -> bool:
    """Another connection holds a write lock on ``table``: a sweep's batch is open, not committed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks JOIN pg_class ON pg_class.oid = pg_locks.relation "
            "WHERE pg_class.relname = %s AND pg_locks.mode = 'RowExclusiveLock' AND pg_locks.pid <> pg_backend_pid()",
            [table],
        )
        return cursor.fetchone()[0] > 0


def waits_for_a_lock() -> bool:
    """A worker's query waits for a lock the test holds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


class Locker:
    """A connection of the test's own (not the test's Django one) that holds a lock until ``release()``."""

    def __init__(self, sql: str, *parameters):
        database = connection.settings_dict
        self.connection = psycopg.connect(
            host=database["HOST"] or "127.0.0.1",
            port=database["PORT"] or 5432,
            user=database["USER"],
            password=database["PASSWORD"] or None,
            dbname=database["NAME"],
        )
        self.connection.execute(sql, parameters)

    def release(self) -> None:
        if not self.connection.closed:
            self.connection.rollback()
            self.connection.close()


@pytest.fixture
def locks():
    held: list[Locker] = []
    yield held
    for locker in held:
        locker.release()


@pytest.fixture
def stored_files():
    """The documents the workers store are deleted after the test."""
    yield
    for document in StatementDocument.objects.exclude(file=""):
        document.file.delete(save=False)
    for proposal in Proposal.objects.exclude(pdf=""):
        proposal.pdf.delete(save=False)


# --- Renewal reminders ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", KILLS)
def test_a_renewal_reminder_is_sent_once_when_the_worker_is_killed(how, own_redis, empty_broker, tmp_path):
    director = UserFactory(role=Role.DIRECTOR, email="director@agency.test")
    [contract] = contracts_due_in_30_days(1)

    def started():
        send_renewal_reminders_task.delay(timezone.localdate().isoformat())

    def caught():  # the reminder and its notifications written, not committed
        return holds_write_lock(RenewalReminder._meta.db_table)

    with killed_mid_task(tmp_path, own_redis, empty_broker, how, started=started, caught=caught) as worker:
        wait_for(lambda: succeeded(worker, "contracts.tasks.send_renewal_reminders_task"), timeout=60)
        wait_for(lambda: not Notification.objects.filter(emailed_at__isnull=True).exists(), timeout=60)
        wait_for(lambda: sum(emails_in(worker.mailbox).values()) >= 2, timeout=60)

    assert succeeded(worker, "contracts.tasks.send_renewal_reminders_task") == ["1"]
    assert list(RenewalReminder.objects.values_list("contract", "offset_days")) == [(contract.pk, 30)]
    recipients = Counter(Notification.objects.values_list("recipient", flat=True))
    assert recipients == {contract.owner_id: 1, director.pk: 1}
    assert emails_in(worker.mailbox) == {contract.owner.email: 1, director.email: 1}


# --- Collection follow-ups ------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", KILLS)
def test_a_collection_follow_up_is_taken_once_when_the_worker_is_killed(how, own_redis, empty_broker, tmp_path):
    addresses = clients_owing(1, "killed")  # two invoices (levels 1 and 2), two billing contacts

    def started():
        send_collection_follow_ups_task.delay(timezone.localdate().isoformat())

    def caught():  # the notice and its steps written, not committed
        return holds_write_lock(CollectionNotice._meta.db_table)

    with killed_mid_task(tmp_path, own_redis, empty_broker, how, started=started, caught=caught) as worker:
        wait_for(lambda: succeeded(worker, "contracts.tasks.send_collection_follow_ups_task"), timeout=60)
        wait_for(lambda: NoticeDelivery.objects.count() == len(addresses), timeout=60)
        wait_for(lambda: sum(follow_up_emails(worker.mailbox).values()) >= len(addresses), timeout=60)

    assert succeeded(worker, "contracts.tasks.send_collection_follow_ups_task") == ["2"]
    assert_each_step_notice_and_email_once(addresses, 1, worker.mailbox)
    assert CollectionStep.objects.count() == 2


# --- Proposal and statement PDFs ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", KILLS)
def test_a_proposal_pdf_is_stored_once_when_the_worker_is_killed(
    how, own_redis, empty_broker, tmp_path, locks, stored_files
):
    proposal = proposal_for(UserFactory(), line_count=3, language="en")
    empty_broker.flushdb()  # whatever creating it queued: the render below is the one under test
    before = set(stored_in(proposal))

    def started():  # the worker renders the PDF, then waits for the row the test holds, to store it
        locks.append(Locker("SELECT 1 FROM proposals_proposal WHERE id = %s FOR UPDATE", proposal.pk))
        render_proposal_pdf_task.delay(proposal.pk)

    def release():
        for locker in locks:
            locker.release()

    with killed_mid_task(
        tmp_path, own_redis, empty_broker, how, started=started, caught=waits_for_a_lock, after_kill=release
    ) as worker:
        proposal = wait_for(lambda: (fresh := reload(proposal)).pdf_hash and fresh, timeout=60)
        wait_for(lambda: succeeded(worker, "proposals.tasks.render_proposal_pdf_task"), timeout=30)

    assert succeeded(worker, "proposals.tasks.render_proposal_pdf_task") == ["'rendered'"]
    assert set(stored_in(proposal)) - before == {proposal.pdf.name}  # one file: none from the killed attempt


@pytest.mark.parametrize("how", KILLS)
def test_a_statement_pdf_is_stored_once_when_the_worker_is_killed(
    how, am, own_redis, empty_broker, tmp_path, locks, stored_files
):
    contract = ActiveContractFactory(client=ClientFactory(owner=am, name="Công ty Bánh kẹo Hải Hà"))
    InvoiceFactory(contract=contract, issue_date=date(2026, 6, 1), due_date=date(2026, 7, 1))
    document = StatementDocument.objects.create(
        client=contract.client,
        currency="VND",
        start=date(2026, 1, 1),
        end=date(2026, 6, 30),
        language="vi",
        content_hash="killed-worker",
        requested_by=am,
    )
    storage = StatementDocument._meta.get_field("file").storage
    before = set(files_in(storage, "statements"))

    def started():  # the worker holds the document's row and waits to read the invoices the test holds
        locks.append(Locker(f"LOCK TABLE {InvoiceFactory._meta.model._meta.db_table} IN ACCESS EXCLUSIVE MODE"))
        render_statement_pdf_task.delay(document.pk)

    def release():
        for locker in locks:
            locker.release()

    with killed_mid_task(
        tmp_path, own_redis, empty_broker, how, started=started, caught=waits_for_a_lock, after_kill=release
    ) as worker:
        wait_for(lambda: succeeded(worker, "contracts.tasks.render_statement_pdf_task"), timeout=60)

    document.refresh_from_db()
    assert document.status == DocumentStatus.READY, document.error
    assert succeeded(worker, "contracts.tasks.render_statement_pdf_task") == ["'ready'"]
    assert set(files_in(storage, "statements")) - before == {document.file.name}  # one file, stored once


def files_in(storage, folder: str) -> list[str]:
    """Every file under ``folder`` of the storage (statements/<year>/<month>/<name>)."""
    if not storage.exists(folder):
        return []
    folders, names = storage.listdir(folder)
    return [f"{folder}/{name}" for name in names] + [
        path for sub in folders for path in files_in(storage, f"{folder}/{sub}")
    ]


# --- Webhook deliveries ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", KILLS)
def test_a_webhook_is_delivered_when_the_worker_is_killed_and_the_receiver_can_tell_the_repeat(
    how,
    own_redis,
    empty_broker,
    tmp_path,
    receiver,  # noqa: F811 - the fixture imported above
):
    """Deliveries are at least once (docs/api.md, "Webhooks"): the POST the killed worker made may have arrived,
    so it is made again, with the same Accord-Webhook-Id for the receiver to ignore; the redelivered message adds
    nothing."""
    endpoint = make_endpoint(url=receiver.url, events=["client.created"])
    receiver.hold = threading.Event()  # the receiver keeps the killed worker's request waiting

    def started():  # the client's webhook is queued when its transaction commits
        with transaction.atomic():
            client_services.client_create(actor=UserFactory(role=Role.ACCOUNT_MANAGER), name="Công ty Sữa Ba Vì")

    def answer_from_now_on():
        receiver.hold.set()  # the killed worker's request gets its answer into a closed socket
        receiver.hold = None

    with killed_mid_task(
        tmp_path,
        own_redis,
        empty_broker,
        how,
        started=started,
        caught=lambda: len(receiver.requests) == 1,
        after_kill=answer_from_now_on,
    ) as worker:
        # the message given back (or redelivered) finds its attempt taken and sends nothing;
        wait_for(lambda: succeeded(worker, "integrations.tasks.deliver_webhook_task"), timeout=60)
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
        assert len(receiver.requests) == 1
        # the beat sweep takes the delivery again once its lease ran out.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        assert send_due_webhooks_task() == 1
        wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED, timeout=30)

    assert succeeded(worker, "integrations.tasks.deliver_webhook_task") == ["None", "'succeeded'"]
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 2
    assert len(receiver.requests) == 2
    assert {request.headers["Accord-Webhook-Id"] for request in receiver.requests} == {str(delivery.event_id)}
