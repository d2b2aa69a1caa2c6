"""``manage.py backup [ARCHIVE]``: the database, the uploaded files and a manifest in one .tar (core/backup.py)."""

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core import backup
from core.management import base


class Command(base.Command):
    help = gettext_lazy(
        "Back up the database (pg_dump on PostgreSQL, the online backup API on SQLite) and the files under "
        "MEDIA_ROOT into one .tar archive with a manifest of every table's row count."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "archive",
            nargs="?",
            help=gettext_lazy(
                "Where to write the archive (default: accord-backup-<date>-<time>.tar in the current folder); "
                "- writes it to standard output."
            ),
        )

    def handle(self, *args, archive: str | None = None, **options):
        archive = archive or timezone.localtime().strftime("accord-backup-%Y%m%d-%H%M%S.tar")
        connection, media_root = connections[DEFAULT_DB_ALIAS], Path(settings.MEDIA_ROOT)
        # With the archive on standard output, every message goes to standard error.
        report = self.stderr if archive == "-" else self.stdout
        try:
            if archive == "-":
                manifest = backup.backup(connection, destination=sys.stdout.buffer, media_root=media_root)
                sys.stdout.buffer.flush()
            else:
                manifest = backup.write_backup(connection, path=Path(archive), media_root=media_root)
        except (backup.BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        outside = backup.documents_outside_media()
        if outside:
            self.stderr.write(
                _("The generated documents kept in %(place)s are not under MEDIA_ROOT and not in this backup.")
                % {"place": outside}
            )
        files = manifest["media"]["files"]
        report.write(
            ngettext(
                "Backup written to %(archive)s: %(tables)s tables, %(rows)s rows, %(files)s media file.",
                "Backup written to %(archive)s: %(tables)s tables, %(rows)s rows, %(files)s media files.",
                files,
            )
            % {
                "archive": _("standard output") if archive == "-" else archive,
                "tables": len(manifest["tables"]),
                "rows": sum(manifest["tables"].values()),
                "files": files,
            }
        )
