"""Dashboards read from a PostgreSQL read replica when one is configured (``DATABASE_REPLICA_URL``).

The KPI dashboards, their drill-downs and exports and the metrics endpoint are the heaviest reads and the only
ones that can stand a replica's lag of a second or two: their views run under ``reads_from_replica``, and the
router sends their reads to the ``replica`` database alias. Every write, and every read outside those views
(lists, forms, the API's records), goes to ``default``, so nobody reads back a stale copy of what they just saved.
Without ``DATABASE_REPLICA_URL`` there is no ``replica`` alias and everything uses ``default``.
"""

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings

REPLICA = "replica"
_reading_from_replica: ContextVar[bool] = ContextVar("reading_from_replica", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def replica_reads():
    """Within this block, reads go to the replica (when there is one)."""
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


def reads_from_replica(view: Callable) -> Callable:
    """A view (function, or a class-based view's method) whose reads the replica may serve."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        with replica_reads():
            return view(*args, **kwargs)

    return wrapped


class ReplicaRouter:
    """Reads under ``replica_reads`` go to the replica; everything else, and every write, to ``default``."""

    def db_for_read(self, model, **hints):
        if _reading_from_replica.get() and replica_configured():
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the replica follows the primary's WAL, migrations included
