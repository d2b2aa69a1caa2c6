"""Pages for clients, contacts, partners, the timeline, requests and hand-overs."""

import csv
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.permissions import has_role, is_director
from clients import selectors, services
from clients.filters import RequestFilter, client_filter_for
from clients.forms import (
    ActivityForm,
    ClientCreateForm,
    ClientForm,
    ContactForm,
    HandoverForm,
    HandoverStatusForm,
    PartnerForm,
    ReassignForm,
    RelationshipForm,
    RequestEditForm,
    RequestForm,
    RequestTransitionForm,
)
from clients.health import health_factors
from clients.models import (
    Activity,
    Client,
    Department,
    Partner,
    PartnerRelationship,
    RequestStatus,
)
from core.errors import DomainError
from core.forms import add_domain_error
from core.history import history_page, parse_cursor
from core.pagination import SlimPaginator

PAGE_SIZE = 25
TABS = ("overview", "contacts", "partners", "timeline", "requests", "history")
CSV_COLUMNS = [
    ("name", gettext_lazy("Name")),
    ("legal_name", gettext_lazy("Legal name")),
    ("tax_code", gettext_lazy("Tax code")),
    ("industry", gettext_lazy("Industry")),
    ("tier", gettext_lazy("Tier")),
    ("status", gettext_lazy("Status")),
    ("owner", gettext_lazy("Owner")),
    ("team", gettext_lazy("Team")),
    ("health_score", gettext_lazy("Health")),
    ("open_requests", gettext_lazy("Open requests")),
    ("last_activity_at", gettext_lazy("Last activity")),
    ("city", gettext_lazy("City")),
    ("website", gettext_lazy("Website")),
]


def _querystring(request: HttpRequest, drop: str = "page") -> str:
    params = request.GET.copy()
    params.pop(drop, None)
    return params.urlencode()


def _detailed_client_or_404(user, pk: int) -> Client:
    return get_object_or_404(selectors.client_detail(user=user), pk=pk)


def _editable_client_or_404(user, pk: int) -> Client:
    """404 if the user may not see the client, 403 if they see it but may not change it."""
    client = _detailed_client_or_404(user, pk)
    if not selectors.can_edit_client(user=user, client=client):
        raise PermissionDenied
    return client


# --- Client list, export, create, edit ---------------------------------------------------------------------


def _filtered_clients(request: HttpRequest):
    """The list page's and the export's filter set and rows: one query shape, so both always agree."""
    filterset = client_filter_for(request.user)(
        request.GET, queryset=selectors.client_list(user=request.user), request=request
    )
    return filterset, (filterset.qs if filterset.is_valid() else filterset.queryset.none())


@login_required
def client_list(request: HttpRequest) -> HttpResponse:
    """Search, filter, sort and page through the clients the user may see."""
    filterset, clients = _filtered_clients(request)
    ordered_ids = None
    if filterset.is_valid():
        user, filters = request.user, sorted((key, value) for key, value in request.GET.lists() if key != "page")
        parts = (user.pk, user.role, user.team_id, repr(filters))
        ordered_ids = partial(selectors.client_order_kept, clients, parts)
    page = SlimPaginator(clients, PAGE_SIZE, ordered_ids=ordered_ids).get_page(request.GET.get("page"))
    context = {
        "filter": filterset,
        "page": page,
        "query": _querystring(request),
        "export_query": _querystring(request),
        "limited": has_role(request.user, "sales"),
        "detailed_ids": set(
            Client.objects.detailed_for(request.user)
            .filter(pk__in=[client.pk for client in page.object_list])
            .values_list("pk", flat=True)
        ),
        "can_create": has_role(request.user, "account_manager", "sales", "director", "admin"),
    }
    template = "clients/_client_rows.html" if request.htmx and request.htmx.target == "client-results" else None
    return render(request, template or "clients/client_list.html", context)


