"""Backup and restore (core/backup.py, ``manage.py backup`` and ``restore``): an agency's data backed up, its database
dropped, restored, and every table's row count, the KPI figures, the uploaded files and the pre-summed invoice totals
are what they were. On PostgreSQL (CI) with pg_dump and pg_restore; on SQLite with SQLite's backup API.

The data lives in a database of its own (``accord_backup_<xdist worker>`` on PostgreSQL, a file on SQLite), a copy
of the test database's schema that this module's fixture puts in place of the default connection for its tests.
"""

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command, get_commands
from django.db import DEFAULT_DB_ALIAS, connections
from django.test import override_settings
from django.utils import timezone

from accounts.models import Role
from contracts.billing import services
from kpis.metrics import Scope, compute
from kpis.models import Metric
from kpis.periods import PeriodKind, current_period
from tests.conftest import XDIST_WORKER, require
from tests.factories import (
    ActiveContractFactory,
    ActivityFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    TeamFactory,
    UserFactory,
)
from tests.kpis.factories import CostEntryFactory, KpiTargetFactory

D = Decimal
LOGO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # a logo's bytes, not all text
FIGURES = (
    Metric.SIGNED_REVENUE,
    Metric.INVOICED_REVENUE,
    Metric.CASH_COLLECTED,
    Metric.GROSS_MARGIN,
    Metric.NEW_CLIENTS,
    Metric.WIN_RATE,
    Metric.PIPELINE_WEIGHTED,
    Metric.OVERDUE_RECEIVABLES,
    Metric.DSO,
    Metric.NET_REVENUE_RETENTION,
)


@pytest.fixture(scope="module")
def agency_backup(django_db_setup, django_db_blocker, tmp_path_factory):
    """A database of its own with an agency's clients, contracts, invoices, payments, costs and KPI targets, an
    uploaded logo, and its backup, with the row counts and KPI figures measured before the backup."""
    original = connections[DEFAULT_DB_ALIAS]
    if original.vendor == "postgresql":
        require(
            shutil.which("pg_dump") is not None and shutil.which("pg_restore") is not None,
            "needs pg_dump and pg_restore (apt-get install postgresql-client)",
        )
    work = tmp_path_factory.mktemp("backup")
    backup = {"original": original, "media_root": work / "media", "archive": work / "accord.tar"}
    with django_db_blocker.unblock():
        backup["name"] = _copy_of_the_test_database(original, work)
        try:
            with _in_place_of_the_test_database(backup):
                _seed()
                backup["logo"] = _upload_logo()
                backup["rows"], backup["figures"] = _row_counts(), _figures()
                call_command("backup", str(backup["archive"]), stdout=io.StringIO(), stderr=io.StringIO())
            yield backup
        finally:
            _drop(original, backup["name"])


@pytest.fixture
def agency(agency_backup):
    """The module's database and media folder in place of the test database's during the test (pytest-django's
    transaction around the test is the test database's: it is opened before and rolled back after this)."""
    with _in_place_of_the_test_database(agency_backup):
        yield agency_backup


@contextmanager
def _in_place_of_the_test_database(backup: dict):
    original = backup["original"]
    own = type(original)({**original.settings_dict, "NAME": backup["name"]}, DEFAULT_DB_ALIAS)
    connections[DEFAULT_DB_ALIAS] = own
    try:
        with override_settings(MEDIA_ROOT=backup["media_root"]):
            yield
    finally:
        own.close()
        connections[DEFAULT_DB_ALIAS] = original


def _copy_of_the_test_database(original, work: Path) -> str:
    """The test database's schema and migration rows in a new database (pg_dump | pg_restore, or SQLite's backup
    API): migrating one from nothing takes far longer, and a template copy would need the test database idle."""
    if original.vendor == "sqlite":
        path = work / "accord_backup.sqlite3"
        original.ensure_connection()
        copy = sqlite3.connect(path)
        original.connection.backup(copy)
        copy.close()
        return str(path)
    name = f"accord_backup_{XDIST_WORKER or 'main'}"
    _drop(original, name)
    with _server(original) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    environment = _libpq(original.settings_dict)
    dump = work / "schema.dump"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}"], env=environment, check=True)
    subprocess.run(["pg_restore", "--no-owner", f"--dbname={name}", str(dump)], env=environment, check=True)
    return name


def _libpq(database: dict) -> dict:
    variables = {"PGHOST": database["HOST"], "PGPORT": database["PORT"], "PGUSER": database["USER"]}
    variables |= {"PGPASSWORD": database["PASSWORD"], "PGDATABASE": database["NAME"]}
    return {**os.environ, **{key: str(value) for key, value in variables.items() if value}}


def _server(original):
    """A connection to the server's ``postgres`` database, outside any transaction, to create and drop others."""
    import psycopg

    database = original.settings_dict
    parameters = {key: database[key.upper()] for key in ("host", "port", "user", "password") if database[key.upper()]}
    return psycopg.connect(dbname="postgres", autocommit=True, **parameters)


