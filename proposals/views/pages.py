"""The proposal list, and starting a proposal: blank for a client, from a brief, or as a copy of an earlier one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import has_role
from clients.models import Client, Request
from core.errors import DomainError
from core.forms import add_domain_error
from core.tables import sort_choices, table_columns
from proposals import selectors, services
from proposals.filters import ProposalFilter
from proposals.forms import CopyForm, FromBriefForm, ProposalCreateForm
from proposals.models import Proposal
from proposals.views.common import CREATORS

PAGE_SIZE = 25
LIST_FILTERS = ("status", "owner", "currency")
SORTS = {
    "number": (gettext_lazy("Number"), [F("number"), F("version")]),
    "client": (gettext_lazy("Client"), [F("client__name"), F("number"), F("version")]),
    "total": (gettext_lazy("Total"), [F("currency"), F("total"), F("number")]),
    "valid_until": (gettext_lazy("Valid until"), [F("valid_until"), F("number")]),
    "updated": (gettext_lazy("Last change"), [F("updated_at"), F("number")]),
}
DEFAULT_SORT = "-number"
TABLE_COLUMNS = [
    ("number", gettext_lazy("Number"), "d-none d-sm-table-cell"),
    ("title", gettext_lazy("Title"), ""),
    ("client", gettext_lazy("Client"), "d-none d-md-table-cell"),
    ("status", gettext_lazy("Status"), "d-none d-sm-table-cell"),
    ("total", gettext_lazy("Total"), "text-end"),
    ("owner", gettext_lazy("Owner"), "d-none d-lg-table-cell"),
    ("valid_until", gettext_lazy("Valid until"), "d-none d-md-table-cell text-nowrap"),
]


def _querystring(request: HttpRequest, *drop: str) -> str:
    params = request.GET.copy()
    for name in drop:
        params.pop(name, None)
    return params.urlencode()


def _sorted(proposals: QuerySet[Proposal], sort: str) -> tuple[QuerySet[Proposal], str]:
    if sort.removeprefix("-") not in SORTS:
        sort = DEFAULT_SORT
    descending = sort.startswith("-")
    terms = SORTS[sort.removeprefix("-")][1]
    return proposals.order_by(*(term.desc() if descending else term.asc() for term in terms)), sort


@login_required
def proposal_list(request: HttpRequest) -> HttpResponse:
    """Search, filter, sort and page through the proposals the user may see: the latest version of each number,
    or every version with ?versions=all."""
    all_versions = request.GET.get("versions") == "all"
    base = selectors.proposal_list(user=request.user, all_versions=all_versions)
    filterset = ProposalFilter(request.GET, queryset=base, request=request)
    proposals = filterset.qs if filterset.is_valid() else base.none()
    proposals, sort = _sorted(proposals, request.GET.get("sort", DEFAULT_SORT))
    page = Paginator(proposals, PAGE_SIZE).get_page(request.GET.get("page"))
    filter_client = None
    if filterset.is_valid() and filterset.form.cleaned_data.get("client"):
        filter_client = Client.objects.visible_to(request.user).filter(pk=filterset.form.cleaned_data["client"]).first()
    context = {
        "filter": filterset,
        "filter_fields": [filterset.form[name] for name in LIST_FILTERS],
        "filter_client": filter_client,
        "all_versions": all_versions,
        "versions_query": _querystring(request, "page", "versions"),
        "page": page,
        "sort": sort,
        "table_columns": table_columns(request, TABLE_COLUMNS, SORTS, sort),
        "sort_choices": sort_choices(SORTS),
        "totals": selectors.totals_by_currency(proposals),
        "query": _querystring(request, "page"),
        "can_create": has_role(request.user, *CREATORS),
        "today": timezone.localdate(),
    }
    if request.htmx and request.htmx.target == "proposal-results":
        return render(request, "proposals/_list_rows.html", context)
    return render(request, "proposals/list.html", context)


# --- Starting a proposal -------------------------------------------------------------------------------------


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
def create(request: HttpRequest) -> HttpResponse:
    """/proposals/new/: blank (?client=), answering a brief (?brief=) or copying an earlier proposal (?copy=)."""
    if not has_role(request.user, *CREATORS):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    if _int(data.get("brief")):
        return _from_brief(request, _int(data.get("brief")))
    if _int(data.get("copy")):
        return _copy(request, _int(data.get("copy")))
    return _blank(request)


def _created(request: HttpRequest, proposal: Proposal, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("proposals:detail", pk=proposal.pk)


def _render_create(request: HttpRequest, context: dict, *, invalid: bool) -> HttpResponse:
    return render(request, "proposals/create.html", context, status=400 if invalid else 200)


def _blank(request: HttpRequest) -> HttpResponse:
    clients = Client.objects.editable_by(request.user)
    initial = {"client": _int(request.GET.get("client"))}
    form = ProposalCreateForm(request.POST or None, clients=clients, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.proposal_create(client=form.cleaned_data["client"], actor=request.user, **form.header())
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            return _created(request, proposal, _("Proposal %(number)s created.") % {"number": proposal.number})
    return _render_create(request, {"mode": "blank", "form": form}, invalid=bool(form.errors))


def _from_brief(request: HttpRequest, brief_id: int) -> HttpResponse:
    brief = get_object_or_404(Request.objects.visible_to(request.user).select_related("client", "contact"), pk=brief_id)
    form = FromBriefForm(request.POST or None, initial={"brief": brief.pk})
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.proposal_from_brief(
                brief=brief, actor=request.user, valid_until=form.cleaned_data.get("valid_until")
            )
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            return _created(
                request,
                proposal,
                _("Proposal %(number)s started from the brief “%(brief)s”.")
                % {"number": proposal.number, "brief": brief.title},
            )
    earlier = list(selectors.proposal_list(user=request.user).filter(brief=brief).order_by("-created_at")[:5])
    context = {"mode": "brief", "form": form, "brief": brief, "earlier": earlier}
    return _render_create(request, context, invalid=bool(form.errors))


def _copy(request: HttpRequest, source_id: int) -> HttpResponse:
    source = get_object_or_404(selectors.proposal_detail(user=request.user), pk=source_id)
    clients = Client.objects.editable_by(request.user)
    form = CopyForm(request.POST or None, clients=clients, initial={"copy": source.pk, "client": source.client_id})
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.proposal_copy(source=source, actor=request.user, client=form.cleaned_data["client"])
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            return _created(
                request,
                proposal,
                _("Proposal %(number)s created as a copy of %(source)s v%(version)s.")
                % {"number": proposal.number, "source": source.number, "version": source.version},
            )
    return _render_create(request, {"mode": "copy", "form": form, "source": source}, invalid=bool(form.errors))