def _cell(value) -> str:
    """A CSV cell that Excel will not run as a formula (a name like '=HYPERLINK(...)' stays text)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value):
        return value


@login_required
def client_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV (UTF-8 with a BOM so Excel reads Vietnamese), streamed in batches."""
    _filterset, clients = _filtered_clients(request)
    limited = has_role(request.user, "sales")
    columns = [column for column in CSV_COLUMNS if not limited or column[0] in ("name", "owner")]
    writer = csv.writer(_Echo())

    def rows():
        yield "\ufeff" + writer.writerow([str(label) for _key, label in columns])
        for client in clients.iterator(chunk_size=2000):
            values = {
                "owner": client.owner.full_name,
                "team": client.team.name if client.team else "",
                "industry": client.get_industry_display(),
                "status": client.get_status_display(),
                "last_activity_at": timezone.localtime(client.last_activity_at).strftime("%Y-%m-%d %H:%M")
                if client.last_activity_at
                else "",
            }
            yield writer.writerow([_cell(values.get(key, getattr(client, key, ""))) for key, _label in columns])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="accord-clients-{stamp}.csv"'
    return response


@login_required
def client_create(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, "account_manager", "sales", "director", "admin"):
        raise PermissionDenied
    form = ClientCreateForm(request.POST or None)
    if not is_director(request.user):
        del form.fields["owner"]
    if request.method == "POST" and form.is_valid():
        data = {key: value for key, value in form.cleaned_data.items() if key not in ("version", "tags", "owner")}
        try:
            client = services.client_create(
                actor=request.user,
                owner=form.cleaned_data.get("owner"),
                tags=form.cleaned_data["tags"],
                **data,
            )
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Client %(name)s created.") % {"name": client.name})
            return redirect("clients:detail", pk=client.pk)
    return render(request, "clients/client_form.html", {"form": form})


@login_required
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client = _editable_client_or_404(request.user, pk)
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "POST" and form.is_valid():
        data = {key: value for key, value in form.cleaned_data.items() if key not in ("version", "tags")}
        try:
            services.client_update(
                client=client,
                actor=request.user,
                expected_version=form.cleaned_data["version"],
                tags=form.cleaned_data["tags"],
                **data,
            )
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("clients:detail", pk=client.pk)
    return render(request, "clients/client_form.html", {"form": form, "client": client})


@login_required
def client_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    if not is_director(request.user):
        raise PermissionDenied
    client = _detailed_client_or_404(request.user, pk)
    form = ReassignForm(request.POST or None, initial={"to_owner": client.owner})
    if request.method == "POST" and form.is_valid():
        try:
            record = services.client_reassign(
                client=client,
                to_owner=form.cleaned_data["to_owner"],
                actor=request.user,
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "%(client)s now belongs to %(owner)s. "
                    "Moved with it: open next steps %(steps)d, open requests %(requests)d."
                )
                % {
                    "client": client.name,
                    "owner": record.to_owner.full_name,
                    "steps": record.moved_next_steps,
                    "requests": record.moved_requests,
                },
            )
            return redirect("clients:detail", pk=client.pk)
    return render(request, "clients/reassign.html", {"form": form, "client": client})


# --- Client page with tabs ---------------------------------------------------------------------------------


@login_required
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client = _detailed_client_or_404(request.user, pk)
    tab = request.GET.get("tab", "overview")
    tab = tab if tab in TABS else "overview"
    context = {
        "client": client,
        "tab": tab,
        "can_edit": selectors.can_edit_client(user=request.user, client=client),
        "can_reassign": is_director(request.user),
        **_tab_context(request, client, tab),
    }
    if request.htmx and request.htmx.target == "client-tabs":
        return render(request, "clients/_tabs.html", context)
    return render(request, "clients/client_detail.html", context)


def _history_context(request: HttpRequest, client: Client) -> dict:
    """The History tab: the client's and its contacts' changes, newest first, a page at a time."""
    try:
        before = parse_cursor(request.GET.get("before"))
    except ValueError:
        raise Http404 from None
    history = history_page(sources=selectors.client_history_sources(client=client), before=before)
    older_url = f"{client.get_absolute_url()}?tab=history&before={history.older}" if history.older else ""
    return {"history": history, "older_url": older_url, "history_target": "client-tabs"}