def _drop(original, name: str) -> None:
    if original.vendor == "sqlite":
        Path(name).unlink(missing_ok=True)
        return
    with _server(original) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _seed() -> None:
    """Two teams, three account managers, finance and a director; clients with contacts and activities; contracts
    signed this month and earlier, a lost deal and open deals; invoices over the past months in đồng and dollars,
    paid, partly paid, overdue and void; costs; the agency's targets for the month."""
    today = timezone.localdate()
    if "rebuild_kpi_ledger" in get_commands() and connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        # The zone the KPI ledger counts signed months in is a migration's row: a transactional test run before on
        # this test database emptied it, and so the copy.
        call_command("rebuild_kpi_ledger", stdout=io.StringIO())
    finance, director = UserFactory(role=Role.FINANCE), UserFactory(role=Role.DIRECTOR)
    north, south = TeamFactory(name="Hà Nội"), TeamFactory(name="Sài Gòn")
    managers = [UserFactory(team=north), UserFactory(team=north), UserFactory(team=south)]
    contracts = []
    for index, manager in enumerate(managers):
        client = ClientFactory(owner=manager, team=manager.team)
        ContactFactory.create_batch(2, client=client)
        ActivityFactory.create_batch(3, client=client, author=manager)
        contracts.append(ActiveContractFactory(client=client, owner=manager, signed_at=timezone.now()))
        ContractFactory(client=client, stage="negotiation", probability=40, value=D(100_000_000) * (index + 1))
        CostEntryFactory(contract=contracts[-1], amount=D("15000000"), incurred_on=today)
    ContractFactory(client=contracts[0].client, stage="lost", probability=0, lost_reason="Chose another agency")
    dollars = ActiveContractFactory(client=contracts[2].client, owner=managers[2], currency="USD")

    def issue(contract, net: str, issued: date):
        return services.invoice_create(
            contract=contract, actor=finance, description="Retainer", net_amount=D(net), issue_date=issued, issue=True
        )

    this_month = [issue(contracts[0], "120000000", today), issue(contracts[1], "80000000", today)]
    issue(dollars, "1500.00", today)
    services.invoice_void(invoice=issue(contracts[2], "9000000", today), actor=finance, reason="Issued twice")
    services.payment_record(invoice=this_month[0], actor=finance, amount=D("50000000"), received_on=today)
    for months in (2, 5, 9, 13):  # last year's revenue too, for retention
        issued = today.replace(day=1) - timedelta(days=30 * months)
        old = issue(contracts[months % 3], "60000000", issued)
        if months != 2:  # one left overdue
            services.payment_record(invoice=old, actor=finance, amount=old.gross_amount, received_on=issued)
    month = current_period(PeriodKind.MONTH)
    for metric, value in ((Metric.SIGNED_REVENUE, D("900000000")), (Metric.INVOICED_REVENUE, D("250000000"))):
        KpiTargetFactory(
            metric=metric, scope="agency", user=None, period_start=month.start, value=value, set_by=director
        )


def _upload_logo() -> str:
    from django.core.files.storage import default_storage

    return default_storage.save("logos/agency.png", ContentFile(LOGO))


def _row_counts() -> dict[str, int]:
    """Every table's row count, listed by Django's introspection (core/backup.py lists them its own way)."""
    connection = connections[DEFAULT_DB_ALIAS]
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 - a table's name
            counts[table] = cursor.fetchone()[0]
    return counts


def _figures() -> dict:
    """The agency's KPI figures for this month, quarter and year, computed afresh (not from the cache)."""
    from django.core.cache import cache

    cache.clear()
    periods = [current_period(kind) for kind in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR)]
    return {(metric, period.key): compute(metric, Scope.agency(), period) for metric in FIGURES for period in periods}


def _restore(archive: Path, *arguments: str) -> str:
    output = io.StringIO()
    call_command("restore", str(archive), *arguments, stdout=output, stderr=io.StringIO())
    return output.getvalue()


def _rewritten(archive: Path, destination: Path, change) -> Path:
    """A copy of ``archive`` whose manifest ``change(manifest)`` has altered."""
    with tarfile.open(archive) as source, tarfile.open(destination, "w") as copy:
        for member in source:
            content = source.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(content)
                change(manifest)
                content = json.dumps(manifest).encode()
                member.size = len(content)
            copy.addfile(member, io.BytesIO(content))
    return destination


