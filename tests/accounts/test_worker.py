"""End to end with a real ``celery worker`` process on Redis and the test database."""

import pytest
import redis
from django.conf import settings
from django.db import transaction

from accounts.models import Notification
from accounts.services import notify
from tests.conftest import wait_for
from tests.factories import UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_task_enqueued_in_a_transaction_runs_after_commit(celery_worker_process):
    user = UserFactory(email="thang@agency.test", preferred_language="vi")
    broker = redis.Redis.from_url(settings.REDIS_URL)

    with transaction.atomic():
        notification = notify(user=user, title="Hand-over to Creative is due tomorrow", url="/people/")
        assert broker.llen("celery") == 0  # nothing published while the transaction is open

    emailed_at = wait_for(lambda: Notification.objects.get(pk=notification.pk).emailed_at, timeout=30)

    assert emailed_at is not None
    # The worker's mailbox is shared by this run's worker tests: this test's message is the one to its user. It
    # arrives a moment after ``emailed_at`` is set: the mail queue's own task delivers it (core/mail.py).
    mine = wait_for(lambda: _messages_to(celery_worker_process["mailbox"], "thang@agency.test"), timeout=30)
    assert len(mine) == 1
    content = mine[0]
    assert "Hand-over to Creative is due tomorrow" in content
    assert "send_notification_email_task" in celery_worker_process["log"].read_text()


def test_a_rolled_back_transaction_enqueues_nothing(celery_worker_process):
    user = UserFactory()
    broker = redis.Redis.from_url(settings.REDIS_URL)

    with pytest.raises(RuntimeError), transaction.atomic():
        notify(user=user, title="Never sent")
        raise RuntimeError("the action failed")

    assert broker.llen("celery") == 0
    assert not Notification.objects.exists()


def _messages_to(mailbox, address: str) -> list[str]:
    return [content for path in mailbox.iterdir() if f"To: {address}" in (content := path.read_text())]