def _tab_context(request: HttpRequest, client: Client, tab: str) -> dict:
    now = timezone.now()
    if tab == "overview":
        return {
            "factors": health_factors(client, now),
            "open_requests_list": selectors.request_list(user=request.user)
            .filter(client=client)
            .open()
            .order_by("sla_due_at")[:10],
            "next_steps": selectors.timeline(client=client).open_next_steps().order_by("next_step_due")[:10],
            "contacts_preview": client.contacts.all()[:4],
            "reassignments": client.reassignments.select_related("from_owner", "to_owner")[:3],
            "today": timezone.localdate(now),
        }
    if tab == "contacts":
        return {"contacts": client.contacts.all(), "contact_form": ContactForm()}
    if tab == "partners":
        return {
            "relationships": client.partner_relationships.select_related("partner"),
            "relationship_form": RelationshipForm(),
        }
    if tab == "history":
        return _history_context(request, client)
    if tab == "timeline":
        page = Paginator(selectors.timeline(client=client), PAGE_SIZE).get_page(request.GET.get("page"))
        return {"page": page, "activity_form": ActivityForm(client=client), "query": "tab=timeline"}
    requests = selectors.request_list(user=request.user).filter(client=client).order_by("-received_at")
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "page": page,
        "requests": page.object_list,
        "query": "tab=requests",
        "request_form": RequestForm(client=client),
        "now": now,
    }


def _tab_redirect(client: Client, tab: str) -> HttpResponse:
    return redirect(f"{client.get_absolute_url()}?tab={tab}")


def _render_tab_with_form(request, client, tab, **forms) -> HttpResponse:
    context = {
        "client": client,
        "tab": tab,
        "can_edit": True,
        "can_reassign": is_director(request.user),
        **_tab_context(request, client, tab),
        **forms,
    }
    return render(request, "clients/client_detail.html", context, status=400)


# --- Contacts ----------------------------------------------------------------------------------------------


@login_required
@require_POST
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = _editable_client_or_404(request.user, pk)
    form = ContactForm(request.POST)
    if form.is_valid():
        data = {key: value for key, value in form.cleaned_data.items() if key != "version"}
        try:
            contact = services.contact_create(client=client, actor=request.user, **data)
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("%(name)s added to the contacts.") % {"name": contact.full_name})
            return _tab_redirect(client, "contacts")
    return _render_tab_with_form(request, client, "contacts", contact_form=form, show_contact_form=True)


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(selectors.contact_list(user=request.user), pk=pk)
    client = _editable_client_or_404(request.user, contact.client_id)
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        data = {key: value for key, value in form.cleaned_data.items() if key != "version"}
        try:
            services.contact_update(
                contact=contact, actor=request.user, expected_version=form.cleaned_data["version"], **data
            )
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return _tab_redirect(client, "contacts")
    return render(request, "clients/contact_form.html", {"form": form, "contact": contact, "client": client})


@login_required
@require_POST
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(selectors.contact_list(user=request.user), pk=pk)
    client = _editable_client_or_404(request.user, contact.client_id)
    services.contact_delete(contact=contact, actor=request.user)
    messages.success(request, _("%(name)s removed from the contacts.") % {"name": contact.full_name})
    return _tab_redirect(client, "contacts")


# --- Partners ----------------------------------------------------------------------------------------------


@login_required
def partner_list(request: HttpRequest) -> HttpResponse:
    partners = selectors.partner_list(user=request.user).order_by("name")
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    if query:
        partners = partners.filter(selectors.words_filter(query))
    if kind:
        partners = partners.filter(kind=kind)
    page = Paginator(partners, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "clients/partner_list.html",
        {
            "page": page,
            "q": query,
            "kind": kind,
            "kinds": Partner._meta.get_field("kind").choices,
            "query": _querystring(request),
            "can_create": has_role(request.user, "account_manager", "director", "admin"),
        },
    )


