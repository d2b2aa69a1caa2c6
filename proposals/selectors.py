"""Reads for proposals: the list (latest version per number), one proposal's page, its versions and history, the
rate card, and what changed between two versions."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import groupby

from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from clients.models import Contact
from proposals.models import LineItem, Proposal, ProposalEvent, RateCardItem, Unit
from proposals.totals import line_amounts

# --- Lists ---------------------------------------------------------------------------------------------------


def proposal_list(*, user: User, all_versions: bool = False) -> QuerySet[Proposal]:
    """Proposals the user may see; by default only the latest version of each number (the one nothing replaced)."""
    proposals = Proposal.objects.visible_to(user).select_related("client", "owner")
    if not all_versions:
        proposals = proposals.filter(next_version__isnull=True)
    return proposals


def totals_by_currency(proposals: QuerySet[Proposal]) -> list[dict]:
    """Count and total (VAT included) of ``proposals`` per currency, summed in SQL."""
    return list(
        proposals.order_by()
        .values("currency")
        .annotate(count=Count("pk"), total=Sum("total"), net=Sum("net_amount"))
        .order_by("currency")
    )


# --- One proposal --------------------------------------------------------------------------------------------


def proposal_detail(*, user: User) -> QuerySet[Proposal]:
    """The proposals whose page the user may open, with everything the page's header shows."""
    return Proposal.objects.visible_to(user).select_related(
        "client", "owner", "contract", "brief", "recipient", "approved_by", "previous"
    )


def proposal_lines(proposal: Proposal) -> list[LineItem]:
    """The lines in order, each with its amounts (``line.amounts``: list amount, discount, net)."""
    lines = list(proposal.lines.select_related("department"))
    for line in lines:
        line.amounts = line_amounts(line, proposal.currency)
    return lines


def proposal_line(proposal: Proposal, line_id: int) -> LineItem:
    """One line as the lines panel shows it: with its department and amounts, and its place among the lines
    (``line.position`` from 1, ``line.is_first``, ``line.is_last``). Two queries, whatever the number of lines."""
    order = list(proposal.lines.values_list("pk", flat=True))
    line = proposal.lines.select_related("department").get(pk=line_id)
    line.amounts = line_amounts(line, proposal.currency)
    line.position = order.index(line.pk) + 1
    line.is_first, line.is_last = line.position == 1, line.position == len(order)
    return line


def proposal_versions(*, user: User, proposal: Proposal) -> list[Proposal]:
    """Every version of the proposal's number the user may see, oldest first."""
    return list(
        Proposal.objects.visible_to(user)
        .filter(number=proposal.number)
        .only("pk", "number", "version", "status", "total", "currency", "created_at")
        .order_by("version")
    )


def proposal_events(proposal: Proposal) -> list[ProposalEvent]:
    return list(proposal.events.select_related("actor"))


def recipients(proposal: Proposal) -> QuerySet[Contact]:
    """The client's contacts a proposal can be e-mailed to."""
    return Contact.objects.filter(client_id=proposal.client_id).exclude(email="").order_by("full_name")


def rate_card(currency: str) -> list[tuple[str, list[RateCardItem]]]:
    """Active rate-card items priced in ``currency``, grouped by department: [(department name, items)]."""
    items = (
        RateCardItem.objects.filter(currency=currency, is_active=True, department__is_active=True)
        .select_related("department")
        .order_by("department__name", "service", "pk")
    )
    return [(name, list(group)) for name, group in groupby(items, key=lambda item: item.department.name)]


# --- What changed between two versions -----------------------------------------------------------------------

COMPARED_FIELDS = ("quantity", "unit", "unit_price", "discount_percent")


@dataclass(frozen=True)
class LineChange:
    """One line added, removed or changed; ``before``/``after`` hold the compared fields (None when absent)."""

    kind: str  # "added" | "removed" | "changed"
    description: str
    department: str
    before: dict | None
    after: dict | None
    changed: tuple[str, ...] = ()

    @property
    def changed_columns(self) -> set[str]:
        """The page's columns to show as old → new: the unit shows beside the quantity."""
        columns = {name for name in self.changed if name != "unit"}
        if "unit" in self.changed:
            columns.add("quantity")
        return columns


@dataclass(frozen=True)
class TotalChange:
    key: str
    label: str
    before: Decimal
    after: Decimal

    @property
    def delta(self) -> Decimal:
        return self.after - self.before


@dataclass(frozen=True)
class VersionChanges:
    previous: Proposal
    lines: list[LineChange] = field(default_factory=list)
    totals: list[TotalChange] = field(default_factory=list)
    header: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {"added": 0, "removed": 0, "changed": 0}
        for change in self.lines:
            counts[change.kind] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return bool(self.lines or self.header or any(total.delta for total in self.totals))


def _line_key(line) -> tuple[str, int | None]:
    """Lines are matched across versions by description (case and spacing ignored) and department."""
    return (" ".join(line.description.split()).casefold(), line.department_id)


def _line_values(line) -> dict:
    return {**{name: getattr(line, name) for name in COMPARED_FIELDS}, "unit_label": Unit(line.unit).label}


def _department_name(line) -> str:
    return line.department.name if line.department_id else ""


def line_changes(before: list, after: list) -> list[LineChange]:
    """Lines added, removed or changed from ``before`` to ``after`` (both in order), in the new order then the
    removed ones. Lines with the same description and department are paired in order of appearance."""
    unmatched = defaultdict(list)
    for line in before:
        unmatched[_line_key(line)].append(line)
    changes = []
    for line in after:
        candidates = unmatched.get(_line_key(line))
        if not candidates:
            changes.append(LineChange("added", line.description, _department_name(line), None, _line_values(line)))
            continue
        old = candidates.pop(0)
        old_values, new_values = _line_values(old), _line_values(line)
        changed = tuple(name for name in COMPARED_FIELDS if old_values[name] != new_values[name])
        if changed:
            changes.append(
                LineChange("changed", line.description, _department_name(line), old_values, new_values, changed)
            )
    for line in before:
        if line in unmatched.get(_line_key(line), []):
            changes.append(LineChange("removed", line.description, _department_name(line), _line_values(line), None))
    return changes


TOTALS_COMPARED = (
    ("subtotal", _("Subtotal")),
    ("discount_amount", _("Discount")),
    ("net_amount", _("Net")),
    ("vat_amount", _("VAT")),
    ("total", _("Total")),
)
HEADER_COMPARED = ("title", "currency", "vat_rate", "valid_until", "objectives", "scope", "terms", "language")


def version_changes(
    previous: Proposal, current: Proposal, *, previous_lines: list | None = None, current_lines: list | None = None
) -> VersionChanges:
    """What changed from ``previous`` to ``current``: lines, totals (stored on each version) and header fields."""
    if previous_lines is None:
        previous_lines = list(previous.lines.select_related("department"))
    if current_lines is None:
        current_lines = list(current.lines.select_related("department"))
    totals = [TotalChange(key, label, getattr(previous, key), getattr(current, key)) for key, label in TOTALS_COMPARED]
    header = [
        str(Proposal._meta.get_field(name).verbose_name)
        for name in HEADER_COMPARED
        if getattr(previous, name) != getattr(current, name)
    ]
    return VersionChanges(
        previous=previous, lines=line_changes(previous_lines, current_lines), totals=totals, header=header
    )
