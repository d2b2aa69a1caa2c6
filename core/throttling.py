"""The API's rate limits: per API token (or signed-in user) and per client address (REST_FRAMEWORK settings).

A module of its own: DRF's APIView imports these classes when it is defined, so they may not live in a module that
imports DRF's views (core/api.py does).
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _SettingsRateThrottle(SimpleRateThrottle):
    """Rates come from ``settings.ACCORD_API_THROTTLE_RATES``, read per request (tests and deployments set them)."""

    def get_rate(self) -> str | None:
        return settings.ACCORD_API_THROTTLE_RATES.get(self.scope)


class TokenRateThrottle(_SettingsRateThrottle):
    """Requests per API token; a session (or a test's forced user) counts per user instead."""

    scope = "token"

    def get_cache_key(self, request, view) -> str | None:
        token_id = getattr(request.auth, "pk", None)
        if token_id is not None:
            ident = f"token-{token_id}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class IpRateThrottle(_SettingsRateThrottle):
    """Requests per client address, whoever is signed in (``NUM_PROXIES`` says which X-Forwarded-For to trust)."""

    scope = "ip"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
