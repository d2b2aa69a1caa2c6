"""Views every app shares: the load balancer's health check and the styled error pages."""

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponsePermanentRedirect, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from core import mail
from core.api import error_body


def _database_status() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "down" for a load balancer
        return {"status": "error", "detail": exc.__class__.__name__}
    return {"status": "ok", "vendor": connection.vendor}


def _broker_status() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"status": "ok", "mode": "in-process"}
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        return {"status": "error", "mode": "redis", "detail": exc.__class__.__name__}
    return {"status": "ok", "mode": "redis"}


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers and the admin ask for /favicon.ico; the icon is a static SVG."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer, 503 otherwise; the body says which failed, and how many
    e-mails wait for the mail server (``queued``) or failed for good (``failed``, listed in the admin)."""
    checks = {"database": _database_status(), "broker": _broker_status()}
    healthy = all(check["status"] == "ok" for check in checks.values())
    body = {"status": "ok" if healthy else "error", "checks": checks}
    if checks["database"]["status"] == "ok":
        # Reported, never a reason for 503: a failed e-mail waits in the admin for someone to look at it.
        body["mail"] = mail.queue_counts()
    return JsonResponse(body, status=200 if healthy else 503)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("bad_request", _("The request could not be understood.")), status=400)
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("permission_denied", _("You are not allowed to do this.")), status=403)
    return render(request, "403.html", status=403)


def page_not_found(request: HttpRequest, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest):
    if _is_api(request):
        return JsonResponse(error_body("server_error", _("Something went wrong on our side.")), status=500)
    # Rendered without the request: the failure may lie in a context processor or the session.
    return HttpResponseServerError(loader.get_template("500.html").render())
