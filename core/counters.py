"""Change counters in the cache: a number that moves whenever something a cached figure depends on changes in a
way its own rows cannot show (a deletion, a change stamped out of order). Part of the cached figures' keys."""

from django.core.cache import cache


def bump(key: str) -> None:
    """Move the counter ``key`` (kept without expiry; starts at 1)."""
    if not cache.add(key, 1, timeout=None):
        try:
            cache.incr(key)
        except ValueError:  # evicted between the two calls
            cache.set(key, 1, timeout=None)
