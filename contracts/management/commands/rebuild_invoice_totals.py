"""``manage.py rebuild_invoice_totals [--check]``: the pre-summed invoice totals (contracts/models/totals.py)."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contracts.billing import totals
from core.management import base


class Command(base.Command):
    help = gettext_lazy(
        "Recompute the pre-summed invoice totals the invoice list reads (PostgreSQL keeps them up to date by "
        "itself; run this after restoring a partial backup or loading invoices with triggers disabled)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help=gettext_lazy("Compare the totals with the invoices and change nothing; exit 1 when they differ."),
        )

    def handle(self, *args, check: bool = False, **options):
        if not totals.kept():
            raise CommandError(_("Pre-summed invoice totals are kept on PostgreSQL only; this database needs none."))
        if not check:
            rows = totals.rebuild()
            self.stdout.write(_("Invoice totals rebuilt: %(rows)s rows.") % {"rows": rows})
            return
        count, first = totals.differences()
        if not count:
            self.stdout.write(_("Invoice totals agree with the invoices."))
            return
        for row in first:
            self.stderr.write(" ".join("-" if value is None else str(value) for value in row))
        raise CommandError(
            _("%(count)s invoice totals differ from the invoices: run rebuild_invoice_totals.") % {"count": count}
        )
