"""Tasks handed to the worker without being lost when the broker is down: a transactional outbox.

``enqueue(task, *args)`` writes an ``OutboxMessage`` in the caller's transaction and, once it commits, hands the
task to the broker and deletes the row. When Redis does not answer, the page or API call that asked still
succeeds (the change is committed; the task waits in the database), and ``relay_outbox_task`` (beat, every
minute) hands the waiting tasks over once the broker is back. A task can then run twice (the broker took it but
the row could not be deleted): every task is written to be idempotent (each checks its own log first).

With no broker (the embedded default) tasks run in-process after the commit, as before.
"""

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from threading import local

from celery import Task, current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.models import OutboxMessage

logger = logging.getLogger(__name__)
RELAY_AFTER = timedelta(seconds=30)  # younger rows are still being handed over by the request that wrote them
RELAY_BATCH = 500


_pending = local()  # ids written by this thread's transactions, not handed over yet


def enqueue(task: Task, *args) -> None:
    """Run ``task(*args)`` in the worker once the current transaction commits (at once outside of one)."""
    enqueue_many(task, [args])


def enqueue_many(task: Task, calls: Iterable[Sequence]) -> None:
    """``enqueue(task, *args)`` for each ``args`` of ``calls``, written in one INSERT: a sweep that queues a task
    per row pays one statement per batch, not one per row. Handed over after the commit, as ``enqueue``."""
    calls = [list(args) for args in calls]
    if current_app.conf.task_always_eager:
        for args in calls:
            transaction.on_commit(lambda args=args: task.delay(*args))
        return
    if not calls:
        return
    messages = OutboxMessage.objects.bulk_create([OutboxMessage(task=task.name, args=args) for args in calls])
    _pending.__dict__.setdefault("ids", []).extend(message.pk for message in messages)
    transaction.on_commit(_publish_pending)


def _publish_pending() -> None:
    """After a commit: the first callback hands over every task waiting in this thread at once, the others find
    nothing left. Ids of a rolled-back transaction are among them; their rows are gone, and nothing is sent."""
    ids, _pending.ids = _pending.__dict__.get("ids", []), []
    if ids:
        publish_many(ids)


def publish(message_id: int) -> bool:
    """Hand one waiting task to the broker and forget it; False when the broker refused it (it stays waiting) or
    another process took it first."""
    return publish_many([message_id]) == 1


def publish_many(message_ids: list[int]) -> int:
    """Hand waiting tasks to the broker (oldest first) in one transaction, and forget them in one statement; how
    many were handed over. A sweep that queues thousands of e-mails pays a millisecond or so each, where a
    transaction per task cost 3–4 ms. When the broker refuses one, it and the rest stay waiting for the relay;
    rows another process holds are left to it."""
    handed = []
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk__in=message_ids).order_by("pk")
        )
        try:
            for message in messages:
                current_app.tasks[message.task].delay(*message.args)
                handed.append(message.pk)
        except Exception as error:  # whatever the broker's client raises (redis, kombu, socket): keep the tasks
            refused = messages[len(handed)]  # the one tried; those after it were not, and wait as they are
            OutboxMessage.objects.filter(pk=refused.pk).update(
                attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"[:2000]
            )
            logger.warning("broker refused %s (outbox %s), kept for the relay: %s", refused.task, refused.pk, error)
        OutboxMessage.objects.filter(pk__in=handed).delete()
    return len(handed)


def relay(*, older_than: timedelta = RELAY_AFTER, batch: int = RELAY_BATCH) -> tuple[int, int]:
    """Hand over the tasks still waiting (oldest first); (handed over, still waiting in this batch)."""
    cutoff = timezone.now() - older_than
    ids = list(OutboxMessage.objects.filter(created_at__lte=cutoff).order_by("pk").values_list("pk", flat=True)[:batch])
    sent = publish_many(ids) if ids else 0  # the broker still down: the rest wait for the next run
    return sent, len(ids) - sent
