"""Backups of Accord: one .tar archive holding the database, the uploaded files and a manifest; and their restore.

The archive::

    manifest.json     what it is (``format``), Accord's version, when, the database's kind and server version, the
                      row count of every table, the applied migrations, the number and size of the media files
    database.dump     PostgreSQL: ``pg_dump --format=custom --no-owner``
    database.sqlite3  or SQLite: a copy made with SQLite's online backup API
    media/...         every file under MEDIA_ROOT

On PostgreSQL the row counts are taken in the very snapshot pg_dump dumps (``pg_export_snapshot``), so they match the
dump while Accord keeps writing; a restore checks every table's count against them. Nothing here imports an app.
"""

import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

FORMAT = "accord-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA = "media/"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
VENDOR_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
MISMATCHES_SHOWN = 10
# All or nothing, into a database owned by whoever restores it (the backup's roles may not exist here).
RESTORE_OPTIONS = ("--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Restored:
    manifest: dict
    rows: int
    media_files: int
    pending_migrations: list[str]


# --- Backup ------------------------------------------------------------------------------------------------------


def backup(connection: BaseDatabaseWrapper, *, destination: BinaryIO, media_root: Path) -> dict:
    """Write the archive of the database behind ``connection`` and of ``media_root`` to ``destination``; return
    its manifest. Raises BackupError for a database Accord cannot back up or a missing or too old pg_dump."""
    vendor = _supported_vendor(connection.vendor, configured=True)
    with tempfile.TemporaryDirectory(prefix="accord-backup-") as work:
        dump = Path(work) / DATABASE_FILES[vendor]
        dumped = _dump_postgresql(connection, dump) if vendor == "postgresql" else _dump_sqlite(connection, dump)
        media = _media_files(media_root)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "accord_version": _accord_version(),
            "created_at": timezone.now().isoformat(),
            **dumped,
            "media": {"files": len(media), "bytes": sum(path.stat().st_size for _name, path in media)},
        }
        with tarfile.open(fileobj=destination, mode="w|") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
            archive.add(dump, arcname=dump.name)
            for name, path in media:
                with path.open("rb") as file:
                    archive.addfile(archive.gettarinfo(arcname=MEDIA + name, fileobj=file), file)
    return manifest


def write_backup(connection: BaseDatabaseWrapper, *, path: Path, media_root: Path) -> dict:
    """``backup`` into the file at ``path``, which appears only once complete (written beside it, then renamed)."""
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as file:
            manifest = backup(connection, destination=file, media_root=media_root)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def documents_outside_media() -> str | None:
    """Where the generated documents are kept when that is not under MEDIA_ROOT (so not in the archive)."""
    documents = settings.STORAGES["documents"]
    location = documents.get("OPTIONS", {}).get("location")
    if not documents["BACKEND"].endswith("FileSystemStorage"):
        return documents["BACKEND"]
    if location is None or Path(location).resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve()):
        return None
    return location


def _dump_postgresql(connection: BaseDatabaseWrapper, dump: Path) -> dict:
    """pg_dump in a snapshot this transaction exports and holds, and the row counts of that same snapshot."""
    pg_dump = _tool("pg_dump")
    connection.ensure_connection()
    server = connection.pg_version // 10000
    if pg_dump.major < server:
        raise BackupError(
            _(
                "pg_dump is version %(tool)s but the PostgreSQL server runs version %(server)s: install the client "
                "tools of the server's version (Debian: apt-get install postgresql-client-%(server)s)."
            )
            % {"tool": pg_dump.major, "server": server}
        )
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
        snapshot, server_version = cursor.fetchone()
        tables = _row_counts(cursor, "postgresql")
        migrations = _applied_migrations(cursor, tables)
        _run(
            [pg_dump.path, "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={dump}"],
            environment=_libpq_environment(connection.settings_dict),
            failure=_("pg_dump failed"),
        )
    return {
        "database": {
            "vendor": "postgresql",
            "server_version": server_version,
            "server_major": server,
            "dump_tool": pg_dump.version,
            "dump_tool_major": pg_dump.major,
            "file": dump.name,
        },
        "tables": tables,
        "migrations": migrations,
    }


