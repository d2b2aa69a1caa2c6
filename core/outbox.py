"""Tasks handed to the worker without being lost when the broker is down: a transactional outbox.

``enqueue(task, *args)`` writes an ``OutboxMessage`` in the caller's transaction and, once it commits, hands the
task to the broker and deletes the row. When Redis does not answer, the page or API call that asked still
succeeds (the change is committed; the task waits in the database), and ``relay_outbox_task`` (beat, every
minute) hands the waiting tasks over once the broker is back. A task can then run twice (the broker took it but
the row could not be deleted): every task is written to be idempotent (each checks its own log first).

With no broker (the embedded default) tasks run in-process after the commit, as before.
"""

import logging
from datetime import timedelta

from celery import Task, current_app
from django.db import transaction
from django.utils import timezone

from core.models import OutboxMessage

logger = logging.getLogger(__name__)
RELAY_AFTER = timedelta(seconds=30)  # younger rows are still being handed over by the request that wrote them
RELAY_BATCH = 500


def enqueue(task: Task, *args) -> None:
    """Run ``task(*args)`` in the worker once the current transaction commits (at once outside of one)."""
    if current_app.conf.task_always_eager:
        transaction.on_commit(lambda: task.delay(*args))
        return
    message = OutboxMessage.objects.create(task=task.name, args=list(args))
    transaction.on_commit(lambda: publish(message.pk))


def publish(message_id: int) -> bool:
    """Hand one waiting task to the broker and forget it; False when the broker refused it (it stays waiting) or
    another process took it first."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=message_id).first()
        if message is None:
            return False
        try:
            current_app.tasks[message.task].delay(*message.args)
        except Exception as error:  # whatever the broker's client raises (redis, kombu, socket): keep the task
            OutboxMessage.objects.filter(pk=message.pk).update(
                attempts=message.attempts + 1, last_error=f"{type(error).__name__}: {error}"[:2000]
            )
            logger.warning("broker refused %s (outbox %s), kept for the relay: %s", message.task, message.pk, error)
            return False
        message.delete()
    return True


def relay(*, older_than: timedelta = RELAY_AFTER, batch: int = RELAY_BATCH) -> tuple[int, int]:
    """Hand over the tasks still waiting (oldest first); (handed over, still waiting in this batch)."""
    cutoff = timezone.now() - older_than
    ids = list(OutboxMessage.objects.filter(created_at__lte=cutoff).order_by("pk").values_list("pk", flat=True)[:batch])
    sent = 0
    for message_id in ids:
        if publish(message_id):
            sent += 1
        elif OutboxMessage.objects.filter(pk=message_id).exists():
            break  # the broker is still down: the next run tries again
    return sent, len(ids) - sent
