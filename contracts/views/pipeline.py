"""Pipeline board, contract list and its CSV export, create and edit of terms, and stage moves."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, User
from accounts.permissions import has_role, is_director
from clients.models import Client
from clients.views import _cell, _Echo
from contracts import selectors, services
from contracts.filters import ContractFilter
from contracts.forms import ContractForm, MoveForm, move_targets
from contracts.models import PIPELINE_STAGES, Contract, Stage
from core.errors import ConflictError, DomainError
from core.forms import add_domain_error
from core.money import round_money
from core.tables import sort_choices, table_columns

PAGE_SIZE = 25
CREATORS = ("account_manager", "sales", "director", "admin")
BOARD_FILTERS = ("owner", "team", "kind", "currency", "close_month")
LIST_FILTERS = ("q", "stage", "owner", "team", "kind", "currency", "close_month")
# Moves a card on the board cannot make by itself: they need more than a stage (a reason, signature dates).
NEEDS_THE_MOVE_PAGE = (Stage.LOST, Stage.ACTIVE)
STAGE_ORDER = Case(
    *(When(stage=stage, then=Value(index)) for index, stage in enumerate(Stage)), output_field=IntegerField()
)
SORTS = {
    "number": (gettext_lazy("Number"), [F("number")]),
    "client": (gettext_lazy("Client"), [F("client__name"), F("number")]),
    "value": (gettext_lazy("Value"), [F("currency"), F("value"), F("number")]),
    "expected_close": (gettext_lazy("Expected close"), [F("expected_close"), F("number")]),
    "stage": (gettext_lazy("Stage"), [STAGE_ORDER, F("number")]),
}
DEFAULT_SORT = "-number"
NEVER_EMPTY = {"number", "currency", "value"}
TABLE_COLUMNS = [
    ("number", gettext_lazy("Number"), "d-none d-sm-table-cell"),
    ("title", gettext_lazy("Title"), ""),
    ("client", gettext_lazy("Client"), "d-none d-md-table-cell"),
    ("stage", gettext_lazy("Stage"), "d-none d-sm-table-cell"),
    ("value", gettext_lazy("Value"), "text-end"),
    ("weighted", gettext_lazy("Weighted"), "text-end d-none d-lg-table-cell"),
    ("owner", gettext_lazy("Owner"), "d-none d-lg-table-cell"),
    ("expected_close", gettext_lazy("Expected close"), "d-none d-sm-table-cell"),
]
CSV_COLUMNS = [
    gettext_lazy("Number"),
    gettext_lazy("Title"),
    gettext_lazy("Client"),
    gettext_lazy("Stage"),
    gettext_lazy("Kind"),
    gettext_lazy("Value"),
    gettext_lazy("Currency"),
    gettext_lazy("Probability (%)"),
    gettext_lazy("Weighted value"),
    gettext_lazy("Owner"),
    gettext_lazy("Team"),
    gettext_lazy("Expected close"),
    gettext_lazy("Signed"),
    gettext_lazy("Start"),
    gettext_lazy("End"),
]


# --- Shared helpers ----------------------------------------------------------------------------------------


def _querystring(request: HttpRequest, *drop: str) -> str:
    params = request.GET.copy()
    for name in drop:
        params.pop(name, None)
    return params.urlencode()


def _filtered_contracts(request: HttpRequest) -> tuple[ContractFilter, QuerySet[Contract]]:
    """The board's, the list's and the export's filter set and rows: one query shape, so all three agree."""
    filterset = ContractFilter(request.GET, queryset=selectors.contract_list(user=request.user), request=request)
    return filterset, (filterset.qs if filterset.is_valid() else filterset.queryset.none())


def _filter_client(request: HttpRequest, filterset: ContractFilter) -> Client | None:
    """The client the pages are narrowed to (?client=<id>), if the user may know it, to name it in a chip."""
    if not filterset.is_valid() or not filterset.form.cleaned_data.get("client"):
        return None
    return Client.objects.visible_to(request.user).filter(pk=filterset.form.cleaned_data["client"]).first()


def _visible_contract_or_404(user: User, pk: int) -> Contract:
    return get_object_or_404(selectors.contract_list(user=user), pk=pk)


def _editable_contract_or_404(user: User, pk: int) -> Contract:
    """404 if the user may not see the contract, 403 if they see it but may not change it."""
    contract = _visible_contract_or_404(user, pk)
    if not Contract.objects.editable_by(user).filter(pk=contract.pk).exists():
        raise PermissionDenied
    return contract


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


# --- Pipeline board ----------------------------------------------------------------------------------------