def _dump_sqlite(connection: BaseDatabaseWrapper, dump: Path) -> dict:
    """A consistent copy by SQLite's online backup API (readers and writers may go on), counted from the copy."""
    connection.ensure_connection()
    copy = sqlite3.connect(dump)
    try:
        connection.connection.backup(copy)
        cursor = copy.cursor()
        tables = _row_counts(cursor, "sqlite")
        migrations = _applied_migrations(cursor, tables)
    finally:
        copy.close()
    database = {"vendor": "sqlite", "server_version": sqlite3.sqlite_version, "file": dump.name}
    return {"database": database, "tables": tables, "migrations": migrations}


def _media_files(media_root: Path) -> list[tuple[str, Path]]:
    if not media_root.is_dir():
        return []
    files = (path for path in media_root.rglob("*") if path.is_file())
    return sorted((path.relative_to(media_root).as_posix(), path) for path in files)


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(content), int(timezone.now().timestamp()), 0o644
    archive.addfile(info, io.BytesIO(content))


# --- Restore -----------------------------------------------------------------------------------------------------


def restore(connection: BaseDatabaseWrapper, *, path: Path, media_root: Path, force: bool = False) -> Restored:
    """Restore the archive at ``path`` into the database behind ``connection`` and into ``media_root``, then check
    every table's row count against the manifest.

    Everything that can be checked is checked before anything is changed: the archive, the database's kind, the
    tools and server versions, the migrations, and that the database and the media folder are empty (``force``:
    the database is dropped and created again, the media folder emptied). Raises BackupError.
    """
    with _opened(path) as archive:
        manifest = _manifest(archive)
        vendor = _supported_vendor(manifest["database"]["vendor"], configured=False)
        if vendor != connection.vendor:
            raise BackupError(
                _("This backup holds a %(backup)s database but the configured database is %(configured)s.")
                % {"backup": VENDOR_NAMES[vendor], "configured": VENDOR_NAMES.get(connection.vendor, connection.vendor)}
            )
        _refuse_unknown_migrations(manifest)
        _refuse_unless_empty_media(media_root, force)
        with tempfile.TemporaryDirectory(prefix="accord-restore-") as work:
            dump = _extract_database(archive, manifest, Path(work))
            if vendor == "postgresql":
                _restore_postgresql(connection, manifest, dump, force)
            else:
                _restore_sqlite(connection, dump, force)
        media_files = _restore_media(archive, media_root, force)
    return _verified(connection, manifest, media_files)


@contextmanager
def _opened(path: Path):
    if not path.is_file():
        raise BackupError(_("%(path)s is not a file.") % {"path": path})
    try:
        with tarfile.open(path, mode="r:") as archive:
            yield archive
    except tarfile.ReadError as error:
        raise BackupError(_("%(path)s is not an Accord backup (not a .tar archive).") % {"path": path}) from error


def _manifest(archive: tarfile.TarFile) -> dict:
    try:
        manifest = json.load(archive.extractfile(MANIFEST))
    except (KeyError, AttributeError, ValueError) as error:
        raise BackupError(_("This archive is not an Accord backup: it has no readable manifest.json.")) from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(_("This archive is not an Accord backup: its manifest.json is not Accord's."))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            _("This backup's format version is %(found)s; this Accord reads version %(known)s.")
            % {"found": manifest.get("format_version"), "known": FORMAT_VERSION}
        )
    return manifest


def _supported_vendor(vendor: str, *, configured: bool) -> str:
    if vendor in DATABASE_FILES:
        return vendor
    if configured:
        raise BackupError(_("Accord backs up PostgreSQL and SQLite databases, not %(vendor)s.") % {"vendor": vendor})
    raise BackupError(_("This backup holds a %(vendor)s database, which Accord cannot restore.") % {"vendor": vendor})


def _refuse_unknown_migrations(manifest: dict) -> None:
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [f"{app}.{name}" for app, names in manifest["migrations"].items() for name in names]
    unknown = [migration for migration in unknown if tuple(migration.split(".", 1)) not in known]
    if unknown:
        raise BackupError(
            _(
                "This backup was made by a newer Accord (%(version)s): it has migrations this code does not know "
                "(%(migrations)s). Restore it with the version that made it."
            )
            % {"version": manifest["accord_version"], "migrations": ", ".join(unknown[:MISMATCHES_SHOWN])}
        )


def _refuse_unless_empty_media(media_root: Path, force: bool) -> None:
    if force or not _media_files(media_root):
        return
    raise BackupError(
        _("The media folder %(path)s is not empty: restore into an empty one, or add --force to empty it first.")
        % {"path": media_root}
    )


