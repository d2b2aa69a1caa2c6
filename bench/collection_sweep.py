"""Time the collection follow-up sweep over the generated invoices in a real Celery worker, and its memory.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/accord_bench REDIS_URL=redis://127.0.0.1:6379/5
    python bench/generate.py ... --invoices 300000 --payments 500000
    python bench/collection_sweep.py [--batch-size 500] [--days 1] [--keep]

The sweep runs as on the first day ever: the generated clients' follow-up log (steps and notices) is emptied first,
so every open invoice of theirs due within 3 days or overdue, not on hold and above the minimum, gets its current
level, and each of those clients its notice, timeline entry and e-mails (directors and finance one escalation
notification per batch). It runs in a ``celery worker --pool=solo`` started here, on a queue of its own, with the
locmem e-mail backend. The mail transport is not part of the sweep: the e-mails are tasks of their own, queued on
the default queue after each batch commits; they are counted there and taken off again, unsent.
``--days 3`` goes on with the next days, ordinary ones: only the levels reached that day.
Targets (issue 5): ≤ 30 s wall over 300k invoices, memory flat (worker peak RSS < 300 MB, its range printed).
Afterwards what the run created (notices, steps, invoice events, timeline entries, notifications) is deleted
(unless --keep), so the figures of bench/run.py do not change and the next run measures the same work.

Use a Redis database no other worker listens to: a worker on the default queue would send the e-mails.
"""

import argparse
import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
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
from clients.models import Activity, Client  # noqa: E402
from config.celery import app  # noqa: E402
from contracts.billing.collections import BATCH_SIZE, PAUSE_VARIABLE, chased_invoices, follow_ups_due  # noqa: E402
from contracts.models import CollectionNotice, CollectionStep, Invoice, InvoiceEvent  # noqa: E402
from contracts.tasks import send_collection_follow_ups_task  # noqa: E402

