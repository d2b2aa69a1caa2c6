"""``manage.py import_clients FILE --owner EMAIL [--dry-run]``: the CSV import of clients/importer.py."""

import sys
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from clients.importer import clients_import
from core.errors import DomainError
from core.management import base


class Command(base.Command):
    help = gettext_lazy(
        "Import clients and their contacts from a UTF-8 CSV file (columns in clients/importer.py). "
        "Every row is checked first; with any error nothing is imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help=gettext_lazy("The CSV file, or - to read standard input."))
        parser.add_argument(
            "--owner",
            required=True,
            help=gettext_lazy(
                "E-mail of the user who imports: their role decides what they may import, "
                "and rows without owner_email belong to them."
            ),
        )
        parser.add_argument(
            "--dry-run", action="store_true", help=gettext_lazy("Check the file and report; write nothing.")
        )

    def handle(self, *args, file: str, owner: str, dry_run: bool = False, **options):
        actor = User.objects.filter(email__iexact=owner.strip(), is_active=True).first()
        if actor is None:
            raise CommandError(_("No active user has the e-mail %(email)s.") % {"email": owner})
        try:
            data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        except OSError as error:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": file, "error": error.strerror}
            ) from error
        try:
            report = clients_import(file=data, actor=actor, dry_run=dry_run)
        except DomainError as error:
            raise CommandError(error.message) from error
        if report.errors:
            for error in report.errors:
                self.stderr.write(str(error))
            raise CommandError(
                _("Errors: %(count)d (in %(rows)d rows). Nothing was imported.")
                % {"count": len(report.errors), "rows": report.rows}
            )
        summary = {"clients": report.clients, "contacts": report.contacts, "rows": report.rows}
        if dry_run:
            self.stdout.write(
                _("Dry run, nothing written. Rows: %(rows)d; clients to create: %(clients)d; contacts: %(contacts)d.")
                % summary
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Imported. Rows: %(rows)d; clients created: %(clients)d; contacts: %(contacts)d.") % summary
                )
            )
