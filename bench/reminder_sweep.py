"""Time the renewal-reminder sweep over the generated contracts in a real Celery worker, and its peak memory.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/accord_bench REDIS_URL=redis://127.0.0.1:6379/5
    python bench/generate.py --contracts 100000     # 30k of them active
    python bench/reminder_sweep.py [--batch-size 500] [--keep]

The sweep runs as on the first day ever: the generated contracts' reminder log is emptied first, so every active
contract whose notice deadline is within 90 days gets its reminder (and the director those at 30 and 7 days).
It runs in a ``celery worker --pool=solo`` started here, on a queue of its own, with the locmem e-mail backend;
the e-mails themselves are not part of the sweep (they are separate tasks, queued after each batch commits) and
are taken off the queue again afterwards, unsent. Targets (issue 4): ≤ 30 s wall, worker peak RSS < 300 MB.
Afterwards the reminders and notifications the run created are deleted (unless --keep), so the figures of
bench/run.py (the notification pages) do not change and the next run measures the same work.

Use a Redis database no other worker listens to: a worker on the default queue would e-mail the notifications.
"""

import argparse
import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Notification  # noqa: E402
from bench import results  # noqa: E402
from config.celery import app  # noqa: E402
from contracts.models import Contract, RenewalReminder  # noqa: E402
from contracts.reminders import BATCH_SIZE, reminders_due  # noqa: E402
from contracts.tasks import send_renewal_reminders_task  # noqa: E402

BASE_DIR = Path(__file__).resolve().parent.parent
WALL_SECONDS, PEAK_MB = 30, 300
QUEUE = f"bench-reminder-sweep-{os.getpid()}"
EMAIL_TASK = "accounts.tasks.send_notification_email_task"
SUCCEEDED = re.compile(r"send_renewal_reminders_task\[[\w-]+\] succeeded in (?P<seconds>[\d.]+)s: (?P<sent>\d+)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"contracts per batch ({BATCH_SIZE})")
    parser.add_argument("--keep", action="store_true", help="keep the reminders and notifications the run created")
    options = parser.parse_args()
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        raise SystemExit("Set DATABASE_URL=postgres://... and REDIS_URL=redis://... (see the docstring).")

    today = timezone.localdate()
    RenewalReminder.objects.filter(contract__number__startswith="BENCH-").delete()
    first_notification = (Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    first_reminder = (RenewalReminder.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    due = reminders_due(today).count()
    print(f"database: {Contract.objects.count()} contracts, {Contract.objects.active().count()} active")
    print(f"due today ({today}): {due} reminders; batch size {options.batch_size}")

    with TemporaryDirectory() as scratch:
        log_path = Path(scratch) / "worker.log"
        worker = start_worker(log_path)
        try:
            baseline_kb = memory_kb(worker.pid)["VmRSS"]
            started = time.perf_counter()
            kwargs = {"today": today.isoformat(), "batch_size": options.batch_size}
            send_renewal_reminders_task.apply_async(kwargs=kwargs, queue=QUEUE)
            finished = wait_for_sweep(worker, log_path)
            wall = time.perf_counter() - started
            peak_kb = memory_kb(worker.pid)["VmHWM"]
        finally:
            stop(worker)

    notifications = Notification.objects.filter(pk__gte=first_notification)
    created = notifications.count()
    print(f"sent: {finished['sent']} reminders, {created} notifications")
    report("sweep wall time", wall, WALL_SECONDS, "s", f"task {float(finished['seconds']):.1f} s")
    report("worker peak RSS", peak_kb / 1024, PEAK_MB, "MB", f"at start {baseline_kb / 1024:.0f} MB")
    dropped = drop_queued_emails(first_notification)
    if not options.keep:
        notifications.delete()
        RenewalReminder.objects.filter(pk__gte=first_reminder).delete()
    kept = "" if options.keep else ", the reminders and notifications"
    print(f"cleaned up: {dropped} queued e-mails (not sent){kept}")


def start_worker(log_path: Path) -> subprocess.Popen:
    environment = {
        **os.environ,
        "EMAIL_URL": "memorymail://",  # the locmem backend
        "CELERY_TASK_SOFT_TIME_LIMIT": "900",
        "CELERY_TASK_TIME_LIMIT": "960",
    }
    environment.pop("ACCORD_REMINDER_SWEEP_PAUSE", None)
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO", "-Q", QUEUE]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{QUEUE}@%h"]
    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            command, cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while " ready." not in log_path.read_text():
        if worker.poll() is not None or time.monotonic() > deadline:
            stop(worker)
            raise SystemExit(f"The worker did not start:\n{log_path.read_text()}")
        time.sleep(0.1)
    return worker


def wait_for_sweep(worker: subprocess.Popen, log_path: Path) -> dict:
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        text = log_path.read_text()
        if match := SUCCEEDED.search(text):
            return match.groupdict()
        if worker.poll() is not None or " raised " in text or "Traceback" in text:
            raise SystemExit(f"The sweep failed:\n{text[-4000:]}")
        time.sleep(0.05)
    raise SystemExit("The sweep did not finish within 15 minutes.")


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, in kB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def drop_queued_emails(first_notification: int) -> int:
    """Take the e-mail tasks of the notifications this run created off the default queue, leaving others."""
    broker = redis.Redis.from_url(settings.REDIS_URL)
    queue = app.conf.task_default_queue
    dropped = 0
    for raw in broker.lrange(queue, 0, -1):
        message = json.loads(raw)
        if message.get("headers", {}).get("task") != EMAIL_TASK:
            continue
        args = json.loads(base64.b64decode(message["body"]))[0]
        if args and args[0] >= first_notification:
            dropped += broker.lrem(queue, 1, raw)
    broker.delete(QUEUE, f"_kombu.binding.{QUEUE}", f"_kombu.binding_permanent.{QUEUE}")
    return dropped


def report(label: str, value: float, target: float, unit: str, note: str) -> None:
    results.report_sweep("renewal-reminder sweep", label, value, target, unit, note)


if __name__ == "__main__":
    main()