@pytest.mark.django_db
def test_a_dropped_database_comes_back_with_the_same_rows_figures_and_files(agency):
    rows, figures = agency["rows"], agency["figures"]
    month = current_period(PeriodKind.MONTH).key
    # The data set is the one built: not an empty database compared with an empty database.
    assert rows["contracts_invoice"] == 8 and rows["contracts_payment"] == 4 and rows["kpis_kpitarget"] == 2
    assert rows["clients_client"] == 3 and rows["contracts_contract"] == 8
    assert figures[Metric.INVOICED_REVENUE, month].amounts == {"VND": D("200000000"), "USD": D("1500.00")}
    assert figures[Metric.CASH_COLLECTED, month].amounts == {"VND": D("50000000")}
    connection = connections[DEFAULT_DB_ALIAS]

    connection.close()
    _drop(agency["original"], agency["name"])
    shutil.rmtree(agency["media_root"])
    assert not _exists(agency["original"], agency["name"])

    output = _restore(agency["archive"])

    assert f"{len(rows)} tables with {sum(rows.values())} rows and 1 media file, as its manifest lists" in output
    assert _row_counts() == rows
    assert _figures() == figures
    assert (agency["media_root"] / agency["logo"]).read_bytes() == LOGO
    if connection.vendor == "postgresql":
        check = io.StringIO()
        call_command("rebuild_invoice_totals", "--check", stdout=check)
        assert "agree" in check.getvalue()
        if "rebuild_kpi_ledger" in get_commands():  # the KPIs' pre-summed rows (kpis/ledger.py)
            call_command("rebuild_kpi_ledger", "--check", stdout=io.StringIO())


@pytest.mark.django_db
def test_a_restore_refuses_a_database_with_tables_unless_forced(agency):
    (agency["media_root"] / "logos" / "agency.png").unlink()  # an empty media folder: only the database is in the way

    with pytest.raises(CommandError, match="already has tables: restore into an empty database, or add --force"):
        _restore(agency["archive"])

    assert _row_counts() == agency["rows"]
    assert not (agency["media_root"] / "logos" / "agency.png").exists()


@pytest.mark.django_db
def test_a_restore_whose_rows_differ_from_the_manifest_fails(agency, tmp_path):
    def one_more_invoice(manifest):
        manifest["tables"]["contracts_invoice"] += 1

    tampered = _rewritten(agency["archive"], tmp_path / "tampered.tar", one_more_invoice)

    with pytest.raises(CommandError, match=r"contracts_invoice: 9 rows in the backup, 8 restored"):
        _restore(tampered, "--force")


@pytest.mark.django_db
def test_a_backup_from_a_newer_postgresql_is_refused(agency, tmp_path):
    require(connections[DEFAULT_DB_ALIAS].vendor == "postgresql", "PostgreSQL's server versions")

    def newer_server(manifest):
        manifest["database"]["server_major"] += 1

    newer = _rewritten(agency["archive"], tmp_path / "newer.tar", newer_server)

    with pytest.raises(CommandError, match=r"comes from PostgreSQL \d+ but this server runs PostgreSQL \d+"):
        _restore(newer, "--force")

    assert _row_counts() == agency["rows"]  # refused before anything was dropped


def _exists(original, name: str) -> bool:
    if original.vendor == "sqlite":
        return Path(name).exists()
    with _server(original) as server:
        return server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


# --- Bad input: refused with a message, nothing touched --------------------------------------------------------


def test_a_missing_archive_is_refused(tmp_path):
    with pytest.raises(CommandError, match="is not a file"):
        call_command("restore", str(tmp_path / "nowhere.tar"))


def test_a_file_that_is_not_a_tar_is_refused(tmp_path):
    path = tmp_path / "notes.tar"
    path.write_text("not an archive")

    with pytest.raises(CommandError, match=r"is not an Accord backup \(not a \.tar archive\)"):
        call_command("restore", str(path))


def test_a_tar_without_accords_manifest_is_refused(tmp_path):
    path = tmp_path / "other.tar"
    with tarfile.open(path, "w") as archive:
        content = json.dumps({"format": "something-else"}).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))

    with pytest.raises(CommandError, match=r"not an Accord backup: its manifest\.json is not Accord's"):
        call_command("restore", str(path))


def test_a_backup_of_another_kind_of_database_is_refused(tmp_path):
    configured = connections[DEFAULT_DB_ALIAS].vendor
    other = "sqlite" if configured == "postgresql" else "postgresql"
    path = tmp_path / "other-kind.tar"
    with tarfile.open(path, "w") as archive:
        manifest = {"format": "accord-backup", "format_version": 1, "database": {"vendor": other}}
        content = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))

    with pytest.raises(CommandError, match=r"This backup holds a \w+ database but the configured database is"):
        call_command("restore", str(path))


def test_a_backup_without_pg_dump_says_what_to_install(tmp_path, monkeypatch):
    require(connections[DEFAULT_DB_ALIAS].vendor == "postgresql", "pg_dump backs up PostgreSQL only")
    monkeypatch.setattr("core.backup.shutil.which", lambda name: None)

    with pytest.raises(CommandError, match="pg_dump was not found: install the PostgreSQL client tools"):
        call_command("backup", str(tmp_path / "accord.tar"))

    assert list(tmp_path.iterdir()) == []  # no archive, not even a partial one


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_the_commands_explain_themselves(command):
    from django.core.management import load_command_class

    parser = load_command_class("core", command).create_parser("manage.py", command)

    assert "MEDIA_ROOT" in parser.format_help()
