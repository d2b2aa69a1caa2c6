"""``manage.py rebuild_kpi_ledger [--check]``: the pre-summed invoices and payments the KPIs read (kpis/ledger.py)."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.management import base
from kpis import ledger


class Command(base.Command):
    help = gettext_lazy(
        "Recompute the pre-summed invoices, payments and signed contracts the KPIs read (PostgreSQL keeps them up to "
        "date by itself; "
        "run this after restoring a partial backup or loading invoices with triggers disabled)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help=gettext_lazy(
                "Compare the pre-summed rows with the invoices, payments and contracts and change nothing; exit 1 "
                "when they differ."
            ),
        )

    def handle(self, *args, check: bool = False, **options):
        if not ledger.kept():
            raise CommandError(_("The KPIs' pre-summed rows are kept on PostgreSQL only; this database needs none."))
        if not check:
            rows = ledger.rebuild()
            self.stdout.write(_("KPI ledger rebuilt: %(rows)s rows.") % {"rows": rows})
            return
        count, first = ledger.differences()
        if not count:
            self.stdout.write(_("The KPI ledger agrees with the invoices, payments and contracts."))
            return
        for row in first:
            self.stderr.write(" ".join("-" if value is None else str(value) for value in row))
        raise CommandError(
            _("%(count)s KPI ledger rows differ from the invoices, payments and contracts: run rebuild_kpi_ledger.")
            % {"count": count}
        )
