"""Reading the data's revisions once for a page that only reads.

Cached figures are keyed by a revision read from the database (``kpis.cache``, ``contracts.billing.cache``): one
small query, asked again by every panel that keeps a figure. A page made of several panels that changes nothing
(the home page) wraps them in ``read_once()``; inside, ``remembered(key, read)`` reads once and hands the same
answer to every later caller. Nothing is remembered outside the block, so a request that writes and then reads
always sees its own change.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")
_remembered: ContextVar[dict | None] = ContextVar("accord_read_once", default=None)


@contextmanager
def read_once() -> Iterator[None]:
    if _remembered.get() is not None:  # within an outer block: what it read stays remembered
        yield
        return
    token = _remembered.set({})
    try:
        yield
    finally:
        _remembered.reset(token)


def remembered(key: str, read: Callable[[], T]) -> T | None:
    """Inside ``read_once()``: ``read()`` the first time, the same answer after. Outside: None (read it yourself)."""
    memo = _remembered.get()
    if memo is None:
        return None
    if key not in memo:
        memo[key] = read()
    return memo[key]