def _board_context(request: HttpRequest) -> dict:
    filterset, contracts = _filtered_contracts(request)
    columns = selectors.pipeline_columns(contracts)
    deals = [deal for column in columns for deal in column["deals"]]
    editable = set(
        Contract.objects.editable_by(request.user)
        .filter(pk__in=[deal.pk for deal in deals])
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    for deal in deals:
        deal.idle = selectors.is_idle(deal, now)
        deal.days_in_stage = (now - deal.stage_changed_at).days
        deal.idle_days_allowed = services.idle_days_allowed(deal.stage)
        deal.can_move = deal.pk in editable
        deal.targets = _card_targets(deal) if deal.can_move else []
    filter_query = _querystring(request, "page", "stage", "sort")
    for column in columns:
        column["hidden"] = column["count"] - len(column["deals"])
        column["more_url"] = f"{reverse('contracts:list')}?{urlencode({'stage': column['stage']})}" + (
            f"&{filter_query}" if filter_query else ""
        )
    return {
        "filter": filterset,
        "filter_fields": [filterset.form[name] for name in BOARD_FILTERS],
        "filter_client": _filter_client(request, filterset),
        "columns": columns,
        "filter_query": filter_query,
        "board_url": f"{reverse('contracts:pipeline')}?{filter_query}"
        if filter_query
        else reverse("contracts:pipeline"),
        "today": timezone.localdate(now),
        "can_create": has_role(request.user, *CREATORS),
    }


def _card_targets(deal: Contract) -> list[dict]:
    """The card's move choices: the other pipeline columns, and "Lost…"/"Active…" which open the move page.
    The next stage forward comes preselected."""
    order = list(Stage)
    targets = [
        {"stage": stage, "label": label, "needs_page": stage in NEEDS_THE_MOVE_PAGE, "selected": False}
        for stage, label in move_targets(deal)
        if stage in PIPELINE_STAGES or stage in NEEDS_THE_MOVE_PAGE
    ]
    forward = [target for target in targets if order.index(target["stage"]) > order.index(Stage(deal.stage))]
    if forward:
        forward[0]["selected"] = True
    return targets


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The shared pipeline: a column per pre-signature stage with count, totals and weighted value per currency."""
    context = _board_context(request)
    if request.htmx and request.htmx.target == "board":
        return render(request, "contracts/_board.html", context)
    return render(request, "contracts/board.html", context)


# --- Contract list and export ------------------------------------------------------------------------------


def _sorted(contracts: QuerySet[Contract], sort: str) -> tuple[QuerySet[Contract], str]:
    """Order by one of SORTS ("value", or "-value" for descending); empty values always last."""
    if sort.removeprefix("-") not in SORTS:
        sort = DEFAULT_SORT
    descending = sort.startswith("-")
    terms = SORTS[sort.removeprefix("-")][1]
    # NULLS LAST only where a value may be missing: on the always-set number it would keep PostgreSQL off its index.
    ordering = [
        (term.desc() if descending else term.asc())
        if getattr(term, "name", None) in NEVER_EMPTY
        else (term.desc(nulls_last=True) if descending else term.asc(nulls_last=True))
        for term in terms
    ]
    return contracts.order_by(*ordering), sort


@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    """Search, filter, sort and page through the contracts the user may see."""
    filterset, contracts = _filtered_contracts(request)
    contracts, sort = _sorted(contracts, request.GET.get("sort", DEFAULT_SORT))
    page = selectors.ContractPaginator(contracts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter": filterset,
        "filter_fields": [filterset.form[name] for name in LIST_FILTERS if name != "q"],
        "filter_client": _filter_client(request, filterset),
        "page": page,
        "sort": sort,
        "table_columns": table_columns(request, TABLE_COLUMNS, SORTS, sort),
        "sort_choices": sort_choices(SORTS),
        "query": _querystring(request, "page"),
        "export_query": _querystring(request, "page", "sort"),
        "can_create": has_role(request.user, *CREATORS),
    }
    if request.htmx and request.htmx.target == "contract-results":
        return render(request, "contracts/_list_rows.html", context)
    return render(request, "contracts/list.html", context)


@login_required
def export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered list as CSV (UTF-8 with a BOM so Excel reads Vietnamese), streamed in batches."""
    _filterset, contracts = _filtered_contracts(request)
    contracts, _sort = _sorted(contracts, request.GET.get("sort", DEFAULT_SORT))
    writer = csv.writer(_Echo())

    def rows():
        yield "\ufeff" + writer.writerow([str(label) for label in CSV_COLUMNS])
        for contract in contracts.iterator(chunk_size=2000):
            yield writer.writerow([_cell(value) for value in _csv_row(contract)])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="accord-contracts-{stamp}.csv"'
    return response


def _csv_row(contract: Contract) -> list:
    def day(value):
        return value.isoformat() if value else ""

    return [
        contract.number,
        contract.title,
        contract.client.name,
        contract.get_stage_display(),
        contract.get_kind_display(),
        round_money(contract.value, contract.currency),
        contract.currency,
        contract.probability,
        round_money(contract.weighted_value, contract.currency),
        contract.owner.full_name,
        contract.owner.team.name if contract.owner.team else "",
        day(contract.expected_close),
        timezone.localtime(contract.signed_at).strftime("%Y-%m-%d %H:%M") if contract.signed_at else "",
        day(contract.start_date),
        day(contract.end_date),
    ]


# --- Create and edit terms ---------------------------------------------------------------------------------


def _client_choices(user: User) -> QuerySet[Client]:
    """Sales open deals for any client they know by name; account managers for their own; directors for any."""
    if has_role(user, "sales"):
        return Client.objects.visible_to(user)
    return Client.objects.editable_by(user)


@login_required
def create(request: HttpRequest) -> HttpResponse:
    if not has_role(request.user, *CREATORS):
        raise PermissionDenied
    clients = _client_choices(request.user)
    owners = (
        User.objects.filter(is_active=True, role__in=[Role.ACCOUNT_MANAGER, Role.SALES, Role.DIRECTOR]).order_by(
            "full_name"
        )
        if is_director(request.user)
        else None
    )
    form = ContractForm(request.POST or None, clients=clients, owners=owners, initial=_create_initial(request, clients))
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_create(
                client=form.cleaned_data["client"],
                actor=request.user,
                owner=form.cleaned_data.get("owner"),
                **form.terms(),
            )
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Deal %(number)s created in Draft.") % {"number": contract.number})
            return redirect(contract.get_absolute_url())
    status = 400 if request.method == "POST" else 200
    return render(request, "contracts/contract_form.html", {"form": form}, status=status)


def _create_initial(request: HttpRequest, clients: QuerySet[Client]) -> dict:
    """?client=<id> preselects the client (and its billing currency) when the user may choose it."""
    try:
        client = clients.filter(pk=int(request.GET.get("client", ""))).first()
    except ValueError:
        client = None
    return {"client": client, "currency": client.billing_currency} if client else {}


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _editable_contract_or_404(request.user, pk)
    form = ContractForm(request.POST or None, instance=contract)
    status = 400 if request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_update(
                contract=contract,
                actor=request.user,
                expected_version=form.cleaned_data["version"],
                **form.terms(),
            )
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
            status = 409 if isinstance(error, ConflictError) else 400
        else:
            messages.success(request, _("Changes saved."))
            return redirect(contract.get_absolute_url())
    return render(request, "contracts/contract_form.html", {"form": form, "contract": contract}, status=status)


# --- Stage moves -------------------------------------------------------------------------------------------


@login_required
def move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a contract to another stage: the move page, the board's no-script form, and drag-and-drop (htmx)."""
    contract = _editable_contract_or_404(request.user, pk)
    from_board = request.POST.get("from") == "board"
    if from_board and request.POST.get("stage") in NEEDS_THE_MOVE_PAGE:
        return _to_the_move_page(request, contract)
    initial = {"stage": request.GET.get("stage", "")}
    form = MoveForm(request.POST or None, contract=contract, initial=initial)
    if request.method != "POST":
        return _render_move(request, contract, form)
    error = None
    if form.is_valid():
        try:
            services.contract_move(contract=contract, actor=request.user, **form.move_arguments())
        except (DomainError, ValidationError) as refusal:
            error = refusal
    if error is None and form.is_valid():
        return _moved(request, contract, form.cleaned_data["stage"], from_board)
    return _refused(request, contract, form, error, from_board)


def _to_the_move_page(request: HttpRequest, contract: Contract) -> HttpResponse:
    query = urlencode({"stage": request.POST["stage"], "next": _safe_next(request, reverse("contracts:pipeline"))})
    return redirect(f"{reverse('contracts:move', args=[contract.pk])}?{query}")


def _moved(request: HttpRequest, contract: Contract, stage: str, from_board: bool) -> HttpResponse:
    if request.htmx:
        return render(request, "contracts/_board.html", _board_context(request))
    messages.success(
        request, _("%(number)s moved to %(stage)s.") % {"number": contract.number, "stage": Stage(stage).label}
    )
    return redirect(_safe_next(request, reverse("contracts:pipeline") if from_board else contract.get_absolute_url()))


def _refused(request, contract: Contract, form: MoveForm, error, from_board: bool) -> HttpResponse:
    if error is not None:
        _show_refusal(form, error)
    status = 409 if isinstance(error, ConflictError) else 400
    if request.htmx or from_board:
        message = error.message if isinstance(error, DomainError) else _first_error(form)
        if request.htmx:
            return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
        messages.error(request, f"{contract.number}: {message}")
        return redirect(_safe_next(request, reverse("contracts:pipeline")))
    return _render_move(request, contract, form, status=status)


def _show_refusal(form: MoveForm, error: DomainError | ValidationError) -> None:
    """The service's sentence at the top of the form, and its word on each field it names."""
    add_domain_error(form, error)
    shown = [str(message) for messages in form.errors.values() for message in messages]
    if isinstance(error, DomainError) and error.message not in shown:
        form.add_error(None, error.message)


def _first_error(form: MoveForm) -> str:
    for errors in form.errors.values():
        return str(errors[0])
    return _("The move could not be made.")


def _render_move(request: HttpRequest, contract: Contract, form: MoveForm, status: int = 200) -> HttpResponse:
    context = {
        "contract": contract,
        "form": form,
        "next": _safe_next(request, ""),
        "has_moves": bool(move_targets(contract)),
    }
    return render(request, "contracts/move.html", context, status=status)