@login_required
def partner_detail(request: HttpRequest, pk: int) -> HttpResponse:
    partner = get_object_or_404(selectors.partner_list(user=request.user), pk=pk)
    relationships = selectors.partner_relationships(user=request.user).filter(partner=partner).order_by("client__name")
    return render(
        request,
        "clients/partner_detail.html",
        {
            "partner": partner,
            "relationships": relationships,
            "can_edit": has_role(request.user, "account_manager", "director", "admin"),
        },
    )


@login_required
def partner_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    if not has_role(request.user, "account_manager", "director", "admin"):
        raise PermissionDenied
    partner = get_object_or_404(Partner.objects.visible_to(request.user), pk=pk) if pk else None
    form = PartnerForm(request.POST or None, instance=partner)
    if request.method == "POST" and form.is_valid():
        try:
            if partner:
                partner = services.partner_update(partner=partner, actor=request.user, **form.cleaned_data)
            else:
                partner = services.partner_create(actor=request.user, **form.cleaned_data)
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Partner %(name)s saved.") % {"name": partner.name})
            return redirect("clients:partner", pk=partner.pk)
    return render(request, "clients/partner_form.html", {"form": form, "partner": partner})


@login_required
@require_POST
def relationship_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = _editable_client_or_404(request.user, pk)
    form = RelationshipForm(request.POST)
    if form.is_valid():
        data = {key: value for key, value in form.cleaned_data.items() if key != "partner"}
        try:
            services.partner_relationship_create(
                client=client, partner=form.cleaned_data["partner"], actor=request.user, **data
            )
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Partner linked."))
            return _tab_redirect(client, "partners")
    return _render_tab_with_form(request, client, "partners", relationship_form=form, show_relationship_form=True)


@login_required
@require_POST
def relationship_delete(request: HttpRequest, pk: int) -> HttpResponse:
    relationship = get_object_or_404(PartnerRelationship.objects.visible_to(request.user), pk=pk)
    client = _editable_client_or_404(request.user, relationship.client_id)
    services.partner_relationship_delete(relationship=relationship, actor=request.user)
    messages.success(request, _("Partner unlinked."))
    return _tab_redirect(client, "partners")


# --- Timeline ----------------------------------------------------------------------------------------------


@login_required
@require_POST
def activity_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = _editable_client_or_404(request.user, pk)
    form = ActivityForm(request.POST, client=client)
    if form.is_valid():
        try:
            services.activity_log(client=client, actor=request.user, **form.cleaned_data)
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Added to the timeline."))
            return _tab_redirect(client, "timeline")
    return _render_tab_with_form(request, client, "timeline", activity_form=form)


