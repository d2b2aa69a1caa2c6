"""Idempotent POSTs for the API: a client sends ``Idempotency-Key: <unique string>`` and may retry safely.

How it holds (``IdempotencyMiddleware``, for POSTs under /api/ that carry the header):

1. The caller is authenticated the way the view will do it (the view's own authentication classes); keys are
   per user. An anonymous or refused request goes on untouched and gets its 401/403 from the view.
2. In one transaction: a row (user, key) is inserted, the view runs, and its answer (status, body, a few
   headers) is stored in the row. The creation and the stored answer commit together or not at all.
3. A retry finds the row (the insert hits the unique constraint) and gets the stored answer again with
   ``Idempotent-Replayed: true``. A concurrent twin's insert waits on the unique index until the first
   transaction ends, then replays its answer; so two identical requests create exactly one record, and the
   second *waits* rather than failing. (Should the first roll back, the twin goes ahead and handles the request.)
4. The same key with another method, path or body is 422 ``idempotency_key_reused``; nothing runs. (409
   ``idempotency_in_progress`` exists only for a key that could not be claimed after three tries, e.g. twins
   racing on an expired row.)
5. A 5xx, 401 or 429 answer is not stored and its transaction is rolled back, so the retry runs afresh.
   Keys live 24 hours (``prune_idempotency_keys_task`` deletes older ones).
"""

import hashlib
import re
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.views import APIView

from core.api import error_body
from core.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_LIFETIME = timedelta(hours=24)
API_PREFIX = "/api/"
STORED_HEADERS = ("Content-Type", "Content-Language", "Location")
NOT_STORED_STATUSES = frozenset({401, 429})
VALID_KEY = re.compile(r"[\x20-\x7e]{1,255}")
_MISSING = object()


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        key = key.strip()
        if not VALID_KEY.fullmatch(key):
            message = _("The Idempotency-Key header must be 1 to 255 printable ASCII characters.")
            return JsonResponse(error_body("invalid_idempotency_key", message), status=400)
        # Before authenticating: a session's CSRF check parses the body, after which it could no longer be read.
        fingerprint = _fingerprint(request)
        user = _api_user(request)
        if user is None:
            return self.get_response(request)
        return self._handle_once(request, user=user, key=key, fingerprint=fingerprint)

    def _handle_once(self, request: HttpRequest, *, user, key: str, fingerprint: str) -> HttpResponse:
        with transaction.atomic():
            row = _claim(user=user, key=key, method=request.method, path=request.path, fingerprint=fingerprint)
            if row is None or row.response_status is not None or row.fingerprint != fingerprint:
                return _answer_from(row, fingerprint)
            response = self.get_response(request)
            _store(row, response)
        return response


def _api_user(request: HttpRequest):
    """The user the API view will see, found with the view's own authentication and parser classes (the session's
    CSRF check reads the body); None: anonymous or refused. The Django request is left as it was: DRF's Request
    writes the user it found (AnonymousUser after a refusal) onto it, which would hide the session from the view."""
    try:
        view_class = getattr(resolve(request.path_info).func, "cls", None)
    except Resolver404:
        return None
    if view_class is None or not issubclass(view_class, APIView):
        return None
    drf_request = Request(
        request,
        parsers=[parser() for parser in view_class.parser_classes],
        authenticators=[auth() for auth in view_class.authentication_classes],
    )
    session_user = vars(request).get("user", _MISSING)
    try:
        user = drf_request.user
    except APIException:
        return None
    finally:
        if session_user is _MISSING:
            vars(request).pop("user", None)
        else:
            request.user = session_user
    return user if user.is_authenticated else None


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method}\n{request.get_full_path()}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def _claim(*, user, key: str, method: str, path: str, fingerprint: str) -> IdempotencyKey | None:
    """This request's new row, or the live row an earlier request with the key left (waiting for a concurrent
    one to finish). An expired row is deleted and the key claimed afresh. None if the key could not be claimed
    (rows of concurrent twins kept appearing and disappearing): the caller answers 409."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    user=user, key=key, method=method, path=path[:500], fingerprint=fingerprint
                )
        except IntegrityError:
            row = IdempotencyKey.objects.filter(user=user, key=key).first()
            if row is not None and row.created_at >= timezone.now() - KEY_LIFETIME:
                return row
            if row is not None:
                row.delete()
    return None


def _answer_from(row: IdempotencyKey | None, fingerprint: str) -> HttpResponse:
    if row is not None and row.fingerprint != fingerprint:
        message = _("This Idempotency-Key was already used for another request. Use a new key for a new request.")
        return JsonResponse(error_body("idempotency_key_reused", message), status=422)
    if row is None or row.response_status is None:
        message = _("A request with this Idempotency-Key is still being handled. Retry in a moment.")
        return JsonResponse(error_body("idempotency_in_progress", message), status=409)
    response = HttpResponse(bytes(row.response_body), status=row.response_status)
    for name, value in row.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _store(row: IdempotencyKey, response: HttpResponse) -> None:
    """Keep the answer for the retries; an error the retry should not inherit rolls everything back instead."""
    if response.status_code >= 500 or response.status_code in NOT_STORED_STATUSES:
        transaction.set_rollback(True)
        return
    if response.streaming:  # a file download: the work stands, but there is no body to replay
        row.delete()
        return
    row.response_status = response.status_code
    row.response_body = response.content
    row.response_headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
    row.save(update_fields=["response_status", "response_body", "response_headers"])
