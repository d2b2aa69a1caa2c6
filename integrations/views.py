"""The Webhooks pages under Settings (administrators only): endpoints, their secret, test events and the log."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import Role
from accounts.permissions import role_required
from core.errors import DomainError
from core.forms import add_domain_error
from integrations import selectors, services
from integrations.forms import EndpointForm
from integrations.models import DeliveryStatus, WebhookEndpoint

ENDPOINTS_PER_PAGE = 25
DELIVERIES_PER_PAGE = 30


def admin_page(view):
    return login_required(role_required(Role.ADMIN)(view))


def _back(request: HttpRequest, to: str, **kwargs) -> HttpResponse:
    """Back to a page after a POST: a full redirect, or htmx's client-side one when htmx posted the form."""
    response = redirect(to, **kwargs)
    return HttpResponseClientRedirect(response.url) if request.htmx else response


@admin_page
def endpoint_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.endpoint_list(), ENDPOINTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "integrations/endpoint_list.html", {"page": page})


@admin_page
def endpoint_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk) if pk else None
    initial = (
        {
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
            "is_active": endpoint.is_active,
        }
        if endpoint
        else None
    )
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if endpoint:
                endpoint = services.endpoint_update(endpoint=endpoint, actor=request.user, **form.cleaned_data)
            else:
                endpoint = services.endpoint_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error if error.fields else DomainError(error.message, fields={"url": []}))
        else:
            messages.success(request, _("Webhook endpoint saved."))
            return redirect("integrations:endpoint", pk=endpoint.pk)
    return render(request, "integrations/endpoint_form.html", {"form": form, "endpoint": endpoint})


@admin_page
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint.objects.select_related("created_by"), pk=pk)
    status = request.GET.get("status", "")
    deliveries = selectors.delivery_log(endpoint=endpoint, status=status)
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "endpoint": endpoint,
        "page": page,
        "status": status,
        "statuses": DeliveryStatus.choices,
        "query": f"status={status}" if status else "",
        "now": timezone.now(),
    }
    template = "integrations/_delivery_log.html" if request.htmx else "integrations/endpoint_detail.html"
    return render(request, template, context)


@admin_page
@require_POST
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
    messages.success(request, _("New secret made. The previous one keeps signing for 24 hours as a second v1."))
    return _back(request, "integrations:endpoint", pk=pk)


@admin_page
@require_POST
def endpoint_ping(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    try:
        services.endpoint_ping(endpoint=endpoint, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Test event queued. Its delivery appears in the log below."))
    return _back(request, "integrations:endpoint", pk=pk)


@admin_page
@require_POST
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.endpoint_delete(endpoint=endpoint, actor=request.user)
    messages.success(request, _("Webhook endpoint %(url)s deleted.") % {"url": endpoint.url})
    return _back(request, "integrations:endpoints")


@admin_page
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(selectors.delivery_detail(), pk=pk)
    return render(
        request,
        "integrations/delivery_detail.html",
        {"delivery": delivery, "body": json.dumps(delivery.event.payload(), indent=2, ensure_ascii=False)},
    )


@admin_page
@require_POST
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(selectors.delivery_detail(), pk=pk)
    try:
        services.delivery_redeliver(delivery=delivery, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Redelivery queued: a new delivery of the same event."))
    return _back(request, "integrations:endpoint", pk=delivery.endpoint_id)
