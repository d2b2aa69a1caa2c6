"""Brute-force guards: django-axes' username for sign-in lockout, the password-reset rate limit, and idle sign-out."""

import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib import auth, messages
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
# Session keys: when the user signed in and when they were last seen (epoch seconds).
SIGNED_IN_AT = "accord_signed_in_at"
LAST_SEEN_AT = "accord_last_seen_at"


def lockout_username(request, credentials: dict | None) -> str | None:
    """The e-mail a sign-in attempt was for, lower-cased, so 'Ha@…' and 'ha@…' count as one account."""
    username = (credentials or {}).get("username") or (credentials or {}).get("email")
    if not username and request is not None:
        username = getattr(request, "data", request.POST).get("username")
    return username.strip().lower() if username else None


def client_address(request: HttpRequest) -> str:
    """The client's address, trusting as many X-Forwarded-For entries as ``NUM_PROXIES`` says (as the API does)."""
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and proxies > 0:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR", "")


def parse_rate(rate: str) -> tuple[int, int]:
    """``"5/hour"`` → (5, 3600): requests allowed and the window's length in seconds."""
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()]


@dataclass(frozen=True)
class RateLimited:
    limit: str  # "email" or "ip": which limit was reached
    retry_after: int  # seconds until the window ends


def password_reset_limit(request: HttpRequest, email: str) -> RateLimited | None:
    """Count a password-reset request per e-mail address and per client address; the limit it exceeds, if any.

    Fixed windows in the cache (``CACHE_URL``; Redis when several web processes run). Every request counts,
    for an address with an account or without one, so the answer says nothing about which addresses exist.
    """
    now = int(time.time())
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    for limit, ident in (("email", address), ("ip", client_address(request))):
        allowed, window = parse_rate(settings.ACCORD_PASSWORD_RESET_RATES[limit])
        key = f"accord:password-reset:{limit}:{ident}:{now // window}"
        cache.add(key, 0, timeout=window)
        if cache.incr(key) > allowed:
            logger.warning(
                "Password reset refused: more than %s for this %s (client %s)",
                settings.ACCORD_PASSWORD_RESET_RATES[limit],
                "e-mail address" if limit == "email" else "client address",
                client_address(request),
            )
            return RateLimited(limit=limit, retry_after=window - now % window)
    return None


# --- Session expiry --------------------------------------------------------------------------------------------


def stamp_session(sender, request: HttpRequest, user, **kwargs) -> None:
    """On sign-in (user_logged_in): the sign-in time and the first activity, saved with the new session."""
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SIGNED_IN_AT] = request.session[LAST_SEEN_AT] = now


class SessionExpiryMiddleware:
    """Sign out a session idle for ``SESSION_IDLE_TIMEOUT`` seconds, or signed in for ``SESSION_COOKIE_AGE``.

    The last activity is written at most once per ``SESSION_ACTIVITY_RESOLUTION`` seconds, not on every request
    (``SESSION_SAVE_EVERY_REQUEST`` would write the session row on each page and API call): the idle timeout is
    exact to that resolution. Requests without a signed-in session (API tokens, anonymous) cost nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.COOKIES.get(settings.SESSION_COOKIE_NAME) and auth.SESSION_KEY in request.session:
            self._check(request)
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> None:
        session, now = request.session, int(time.time())
        signed_in, last_seen = session.get(SIGNED_IN_AT), session.get(LAST_SEEN_AT)
        if signed_in is None or last_seen is None:  # a session from before this check: start counting now
            session[SIGNED_IN_AT], session[LAST_SEEN_AT] = signed_in or now, now
            return
        idle = now - last_seen > settings.SESSION_IDLE_TIMEOUT
        if idle or now - signed_in > settings.SESSION_COOKIE_AGE:
            auth.logout(request)
            text = _("You were signed out after %(minutes)d minutes without activity. Sign in again.") % {
                "minutes": settings.SESSION_IDLE_TIMEOUT // 60
            }
            messages.info(request, text if idle else _("Your sign-in has expired. Sign in again."))
        elif now - last_seen >= settings.SESSION_ACTIVITY_RESOLUTION:
            session[LAST_SEEN_AT] = now