def _extract_database(archive: tarfile.TarFile, manifest: dict, work: Path) -> Path:
    name = manifest["database"]["file"]
    if name not in DATABASE_FILES.values():
        raise BackupError(_("This archive is not an Accord backup: its manifest.json is not Accord's."))
    try:
        archive.extract(name, path=work, filter="data")
    except KeyError as error:
        raise BackupError(_("This backup is incomplete: %(name)s is missing.") % {"name": name}) from error
    return work / name


def _restore_postgresql(connection: BaseDatabaseWrapper, manifest: dict, dump: Path, force: bool) -> None:
    pg_restore = _tool("pg_restore")
    source = manifest["database"]
    if pg_restore.major < source["dump_tool_major"]:
        raise BackupError(
            _(
                "pg_restore is version %(tool)s but the backup was written by pg_dump %(dump)s: install the client "
                "tools of version %(dump)s or newer."
            )
            % {"tool": pg_restore.major, "dump": source["dump_tool_major"]}
        )
    database = connection.settings_dict
    name = database["NAME"]
    with _server_connection(database, "postgres") as server:
        target = server.info.server_version // 10000
        exists = server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    if target < source["server_major"]:
        raise BackupError(
            _(
                "The backup comes from PostgreSQL %(source)s but this server runs PostgreSQL %(target)s: restore it "
                "on PostgreSQL %(source)s or newer."
            )
            % {"source": source["server_major"], "target": target}
        )
    if exists and not force and _postgresql_tables(database):
        raise BackupError(
            _(
                "The database %(name)s already has tables: restore into an empty database, or add --force to drop "
                "it and create it again."
            )
            % {"name": name}
        )
    connection.close()
    _create_database(database, drop=bool(exists))
    _run(
        [pg_restore.path, *RESTORE_OPTIONS, f"--dbname={name}", str(dump)],
        environment=_libpq_environment(database),
        failure=_("pg_restore failed (the database %(name)s is left empty)") % {"name": name},
    )


def _postgresql_tables(database: dict) -> int:
    with _server_connection(database, database["NAME"]) as target:
        return target.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()[0]


def _create_database(database: dict, *, drop: bool) -> None:
    from psycopg import sql

    name = sql.Identifier(database["NAME"])
    with _server_connection(database, "postgres") as server:
        if drop:  # WITH (FORCE): web and worker processes still connected are disconnected
            server.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))
        server.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(name))


@contextmanager
def _server_connection(database: dict, dbname: str):
    import psycopg

    options = database.get("OPTIONS", {})
    parameters = {
        "dbname": dbname,
        "host": database.get("HOST") or None,
        "port": database.get("PORT") or None,
        "user": database.get("USER") or None,
        "password": database.get("PASSWORD") or None,
        **{key: options[key] for key in ("sslmode", "sslrootcert", "sslcert", "sslkey") if key in options},
    }
    try:
        server = psycopg.connect(autocommit=True, **{key: value for key, value in parameters.items() if value})
    except psycopg.Error as error:
        raise BackupError(
            _("Could not connect to PostgreSQL (database %(name)s): %(error)s") % {"name": dbname, "error": error}
        ) from error
    with server:
        yield server


def _restore_sqlite(connection: BaseDatabaseWrapper, dump: Path, force: bool) -> None:
    target = Path(connection.settings_dict["NAME"])
    if target.exists() and not force:
        existing = sqlite3.connect(target)
        try:
            tables = _table_names(existing.cursor(), "sqlite")
        finally:
            existing.close()
        if tables:
            raise BackupError(
                _(
                    "The database %(name)s already has tables: restore into an empty database, or add --force "
                    "to replace it."
                )
                % {"name": target}
            )
    connection.close()
    source, destination = sqlite3.connect(dump), sqlite3.connect(target)
    try:
        source.backup(destination)  # replaces the destination's every page
    finally:
        source.close()
        destination.close()


def _restore_media(archive: tarfile.TarFile, media_root: Path, force: bool) -> int:
    if force and media_root.is_dir():
        for entry in media_root.iterdir():  # its contents, not the folder (often a mounted volume)
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    media_root.mkdir(parents=True, exist_ok=True)
    count = 0
    for member in archive:
        if not (member.isfile() and member.name.startswith(MEDIA)):
            continue
        try:
            archive.extract(member.replace(name=member.name.removeprefix(MEDIA)), path=media_root, filter="data")
        except tarfile.FilterError as error:
            raise BackupError(_("The backup holds an unsafe file name: %(name)s") % {"name": member.name}) from error
        count += 1
    return count