BASE_DIR = Path(__file__).resolve().parent.parent
WALL_SECONDS, PEAK_MB = 30, 300
QUEUE = f"bench-collection-sweep-{os.getpid()}"
GENERATED_TAX_CODES = "999"  # bench/generate.py's clients
NOTICE_EMAIL_TASK = "contracts.tasks.send_collection_notice_email_task"
NOTIFICATION_EMAIL_TASK = "accounts.tasks.send_notification_email_task"
SUCCEEDED = re.compile(r"send_collection_follow_ups_task\[[\w-]+\] succeeded in (?P<seconds>[\d.]+)s: (?P<taken>\d+)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"clients per batch ({BATCH_SIZE})")
    parser.add_argument("--days", type=int, default=1, help="sweep this many days from today: the first day ever, "
                        "then ordinary days (only the levels reached that day)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep what the run created (notices, steps, logs)")
    options = parser.parse_args()
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        raise SystemExit("Set DATABASE_URL=postgres://... and REDIS_URL=redis://... (see the docstring).")

    today = timezone.localdate()
    generated = Client.objects.filter(tax_code__startswith=GENERATED_TAX_CODES)
    CollectionStep.objects.filter(invoice__client__in=generated).delete()
    CollectionNotice.objects.filter(client__in=generated).delete()
    first = {model: last_pk(model) + 1 for model in (Notification, CollectionNotice, CollectionStep, InvoiceEvent)}
    first[Activity] = last_pk(Activity) + 1
    print(
        f"database: {Invoice.objects.count()} invoices, {Invoice.objects.open().count()} open, "
        f"{chased_invoices(today).count()} due within 3 days or overdue and not on hold; "
        f"batch size {options.batch_size} clients"
    )

    with TemporaryDirectory() as scratch:
        log_path = Path(scratch) / "worker.log"
        worker = start_worker(log_path)
        try:
            baseline_kb = memory_kb(worker.pid)["VmRSS"]
            sampler = RssSampler(worker.pid)
            days = [
                sweep_one_day(worker, log_path, today + timedelta(days=n), options, n + 1) for n in range(options.days)
            ]
            sampler.stop()
            peak_kb = memory_kb(worker.pid)["VmHWM"]
        finally:
            stop(worker)

    queued = drop_queued_emails(first[CollectionNotice], first[Notification])
    notifications = Notification.objects.filter(pk__gte=first[Notification]).count()
    print(f"in all: {queued[NOTICE_EMAIL_TASK]} client e-mails queued, {notifications} notifications")
    first_day = days[0]
    note = f"task {first_day['task']:.1f} s, worker CPU {first_day['cpu']:.1f} s; load average {first_day['load']:.1f}"
    report("first day's sweep", first_day["wall"], WALL_SECONDS, "s", note)
    if len(days) > 1:
        slowest = max(days[1:], key=lambda day: day["wall"])
        report("slowest later day", slowest["wall"], WALL_SECONDS, "s", f"{slowest['day']}")
    report("worker peak RSS", peak_kb / 1024, PEAK_MB, "MB", f"at start {baseline_kb / 1024:.0f} MB")
    low, high = sampler.low / 1024, sampler.high / 1024
    print(f"worker RSS during the sweeps: {low:.0f}–{high:.0f} MB ({sampler.count} samples, every 0.5 s)")
    if not options.keep:
        clean_up(first)
    kept = "" if options.keep else ", and what the run created"
    print(f"cleaned up: {sum(queued.values())} queued e-mail tasks (not sent){kept}")


def sweep_one_day(worker: subprocess.Popen, log_path: Path, day: date, options, number: int) -> dict:
    """Run the sweep of ``day`` in the worker (its ``number``-th); print and return its figures."""
    due = follow_ups_due(day)
    follow_ups, clients = due.count(), due.values("client_id").distinct().count()
    first_notice = last_pk(CollectionNotice) + 1
    started, cpu_before = time.perf_counter(), cpu_seconds(worker.pid)
    kwargs = {"today": day.isoformat(), "batch_size": options.batch_size}
    send_collection_follow_ups_task.apply_async(kwargs=kwargs, queue=QUEUE)
    finished = wait_for_sweep(worker, log_path, number)
    wall, cpu = time.perf_counter() - started, cpu_seconds(worker.pid) - cpu_before
    notices = CollectionNotice.objects.filter(pk__gte=first_notice)
    print(
        f"{day}: {follow_ups} follow-ups due for {clients} clients; taken {finished['taken']} steps, "
        f"{notices.count()} notices ({notices.filter(level=4).count()} escalation only) in {wall:.1f} s "
        f"(worker CPU {cpu:.1f} s)"
    )
    return {"day": day, "wall": wall, "cpu": cpu, "task": float(finished["seconds"]), "load": os.getloadavg()[0]}


def last_pk(model) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def clean_up(first: dict) -> None:
    Notification.objects.filter(pk__gte=first[Notification]).delete()
    InvoiceEvent.objects.filter(pk__gte=first[InvoiceEvent], kind__in=("follow_up", "escalated")).delete()
    Activity.objects.filter(pk__gte=first[Activity], is_system=True).delete()
    CollectionStep.objects.filter(pk__gte=first[CollectionStep]).delete()
    CollectionNotice.objects.filter(pk__gte=first[CollectionNotice]).delete()


class RssSampler:
    """The worker's resident memory every half second while the sweep runs: flat means batches free their rows."""

    def __init__(self, pid: int):
        self.pid, self.low, self.high, self.count = pid, sys.maxsize, 0, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(0.5):
            rss = memory_kb(self.pid)["VmRSS"]
            self.low, self.high, self.count = min(self.low, rss), max(self.high, rss), self.count + 1

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        if not self.count:
            self.low = self.high = memory_kb(self.pid)["VmRSS"]


def start_worker(log_path: Path) -> subprocess.Popen:
    environment = {**os.environ, "EMAIL_URL": "memorymail://"}  # the locmem backend
    environment.pop(PAUSE_VARIABLE, None)
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


def wait_for_sweep(worker: subprocess.Popen, log_path: Path, number: int) -> dict:
    """The figures of the worker's ``number``-th finished sweep, once it has finished."""
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        text = log_path.read_text()
        finished = list(SUCCEEDED.finditer(text))
        if len(finished) >= number:
            return finished[number - 1].groupdict()
        if worker.poll() is not None or " raised " in text or "Traceback" in text:
            raise SystemExit(f"The sweep failed:\n{text[-4000:]}")
        time.sleep(0.05)
    raise SystemExit("The sweep did not finish within 30 minutes.")


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process, in kB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process (on a busy machine, a truer measure of the sweep than its wall)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def drop_queued_emails(first_notice: int, first_notification: int) -> dict[str, int]:
    """Take the e-mail tasks this run queued off the default queue (client e-mails of its notices, notification
    e-mails of its notifications), leaving others; how many of each."""
    broker = redis.Redis.from_url(settings.REDIS_URL)
    queue = app.conf.task_default_queue
    first = {NOTICE_EMAIL_TASK: first_notice, NOTIFICATION_EMAIL_TASK: first_notification}
    dropped = dict.fromkeys(first, 0)
    for raw in broker.lrange(queue, 0, -1):
        message = json.loads(raw)
        task = message.get("headers", {}).get("task")
        if task not in first:
            continue
        args = json.loads(base64.b64decode(message["body"]))[0]
        if args and args[0] >= first[task]:
            dropped[task] += broker.lrem(queue, 1, raw)
    broker.delete(QUEUE, f"_kombu.binding.{QUEUE}", f"_kombu.binding_permanent.{QUEUE}")
    return dropped


def report(label: str, value: float, target: float, unit: str, note: str) -> None:
    results.report_sweep("collection sweep", label, value, target, unit, note)


if __name__ == "__main__":
    main()
