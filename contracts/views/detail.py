"""The contract page (terms, negotiation rounds, stage history, phases and reports, budget vs actual, costs),
its forms, renewal, and the list of contracts whose notice deadline is near."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients.models import Client, Department, Partner
from contracts import reports, selectors, services
from contracts.billing.views.invoices import contract_invoices_context
from contracts.forms import CostForm, PhaseForm, RoundForm
from contracts.models import PIPELINE_STAGES, Contract, Phase, Stage
from contracts.rounds import round_changes
from core.errors import DomainError
from core.forms import add_domain_error
from core.money import format_money

PAGE_SIZE = 25
RENEWABLE_STAGES = (Stage.ACTIVE, Stage.EXPIRED)
CHART_GROUP_HEIGHT = 84
CHART_LABEL_LENGTH = 48


def _can_edit(user, contract: Contract) -> bool:
    return Contract.objects.editable_by(user).filter(pk=contract.pk).exists()


def _visible_contract_or_404(user, pk: int) -> Contract:
    return get_object_or_404(selectors.contract_detail(user=user).select_related("successor"), pk=pk)


def _editable_contract_or_404(user, pk: int) -> Contract:
    """404 if the user may not see the contract, 403 if they see it but may not change it."""
    contract = get_object_or_404(Contract.objects.visible_to(user).select_related("client", "owner"), pk=pk)
    if not _can_edit(user, contract):
        raise PermissionDenied
    return contract


def _editable_phase_or_404(user, pk: int) -> Phase:
    phase = get_object_or_404(
        Phase.objects.filter(contract__in=Contract.objects.visible_to(user).values("pk")).select_related(
            "contract__client", "contract__owner"
        ),
        pk=pk,
    )
    if not _can_edit(user, phase.contract):
        raise PermissionDenied
    return phase


def _anchor(contract: Contract, section: str) -> str:
    return f"{reverse('contracts:detail', args=[contract.pk])}#{section}"


# --- The contract page -----------------------------------------------------------------------------------------


def _cost_form(contract: Contract, user, data=None) -> CostForm:
    return CostForm(
        data,
        contract=contract,
        departments=Department.objects.filter(is_active=True),
        partners=Partner.objects.visible_to(user).order_by("name"),
    )


def _budget_chart(contract: Contract, phases: list[Phase], summary: dict) -> dict:
    """Bars of budget and spent per phase and for the whole contract, each pair to its own scale, labelled with
    words and amounts so the chart reads without colour. Geometry only; the amounts come from the selectors."""
    groups = [(phase.name, phase.budget, phase.spent, False) for phase in phases]
    unphased = summary["spent"] - sum((phase.spent for phase in phases), Decimal("0"))
    if unphased > 0:
        groups.append((_("Not in a phase"), Decimal("0"), unphased, False))
    groups.append((_("Whole contract"), summary["budget"], summary["spent"], True))
    bars = []
    for index, (label, budget, spent, is_total) in enumerate(groups):
        scale = max(budget, spent) or Decimal("1")
        over = bool(budget) and spent > budget
        bars.append(
            {
                "label": label if len(label) <= CHART_LABEL_LENGTH else f"{label[: CHART_LABEL_LENGTH - 1]}…",
                "is_total": is_total,
                "over": over,
                "y": index * CHART_GROUP_HEIGHT,
                "budget": budget,
                "spent": spent,
                "remaining": budget - spent,
                "used_percent": int(spent * 100 / budget) if budget else None,
                "budget_text": _("Budget · %(amount)s") % {"amount": format_money(budget, contract.currency)}
                if budget
                else _("Budget · none of its own"),
                "spent_text": _spent_text(spent, budget, contract.currency),
                "budget_width": _bar_width(budget, scale),
                "spent_width": _bar_width(spent, scale),
            }
        )
    return {"bars": bars, "height": len(bars) * CHART_GROUP_HEIGHT}


def _bar_width(amount: Decimal, scale: Decimal) -> str:
    if amount <= 0:
        return "0"
    return str(max(amount * 100 / scale, Decimal("0.5")).quantize(Decimal("0.1")))


def _spent_text(spent: Decimal, budget: Decimal, currency: str) -> str:
    amount = format_money(spent, currency)
    if not budget:
        return _("Spent · %(amount)s · no budget") % {"amount": amount}
    percent = int(spent * 100 / budget)
    if spent > budget:
        return _("Spent · %(amount)s · %(percent)d %% of budget, over") % {"amount": amount, "percent": percent}
    return _("Spent · %(amount)s · %(percent)d %% of budget") % {"amount": amount, "percent": percent}


def _page_context(request: HttpRequest, contract: Contract, **forms) -> dict:
    user = request.user
    can_edit = _can_edit(user, contract)
    can_report = can_edit and Client.objects.editable_by(user).filter(pk=contract.client_id).exists()
    phases = list(contract.phases.all())
    summary = selectors.budget_summary(contract)
    successor = getattr(contract, "successor", None)
    # The contracts before and after this one are linked only when the user may see them too.
    linked = set(
        Contract.objects.visible_to(user)
        .filter(pk__in=[pk for pk in (contract.renewal_of_id, successor.pk if successor else None) if pk])
        .values_list("pk", flat=True)
    )
    today = timezone.localdate()
    context = {
        "contract": contract,
        "can_edit": can_edit,
        "can_report": can_report,
        "can_open_client": Client.objects.detailed_for(user).filter(pk=contract.client_id).exists(),
        "can_renew": can_edit and contract.stage in RENEWABLE_STAGES and successor is None,
        "successor": successor if successor and successor.pk in linked else None,
        "renewal_of": contract.renewal_of if contract.renewal_of_id in linked else None,
        "in_pipeline": contract.stage in PIPELINE_STAGES,
        "can_record_rounds": can_edit and contract.stage in PIPELINE_STAGES,
        "round_changes": round_changes(contract.rounds.all()),
        "phases": phases,
        "costs": list(contract.costs.all()),
        "stage_changes": list(contract.stage_changes.all()),
        "summary": summary,
        "chart": _budget_chart(contract, phases, summary),
        "recipients": list(reports.report_recipients(contract.client)) if can_report else [],
        "notice_days_left": (contract.notice_deadline - today).days if contract.notice_deadline else None,
        **contract_invoices_context(user, contract),
    }
    if can_edit:
        context["round_form"] = forms.get("round_form") or RoundForm(contract=contract)
        context["phase_form"] = forms.get("phase_form") or PhaseForm(initial={"order": len(phases) + 1})
        context["cost_form"] = forms.get("cost_form") or _cost_form(contract, user)
    return context


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _visible_contract_or_404(request.user, pk)
    return render(request, "contracts/detail.html", _page_context(request, contract))


def _render_with_errors(request: HttpRequest, pk: int, **forms) -> HttpResponse:
    contract = _visible_contract_or_404(request.user, pk)
    return render(request, "contracts/detail.html", _page_context(request, contract, **forms), status=400)


@login_required
@require_POST
def round_create(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _editable_contract_or_404(request.user, pk)
    form = RoundForm(request.POST)
    if form.is_valid():
        try:
            recorded = services.round_record(contract=contract, actor=request.user, **form.cleaned_data)
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Round %(number)d recorded.") % {"number": recorded.number})
            return redirect(_anchor(contract, "rounds"))
    return _render_with_errors(request, pk, round_form=form)


@login_required
@require_POST
def phase_create(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _editable_contract_or_404(request.user, pk)
    form = PhaseForm(request.POST)
    if form.is_valid():
        try:
            phase = services.phase_save(contract=contract, actor=request.user, **form.cleaned_data)
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Phase %(name)s added.") % {"name": phase.name})
            return redirect(_anchor(contract, f"phase-{phase.pk}"))
    return _render_with_errors(request, pk, phase_form=form)


@login_required
def phase_edit(request: HttpRequest, pk: int) -> HttpResponse:
    phase = _editable_phase_or_404(request.user, pk)
    contract = phase.contract
    form = PhaseForm(request.POST or None, instance=phase)
    if request.method == "POST" and form.is_valid():
        try:
            services.phase_save(contract=contract, actor=request.user, phase=phase, **form.cleaned_data)
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Phase %(name)s saved.") % {"name": phase.name})
            return redirect(_anchor(contract, f"phase-{phase.pk}"))
    return render(
        request,
        "contracts/phase_form.html",
        {"form": form, "phase": phase, "contract": contract},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def phase_send_report(request: HttpRequest, pk: int) -> HttpResponse:
    phase = _editable_phase_or_404(request.user, pk)
    try:
        recipients = reports.phase_send_report(phase=phase, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The report on %(phase)s is going to %(names)s.")
            % {"phase": phase.name, "names": ", ".join(contact.full_name for contact in recipients)},
        )
    return redirect(_anchor(phase.contract, f"phase-{phase.pk}"))


@login_required
@require_POST
def cost_create(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _editable_contract_or_404(request.user, pk)
    form = _cost_form(contract, request.user, request.POST)
    if form.is_valid():
        try:
            services.cost_record(contract=contract, actor=request.user, **form.cleaned_data)
        except (DomainError, ValidationError) as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Cost recorded."))
            return redirect(_anchor(contract, "costs"))
    return _render_with_errors(request, pk, cost_form=form)


@login_required
@require_POST
def renew(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _editable_contract_or_404(request.user, pk)
    try:
        successor = services.contract_renew(contract=contract, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("contracts:detail", pk=contract.pk)
    messages.success(
        request,
        _("Renewal %(number)s created as a draft with the terms of %(previous)s.")
        % {"number": successor.number, "previous": contract.number},
    )
    return redirect("contracts:detail", pk=successor.pk)


# --- Expiring contracts ----------------------------------------------------------------------------------------


@login_required
def expiring(request: HttpRequest) -> HttpResponse:
    """Active contracts whose notice deadline is within 90 days, soonest first, with their renewal status."""
    contracts = selectors.expiring_contracts(user=request.user).select_related("client", "owner")
    page = selectors.ContractPaginator(contracts, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    editable = set(
        Contract.objects.editable_by(request.user)
        .filter(pk__in=[contract.pk for contract in page.object_list])
        .values_list("pk", flat=True)
    )
    rows = [
        {
            "contract": contract,
            "days_left": (contract.notice_deadline - today).days,
            "successor": getattr(contract, "successor", None),
            "can_renew": contract.pk in editable,
        }
        for contract in page.object_list
    ]
    return render(request, "contracts/expiring.html", {"page": page, "rows": rows, "today": today})