@login_required
@require_POST
def next_step_done(request: HttpRequest, pk: int) -> HttpResponse:
    activity = get_object_or_404(
        Activity.objects.filter(pk__in=Activity.objects.visible_to(request.user).values("pk"))
        | Activity.objects.filter(next_step_owner=request.user),
        pk=pk,
    )
    try:
        services.next_step_complete(activity=activity, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if request.htmx:
            return render(request, "clients/_next_step_done.html", {"activity": activity})
        messages.success(request, _("Next step done."))
    return redirect(_safe_next(request) or "home")


# --- Requests and hand-overs -------------------------------------------------------------------------------


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    """Every request the user may see, breaches first when asked; the SLA badge on each row."""
    data = request.GET.copy()
    data.setdefault("state", "open")
    filterset = RequestFilter(data, queryset=selectors.request_list(user=request.user).order_by("sla_due_at"))
    requests = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    breached_count = selectors.request_list(user=request.user).breached().open().count()
    return render(
        request,
        "clients/request_list.html",
        {"filter": filterset, "page": page, "query": _querystring(request), "breached_count": breached_count},
    )


@login_required
@require_POST
def request_create(request: HttpRequest, pk: int) -> HttpResponse:
    client = _editable_client_or_404(request.user, pk)
    form = RequestForm(request.POST, client=client)
    if form.is_valid():
        try:
            created = services.request_create(client=client, actor=request.user, **form.cleaned_data)
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Request recorded. SLA due %(due)s.") % {"due": _local(created.sla_due_at)})
            return redirect("clients:request", pk=created.pk)
    return _render_tab_with_form(request, client, "requests", request_form=form, show_request_form=True)


def _safe_next(request: HttpRequest) -> str | None:
    """The POSTed 'next' page if it is on this site; never an outside redirect."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return None


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client_request = get_object_or_404(selectors.request_detail(user=request.user), pk=pk)
    can_edit = selectors.can_edit_client(user=request.user, client=client_request.client)
    # Someone who sees this request only because it was handed to them gets their hand-over, not the account.
    assignee_only = not Client.objects.detailed_for(request.user).filter(pk=client_request.client_id).exists()
    handovers = [
        handover
        for handover in client_request.handovers.all()
        if not assignee_only or handover.assignee_id == request.user.pk
    ]
    return render(
        request,
        "clients/request_detail.html",
        {
            "item": client_request,
            "handovers": handovers,
            "assignee_only": assignee_only,
            "can_edit": can_edit,
            "moves": sorted(services.REQUEST_MOVES[client_request.status], key=RequestStatus.values.index)
            if can_edit
            else [],
            "status_labels": dict(RequestStatus.choices),
            "handover_form": HandoverForm(
                initial={
                    "due_date": timezone.localdate() + timezone.timedelta(days=3),
                    "brief": client_request.description,
                }
            ),
            "departments": Department.objects.filter(is_active=True),
            "now": timezone.now(),
        },
    )


@login_required
def request_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client_request = get_object_or_404(selectors.request_detail(user=request.user), pk=pk)
    if not selectors.can_edit_client(user=request.user, client=client_request.client):
        raise PermissionDenied
    form = RequestEditForm(request.POST or None, instance=client_request)
    if request.method == "POST" and form.is_valid():
        data = {key: value for key, value in form.cleaned_data.items() if key != "version"}
        try:
            services.request_update(
                request=client_request, actor=request.user, expected_version=form.cleaned_data["version"], **data
            )
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("clients:request", pk=client_request.pk)
    return render(request, "clients/request_form.html", {"form": form, "item": client_request})


@login_required
@require_POST
def request_transition(request: HttpRequest, pk: int) -> HttpResponse:
    client_request = get_object_or_404(selectors.request_detail(user=request.user), pk=pk)
    form = RequestTransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status to move the request to."))
    else:
        try:
            services.request_transition(
                request=client_request,
                to=form.cleaned_data["to"],
                actor=request.user,
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Request moved to %(status)s.") % {"status": RequestStatus(form.cleaned_data["to"]).label},
            )
    return redirect("clients:request", pk=client_request.pk)


@login_required
def handover_create(request: HttpRequest, pk: int) -> HttpResponse:
    client_request = get_object_or_404(selectors.request_detail(user=request.user), pk=pk)
    if not selectors.can_edit_client(user=request.user, client=client_request.client):
        raise PermissionDenied
    form = HandoverForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            handover = services.handover_create(request=client_request, actor=request.user, **form.cleaned_data)
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Handed over to %(department)s; %(assignee)s has been notified.")
                % {"department": handover.department.name, "assignee": handover.assignee.full_name},
            )
            return redirect("clients:request", pk=client_request.pk)
    return render(
        request,
        "clients/handover_form.html",
        {"form": form, "item": client_request},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def handover_status(request: HttpRequest, pk: int) -> HttpResponse:
    handover = get_object_or_404(selectors.handover_list(user=request.user), pk=pk)
    form = HandoverStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what happened to the hand-over."))
    else:
        try:
            services.handover_set_status(handover=handover, to=form.cleaned_data["to"], actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Hand-over updated."))
    return redirect(_safe_next(request) or reverse("clients:request", args=[handover.request_id]))


# --- Search ------------------------------------------------------------------------------------------------


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """The header's search over clients, contacts and partners; a dropdown with htmx, a page without."""
    results = selectors.global_search(user=request.user, query=request.GET.get("q", ""))
    if request.htmx:
        if results["too_short"]:
            return HttpResponse("")  # an emptied search box closes the dropdown
        return render(request, "clients/_search_results.html", results)
    return render(request, "clients/search.html", results)
