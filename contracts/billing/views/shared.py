"""What the billing pages share: visibility, query strings, where to go back to, and how a refusal is shown."""

from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.models import Role
from accounts.permissions import has_role
from contracts.billing import selectors
from contracts.models import Invoice
from core.errors import ConflictError, DomainError, PermissionDeniedError
from core.forms import add_domain_error

# Who works the collections board and sees the agency's receivables at a glance.
COLLECTORS = (Role.FINANCE, Role.DIRECTOR, Role.ADMIN)


def is_collector(user) -> bool:
    return has_role(user, *COLLECTORS)


def visible_invoice_or_404(user, pk: int) -> Invoice:
    """The invoice if the user may see it; 404 otherwise, so its existence does not leak."""
    return get_object_or_404(selectors.invoice_detail(user=user), pk=pk)


def querystring(request: HttpRequest, *drop: str) -> str:
    params = request.GET.copy()
    for name in drop:
        params.pop(name, None)
    return params.urlencode()


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def refusal_status(error: DomainError | ValidationError) -> int:
    """409 when someone else changed the invoice first, 403 for a role that may not, 400 for the rest."""
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, PermissionDeniedError):
        return 403
    return 400


def show_refusal(form: Form, error: DomainError | ValidationError) -> None:
    """The service's words on the fields it names, and its sentence at the top when no field shows it."""
    add_domain_error(form, error)
    shown = [str(message) for messages in form.errors.values() for message in messages]
    if isinstance(error, DomainError) and error.message not in shown:
        form.add_error(None, error.message)
