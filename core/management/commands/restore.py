"""``manage.py restore ARCHIVE [--force]``: put back what ``manage.py backup`` wrote (core/backup.py)."""

import shutil
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext_lazy, ngettext

from core import backup
from core.management import base


class Command(base.Command):
    help = gettext_lazy(
        "Restore a backup made by the backup command into the configured database and MEDIA_ROOT, then check "
        "every table's row count against the backup's manifest (exit 1 on any difference)."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help=gettext_lazy("The backup archive (.tar); - reads it from standard input."))
        parser.add_argument(
            "--force",
            action="store_true",
            help=gettext_lazy(
                "Drop and create again a database that already has tables, and empty the media folder first."
            ),
        )

    def handle(self, *args, archive: str, force: bool = False, **options):
        connection, media_root = connections[DEFAULT_DB_ALIAS], Path(settings.MEDIA_ROOT)
        try:
            with tempfile.TemporaryDirectory(prefix="accord-restore-input-") as work:
                path = Path(archive)
                if archive == "-":  # a tar is read from anywhere in it: keep standard input in a file first
                    path = Path(work) / "backup.tar"
                    with path.open("wb") as file:
                        shutil.copyfileobj(sys.stdin.buffer, file)
                restored = backup.restore(connection, path=path, media_root=media_root, force=force)
        except (backup.BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        manifest = restored.manifest
        self.stdout.write(
            ngettext(
                "Restored the backup of %(created)s (Accord %(version)s): %(tables)s tables with %(rows)s rows and "
                "%(files)s media file, as its manifest lists.",
                "Restored the backup of %(created)s (Accord %(version)s): %(tables)s tables with %(rows)s rows and "
                "%(files)s media files, as its manifest lists.",
                restored.media_files,
            )
            % {
                "created": manifest["created_at"],
                "version": manifest["accord_version"],
                "tables": len(manifest["tables"]),
                "rows": restored.rows,
                "files": restored.media_files,
            }
        )
        pending = len(restored.pending_migrations)
        if pending:
            self.stdout.write(
                ngettext(
                    "This code has %(count)s migration the backup predates: run python manage.py migrate.",
                    "This code has %(count)s migrations the backup predates: run python manage.py migrate.",
                    pending,
                )
                % {"count": pending}
            )
