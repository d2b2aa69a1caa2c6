"""``manage.py rebuild_invoice_totals [--check]``: the pre-summed invoice totals (contracts/models/totals.py)."""

from django.utils.translation import gettext_lazy as _

from contracts.billing import totals
from core.management import base


class Command(base.PreSummedCommand):
    help = _(
        "Recompute the pre-summed invoice totals the invoice list reads (PostgreSQL keeps them up to date by itself; "
        "run this after restoring a partial backup or loading invoices with triggers disabled)."
    )
    summed = totals
    check_help = _("Compare the totals with the invoices and change nothing; exit 1 when they differ.")
    not_kept = _("Pre-summed invoice totals are kept on PostgreSQL only; this database needs none.")
    rebuilt = _("Invoice totals rebuilt: %(rows)s rows.")
    agrees = _("Invoice totals agree with the invoices.")
    differ = _("%(count)s invoice totals differ from the invoices: run rebuild_invoice_totals.")