def _verified(connection: BaseDatabaseWrapper, manifest: dict, media_files: int) -> Restored:
    """The restored database's row counts and the media files, against the manifest; BackupError on a difference."""
    connection.close()
    with connection.cursor() as cursor:
        restored = _row_counts(cursor, manifest["database"]["vendor"])
        applied = {(app, name) for app, names in _applied_migrations(cursor, restored).items() for name in names}
    differences = [
        _("%(table)s: %(expected)s rows in the backup, %(found)s restored")
        % {"table": table, "expected": expected, "found": restored.get(table, _("no table"))}
        for table, expected in sorted(manifest["tables"].items())
        if restored.get(table) != expected
    ]
    if media_files != manifest["media"]["files"]:
        differences.append(
            _("media: %(expected)s files in the backup, %(found)s restored")
            % {"expected": manifest["media"]["files"], "found": media_files}
        )
    if differences:
        raise BackupError(
            _("The restored data differs from the backup's manifest (%(count)s differences): %(first)s")
            % {"count": len(differences), "first": "; ".join(differences[:MISMATCHES_SHOWN])}
        )
    pending = MigrationLoader(None, ignore_no_migrations=True).disk_migrations.keys() - applied
    return Restored(
        manifest=manifest,
        rows=sum(restored[table] for table in manifest["tables"]),
        media_files=media_files,
        pending_migrations=sorted(f"{app}.{name}" for app, name in pending),
    )


# --- Shared ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    path: str
    version: str  # "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)"
    major: int


def _tool(name: str) -> Tool:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _(
                "%(tool)s was not found: install the PostgreSQL client tools of the server's version (Debian: "
                "apt-get install postgresql-client)."
            )
            % {"tool": name}
        )
    # S603: the PostgreSQL client found on PATH, with our own arguments
    version = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout.strip()  # noqa: S603
    match = re.search(r"\) (\d+)", version)
    if match is None:
        raise BackupError(_("Could not read the version of %(tool)s: %(version)s") % {"tool": name, "version": version})
    return Tool(path, version, int(match.group(1)))


def _run(command: list[str], *, environment: dict[str, str], failure: str) -> None:
    result = subprocess.run(command, env=environment, capture_output=True, text=True)  # noqa: S603 - pg_dump/pg_restore
    if result.returncode:
        detail = "\n".join(result.stderr.strip().splitlines()[-10:])
        raise BackupError(f"{failure}: {detail}")


def _libpq_environment(database: dict) -> dict[str, str]:
    """Connection settings for pg_dump and pg_restore in libpq's variables (a password never on a command line)."""
    options = database.get("OPTIONS", {})
    variables = {
        "PGHOST": database.get("HOST"),
        "PGPORT": database.get("PORT"),
        "PGUSER": database.get("USER"),
        "PGPASSWORD": database.get("PASSWORD"),
        "PGDATABASE": database.get("NAME"),
        **{f"PG{key.upper()}": options.get(key) for key in ("sslmode", "sslrootcert", "sslcert", "sslkey")},
    }
    return {**os.environ, **{key: str(value) for key, value in variables.items() if value}}


def _table_names(cursor, vendor: str) -> list[str]:
    if vendor == "postgresql":
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = ANY(current_schemas(false)) ORDER BY 1")
    else:
        cursor.execute(r"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'")
    return sorted(row[0] for row in cursor.fetchall())


def _row_counts(cursor, vendor: str) -> dict[str, int]:
    counts = {}
    for table in _table_names(cursor, vendor):
        cursor.execute('SELECT count(*) FROM "{}"'.format(table.replace('"', '""')))  # noqa: S608 - a table's name
        counts[table] = cursor.fetchone()[0]
    return counts


def _applied_migrations(cursor, tables: dict[str, int]) -> dict[str, list[str]]:
    if "django_migrations" not in tables:  # a database never migrated
        return {}
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    migrations: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        migrations.setdefault(app, []).append(name)
    return migrations


def _accord_version() -> str:
    try:
        return metadata.version("accord")
    except metadata.PackageNotFoundError:
        return "unknown"
