"""``manage.py rebuild_kpi_ledger [--check]``: the pre-summed invoices, payments and signed contracts the KPIs read
(kpis/ledger.py)."""

from django.utils.translation import gettext_lazy as _

from core.management import base
from kpis import ledger


class Command(base.PreSummedCommand):
    help = _(
        "Recompute the pre-summed invoices, payments and signed contracts the KPIs read (PostgreSQL keeps them up to "
        "date by itself; run this after restoring a partial backup or loading invoices with triggers disabled)."
    )
    summed = ledger
    check_help = _(
        "Compare the pre-summed rows with the invoices, payments and contracts and change nothing; exit 1 when they "
        "differ."
    )
    not_kept = _("The KPIs' pre-summed rows are kept on PostgreSQL only; this database needs none.")
    rebuilt = _("KPI ledger rebuilt: %(rows)s rows.")
    agrees = _("The KPI ledger agrees with the invoices, payments and contracts.")
    differ = _("%(count)s KPI ledger rows differ from the invoices, payments and contracts: run rebuild_kpi_ledger.")
