"""CSV import of clients and contacts: the service, the management command and the upload → preview → confirm pages."""

import csv
import io

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from clients import importer
from clients.importer import COLUMNS, ImportFileError, RowError, clients_import
from clients.models import Client, Contact, Tag
from core.errors import ConflictError, PermissionDeniedError
from tests.factories import ClientFactory, ContactFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = "/clients/import/"
NOT_UTF8 = "name\r\nCông ty Cà phê Thái Hà\r\n".encode("cp1258")  # Excel's plain "CSV" on Vietnamese Windows


def csv_bytes(rows: list[dict], *, columns=COLUMNS, bom: bool = False, delimiter: str = ",") -> bytes:
    """A CSV file as Excel's "CSV UTF-8" writes it: the header, then one row per dict (missing cells blank)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()


def errors_of(report) -> list[tuple[int, str, str]]:
    return [(error.row, error.column, error.message) for error in report.errors]


def counts() -> tuple[int, int, int]:
    return Client.objects.count(), Contact.objects.count(), Tag.objects.count()


SUA_VIET = {
    "name": "Sữa Việt",
    "legal_name": "Công ty Cổ phần Sữa Việt",
    "tax_code": "0312345678",
    "industry": "FMCG",
    "tier": "a",
    "status": "Active",
    "billing_currency": "usd",
    "payment_terms_days": "45",
    "website": "suaviet.example",
    "city": "Hồ Chí Minh",
    "tags": "retainer; Tết campaign",
    "contact_name": "Nguyễn Thu Trang",
    "contact_title": "Marketing Director",
    "contact_email": "trang@suaviet.example",
    "contact_language": "English",
    "contact_decision_maker": "có",
    "contact_billing": "không",
}


@pytest.fixture
def account_manager():
    return UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Hà Nội"), email="ha@agency.test")


@pytest.fixture
def director():
    return UserFactory(role=Role.DIRECTOR, email="director@agency.test")


# --- The service: a good file -----------------------------------------------------------------------------


def test_a_good_file_creates_each_client_once_with_its_contacts_tags_owner_and_team(account_manager):
    Tag.objects.create(name="Retainer")
    data = csv_bytes(
        [
            SUA_VIET,
            {"name": "sua viet", "tax_code": "0312345678", "contact_name": "Trần Minh Quân", "contact_billing": "x"},
            {"name": "Gốm Minh Long", "tier": "Tier C", "tags": "retainer"},
            {
                "name": "Blue Harbor",
                "industry": "hospitality",
                "contact_name": "Emily Carter",
                "contact_language": "en",
            },
        ]
    )

    report = clients_import(file=data, actor=account_manager, dry_run=False)

    assert report.errors == []
    assert (report.rows, report.clients, report.contacts) == (4, 3, 3)
    assert Client.objects.count() == 3 and Contact.objects.count() == 3
    sua_viet = Client.objects.get(tax_code="0312345678")
    assert sua_viet.name == "Sữa Việt"
    assert (sua_viet.industry, sua_viet.tier, sua_viet.status) == ("fmcg", "A", "active")
    assert (sua_viet.billing_currency, sua_viet.payment_terms_days) == ("USD", 45)
    assert sua_viet.website == "https://suaviet.example"
    assert (sua_viet.owner, sua_viet.team) == (account_manager, account_manager.team)
    assert sua_viet.search_text == "sua viet cong ty co phan sua viet 0312345678 ho chi minh"
    assert sorted(tag.name for tag in sua_viet.tags.all()) == ["Retainer", "Tết campaign"]
    trang = sua_viet.contacts.get(full_name="Nguyễn Thu Trang")
    quan = sua_viet.contacts.get(full_name="Trần Minh Quân")
    assert (trang.full_name, trang.email, trang.title) == (
        "Nguyễn Thu Trang",
        "trang@suaviet.example",
        "Marketing Director",
    )
    assert (trang.preferred_language, trang.is_decision_maker, trang.is_billing) == ("en", True, False)
    assert trang.search_text == "nguyen thu trang trang@suaviet.example"
    assert (quan.full_name, quan.preferred_language, quan.is_billing) == ("Trần Minh Quân", "vi", True)
    minh_long = Client.objects.get(name="Gốm Minh Long")
    assert (minh_long.tier, minh_long.industry, minh_long.status, minh_long.payment_terms_days) == (
        "C",
        "other",
        "prospect",
        30,
    )
    assert list(minh_long.tags.values_list("name", flat=True)) == ["Retainer"]
    assert minh_long.contacts.count() == 0
    assert Client.objects.get(name="Blue Harbor").contacts.get().full_name == "Emily Carter"
    assert Tag.objects.count() == 2


def test_a_file_with_the_bom_excel_writes_reads_the_first_column(account_manager):
    report = clients_import(file=csv_bytes([{"name": "Vinamilk"}], bom=True), actor=account_manager, dry_run=False)

    assert report.errors == []
    assert Client.objects.get().name == "Vinamilk"


def test_a_semicolon_separated_file_is_read_too(account_manager):
    data = csv_bytes([{"name": "Vinamilk", "tags": "fmcg;retainer"}], columns=["name", "tags"], delimiter=";")

    clients_import(file=data, actor=account_manager, dry_run=False)

    assert sorted(Client.objects.get().tags.values_list("name", flat=True)) == ["fmcg", "retainer"]


def test_a_row_without_tax_code_joins_the_client_of_the_same_name_that_has_one(account_manager):
    data = csv_bytes(
        [
            {"name": "Vinamilk", "contact_name": "An"},
            {"name": "VINAMILK", "tax_code": "0300588569", "city": "Hồ Chí Minh", "contact_name": "Bình"},
        ]
    )

    report = clients_import(file=data, actor=account_manager, dry_run=False)

    assert (report.clients, report.contacts) == (1, 2)
    client = Client.objects.get()
    assert (client.name, client.tax_code, client.city) == ("Vinamilk", "0300588569", "Hồ Chí Minh")


def test_only_the_name_column_is_needed_and_blank_rows_are_skipped(account_manager):
    data = b"name\r\nVinamilk\r\n\r\n,\r\nMasan\r\n"

    report = clients_import(file=data, actor=account_manager, dry_run=False)

    assert (report.rows, report.clients, report.errors) == (2, 2, [])
    assert sorted(Client.objects.values_list("name", flat=True)) == ["Masan", "Vinamilk"]


def test_the_query_count_does_not_grow_with_rows(account_manager):
    Tag.objects.create(name="retainer")

    def queries_for(count: int, start: int) -> int:
        rows = [
            {"name": f"Client {n}", "tax_code": f"{n:010d}", "tags": "retainer", "contact_name": f"Person {n}"}
            | {"contact_email": f"person{n}@client.test", "owner_email": account_manager.email}
            for n in range(start, start + count)
        ]
        with CaptureQueriesContext(connection) as queries:
            clients_import(file=csv_bytes(rows), actor=account_manager, dry_run=False)
        return len(queries.captured_queries)

    # owners by e-mail, existing tax codes, existing contact e-mails; then in a transaction (savepoint here):
    # insert clients, insert contacts, tags by name, insert the client-tag links, release.
    assert queries_for(2, start=1) == queries_for(20, start=100) == 9


def test_a_file_with_only_the_header_creates_nothing_and_the_page_says_so(client, account_manager):
    report = clients_import(file=b"name,tax_code\r\n", actor=account_manager, dry_run=False)
    assert (report.rows, report.clients, report.errors) == (0, 0, [])
    client.force_login(account_manager)

    response = client.post(IMPORT_URL, {"preview": "1", "file": upload(b"name,tax_code\r\n")})

    assert "The file has a header but no rows to import." in response.content.decode()
    assert 'name="confirm"' not in response.content.decode()


# --- The service: errors ----------------------------------------------------------------------------------


def test_bad_rows_are_reported_by_excel_row_and_column_and_nothing_is_written(account_manager):
    data = csv_bytes(
        [
            {"name": "", "legal_name": "Nameless Ltd"},
            {"name": "Bad Codes", "tax_code": "12345", "industry": "mining", "tier": "D", "status": "lost"},
            {"name": "Bad Money", "billing_currency": "EUR", "payment_terms_days": "400", "website": "not a site"},
            {"name": "Bad Contact", "contact_email": "nobody@", "contact_name": "Ai", "contact_billing": "maybe"},
            {"name": "No Contact Name", "contact_email": "someone@client.test"},
            {"name": "Excel Zero", "tax_code": "312345678", "contact_name": "Hoa", "contact_language": "fr"},
        ]
    )
    before = counts()

    report = clients_import(file=data, actor=account_manager, dry_run=False)

    assert errors_of(report) == [
        (2, "name", "A client needs a name."),
        (
            3,
            "tax_code",
            "A Vietnamese tax code has 10 digits, or 10 digits, a dash and 3 digits for a branch.",
        ),
        (
            3,
            "industry",
            "Unknown value “mining”. Use one of: fmcg, banking, real_estate, ecommerce, telecom, "
            "technology, automotive, healthcare, education, hospitality, other.",
        ),
        (3, "tier", "Unknown value “D”. Use one of: A, B, C."),
        (3, "status", "Unknown value “lost”. Use one of: prospect, active, at_risk, churned."),
        (4, "billing_currency", "Unknown value “EUR”. Use one of: VND, USD."),
        (4, "payment_terms_days", "Payment terms are a whole number of days from 0 to 365."),
        (4, "website", "Not a valid web address."),
        (5, "contact_email", "Not a valid e-mail address."),
        (5, "contact_billing", "Write yes or no (or true/false, 1/0, x, có/không)."),
        (6, "contact_name", "This row has contact details but no contact name."),
        (7, "tax_code", "A tax code has 10 digits; Excel may have dropped a leading 0 (format the column as text)."),
        (7, "contact_language", "Unknown language “fr”. Use vi or en."),
    ]
    assert str(report.errors[0]) == "row 2, column name: A client needs a name."
    assert counts() == before


def test_a_tax_code_already_used_by_a_client_is_a_duplicate(account_manager):
    ClientFactory(tax_code="0312345678")
    before = counts()

    report = clients_import(
        file=csv_bytes([{"name": "Vinamilk"}, {"name": "Sữa Việt", "tax_code": "0312345678"}]),
        actor=account_manager,
        dry_run=False,
    )

    assert errors_of(report) == [(3, "tax_code", "A client with this tax code already exists.")]
    assert counts() == before


def test_a_contact_email_already_in_accord_is_a_duplicate_whatever_its_case(account_manager):
    ContactFactory(email="Trang@SuaViet.example", client=ClientFactory(owner=account_manager))
    before = counts()

    report = clients_import(file=csv_bytes([SUA_VIET]), actor=account_manager, dry_run=False)

    assert errors_of(report) == [(2, "contact_email", "A contact with this e-mail already exists.")]
    assert counts() == before


def test_repeats_within_the_file_are_reported_on_the_later_row(account_manager):
    data = csv_bytes(
        [
            SUA_VIET,
            {"name": "Masan", "tax_code": "0312345678"},
            {"name": "Vinamilk", "contact_name": "Lan", "contact_email": "TRANG@suaviet.example"},
            {"name": "Sữa Việt", "tax_code": "0312345678", "tier": "B", "owner_email": "ha@agency.test"},
        ]
    )

    report = clients_import(file=data, actor=account_manager, dry_run=True)

    assert errors_of(report) == [
        (3, "tax_code", "Row 2 gives this tax code to another client, “Sữa Việt”."),
        (4, "contact_email", "This e-mail is also on row 2."),
        (5, "tier", "Differs from row 2 of the same client (“A”)."),
    ]


def test_a_name_shared_by_two_tax_codes_needs_the_tax_code(account_manager):
    data = csv_bytes(
        [
            {"name": "Vinamilk", "tax_code": "0300588569"},
            {"name": "Vinamilk", "tax_code": "0300588569-001"},
            {"name": "Vinamilk", "contact_name": "An"},
        ]
    )

    report = clients_import(file=data, actor=account_manager, dry_run=True)

    assert errors_of(report) == [
        (4, "tax_code", "Several clients in the file are called “Vinamilk”; give the tax code to say which one.")
    ]


def test_header_problems_are_reported_on_row_one(account_manager):
    data = b"legal_name,emial\r\nVinamilk JSC,a@b.test\r\n"

    report = clients_import(file=data, actor=account_manager, dry_run=True)

    assert errors_of(report) == [
        (1, "emial", "Unknown column. Check its spelling against the list."),
        (1, "name", "The header has no “name” column; it is required."),
    ]


def test_a_row_longer_than_the_header_is_an_error(account_manager):
    report = clients_import(file=b"name,city\r\nVinamilk,HCM,extra\r\n", actor=account_manager, dry_run=True)

    assert errors_of(report) == [(2, "", "This row has more cells than the header has columns.")]
    assert str(report.errors[0]) == "row 2: This row has more cells than the header has columns."


def test_a_file_that_is_not_utf8_is_refused_with_a_clear_message(account_manager):
    data = NOT_UTF8

    with pytest.raises(ImportFileError) as error:
        clients_import(file=data, actor=account_manager, dry_run=True)

    assert "not UTF-8" in error.value.message
    assert Client.objects.count() == 0


def test_an_empty_file_is_refused(account_manager):
    with pytest.raises(ImportFileError, match="empty"):
        clients_import(file=b"", actor=account_manager, dry_run=True)


def test_nothing_is_written_if_someone_creates_the_same_client_meanwhile(account_manager, monkeypatch):
    ClientFactory(tax_code="0312345678")
    monkeypatch.setattr(importer._Validator, "_check_existing_tax_codes", lambda self, groups: None)
    before = counts()

    with pytest.raises(ConflictError):
        clients_import(file=csv_bytes([{"name": "Masan"}, SUA_VIET]), actor=account_manager, dry_run=False)

    assert counts() == before


# --- The service: dry run and permissions -----------------------------------------------------------------


def test_a_dry_run_reports_what_would_be_created_and_writes_nothing(account_manager):
    before = counts()

    report = clients_import(file=csv_bytes([SUA_VIET, {"name": "Masan"}]), actor=account_manager, dry_run=True)

    assert (report.dry_run, report.clients, report.contacts, report.errors) == (True, 2, 1, [])
    assert [(plan.row, plan.client.name, len(plan.contacts)) for plan in report.preview] == [
        (2, "Sữa Việt", 1),
        (3, "Masan", 0),
    ]
    assert report.preview[0].tags == ["retainer", "Tết campaign"]
    assert counts() == before


def test_an_account_manager_cannot_import_clients_for_someone_else(account_manager):
    colleague = UserFactory(role=Role.ACCOUNT_MANAGER, email="lan@agency.test")

    report = clients_import(
        file=csv_bytes(
            [{"name": "Vinamilk", "owner_email": colleague.email}, {"name": "Masan", "owner_email": "HA@agency.test"}]
        ),
        actor=account_manager,
        dry_run=False,
    )

    assert errors_of(report) == [(2, "owner_email", "Only a director can import clients for someone else.")]
    assert Client.objects.count() == 0


def test_a_director_imports_clients_for_the_owners_named_in_the_file(director, account_manager):
    sales = UserFactory(role=Role.SALES, email="nhu@agency.test", team=TeamFactory(name="Sài Gòn"))
    data = csv_bytes(
        [
            {"name": "Vinamilk", "owner_email": "HA@AGENCY.TEST"},
            {"name": "Masan", "owner_email": sales.email},
            {"name": "Sabeco"},
        ]
    )

    clients_import(file=data, actor=director, dry_run=False)

    owners = {client.name: (client.owner, client.team) for client in Client.objects.all()}
    assert owners == {
        "Vinamilk": (account_manager, account_manager.team),
        "Masan": (sales, sales.team),
        "Sabeco": (director, None),
    }


def test_an_owner_must_be_an_active_user_who_may_own_clients(director):
    finance = UserFactory(role=Role.FINANCE, email="phuc@agency.test", full_name="Lê Văn Phúc")
    UserFactory(role=Role.ACCOUNT_MANAGER, email="gone@agency.test", is_active=False)
    data = csv_bytes(
        [
            {"name": "A", "owner_email": finance.email},
            {"name": "B", "owner_email": "gone@agency.test"},
            {"name": "C", "owner_email": "nobody@agency.test"},
        ]
    )

    report = clients_import(file=data, actor=director, dry_run=True)

    assert errors_of(report) == [
        (2, "owner_email", "Lê Văn Phúc cannot own clients (Finance)."),
        (3, "owner_email", "No active user has the e-mail gone@agency.test."),
        (4, "owner_email", "No active user has the e-mail nobody@agency.test."),
    ]


def test_finance_cannot_import_clients():
    finance = UserFactory(role=Role.FINANCE)

    with pytest.raises(PermissionDeniedError):
        clients_import(file=csv_bytes([{"name": "Vinamilk"}]), actor=finance, dry_run=True)


# --- The management command -------------------------------------------------------------------------------


def test_the_command_imports_a_file_and_prints_a_summary(tmp_path, account_manager):
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes([SUA_VIET, {"name": "Masan"}], bom=True))
    out = io.StringIO()

    call_command("import_clients", str(path), "--owner", "HA@agency.test", stdout=out)

    assert out.getvalue().strip() == "Imported. Rows: 2; clients created: 2; contacts: 1."
    assert set(Client.objects.values_list("owner", flat=True)) == {account_manager.pk}


def test_the_command_dry_run_writes_nothing(tmp_path, account_manager):
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes([SUA_VIET]))
    out = io.StringIO()

    call_command("import_clients", str(path), "--owner", account_manager.email, "--dry-run", stdout=out)

    assert out.getvalue().strip() == "Dry run, nothing written. Rows: 1; clients to create: 1; contacts: 1."
    assert Client.objects.count() == 0


def test_the_command_prints_each_error_and_fails_with_nothing_written(tmp_path, account_manager):
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes([{"name": "Masan"}, {"name": "", "tier": "Z"}]))
    err = io.StringIO()

    with pytest.raises(CommandError, match=r"Errors: 2 \(in 2 rows\)\. Nothing was imported\."):
        call_command("import_clients", str(path), "--owner", account_manager.email, stderr=err)

    assert err.getvalue().splitlines() == [
        "row 3, column name: A client needs a name.",
        "row 3, column tier: Unknown value “Z”. Use one of: A, B, C.",
    ]
    assert Client.objects.count() == 0


def test_the_command_needs_an_existing_active_user_and_a_readable_utf8_file(tmp_path, account_manager):
    path = tmp_path / "clients.csv"
    path.write_bytes(NOT_UTF8)

    with pytest.raises(CommandError, match=r"No active user has the e-mail nobody@agency\.test"):
        call_command("import_clients", str(path), "--owner", "nobody@agency.test")
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_clients", str(path), "--owner", account_manager.email)
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_clients", str(tmp_path / "missing.csv"), "--owner", account_manager.email)
    finance = UserFactory(role=Role.FINANCE)
    with pytest.raises(CommandError, match="Only account managers, sales and directors import clients"):
        call_command("import_clients", str(path), "--owner", finance.email)


# --- The pages --------------------------------------------------------------------------------------------


def upload(content: bytes, name: str = "clients.csv", content_type: str = "text/csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_the_import_page_needs_a_signed_in_user_who_may_create_clients(client):
    assert client.get(IMPORT_URL).url.startswith("/login/?next=")
    client.force_login(UserFactory(role=Role.FINANCE))

    assert client.get(IMPORT_URL).status_code == 403
    assert client.post(IMPORT_URL, {"preview": "1", "file": upload(csv_bytes([{"name": "A"}]))}).status_code == 403
    assert client.get("/clients/import/example.csv").status_code == 403
    assert Client.objects.count() == 0


def test_the_import_page_shows_the_upload_form_and_the_columns(client, account_manager):
    client.force_login(account_manager)

    response = client.get(IMPORT_URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in page
    assert 'accept=".csv,text/csv"' in page
    assert all(f"<code>{column}</code>" in page for column in COLUMNS)
    assert "/clients/import/example.csv" in page


def test_upload_preview_then_confirm_imports_the_file(client, account_manager):
    client.force_login(account_manager)

    preview = client.post(IMPORT_URL, {"preview": "1", "file": upload(csv_bytes([SUA_VIET, {"name": "Masan"}]))})

    page = preview.content.decode()
    assert preview.status_code == 200
    assert "Nguyễn Thu Trang" in page and "Masan" in page and 'name="confirm"' in page
    assert preview.context["report"].clients == 2
    assert Client.objects.count() == 0
    digest = preview.context["pending"]["digest"]

    confirm = client.post(IMPORT_URL, {"confirm": "1", "digest": digest})

    assert confirm.status_code == 302 and confirm.url == "/clients/"
    assert [str(m) for m in get_messages(confirm.wsgi_request)] == ["Import done. Clients created: 2; contacts: 1."]
    assert sorted(Client.objects.values_list("name", flat=True)) == ["Masan", "Sữa Việt"]
    assert Contact.objects.get().full_name == "Nguyễn Thu Trang"
    again = client.post(IMPORT_URL, {"confirm": "1", "digest": digest})
    assert again.url == IMPORT_URL and Client.objects.count() == 2


def test_a_client_created_between_preview_and_confirmation_stops_the_import(client, account_manager):
    client.force_login(account_manager)
    preview = client.post(IMPORT_URL, {"preview": "1", "file": upload(csv_bytes([{"name": "Masan"}, SUA_VIET]))})
    ClientFactory(tax_code=SUA_VIET["tax_code"])

    response = client.post(IMPORT_URL, {"confirm": "1", "digest": preview.context["pending"]["digest"]})

    assert response.status_code == 200
    assert "<td>3</td><td><code>tax_code</code></td><td>A client with this tax code already exists.</td>" in (
        response.content.decode()
    )
    assert Client.objects.count() == 1


def test_a_file_with_problems_shows_the_error_table_and_offers_no_confirmation(client, account_manager):
    client.force_login(account_manager)

    response = client.post(IMPORT_URL, {"preview": "1", "file": upload(csv_bytes([{"name": "A", "tier": "Z"}]))})

    page = response.content.decode()
    assert response.status_code == 200
    assert "The file has 1 problem. Nothing was imported." in page
    assert "<td>2</td><td><code>tier</code></td><td>Unknown value “Z”. Use one of: A, B, C.</td>" in page
    assert 'name="confirm"' not in page
    assert "clients_import" not in client.session


def test_a_confirmation_that_does_not_match_the_preview_imports_nothing(client, account_manager):
    client.force_login(account_manager)
    client.post(IMPORT_URL, {"preview": "1", "file": upload(csv_bytes([{"name": "Masan"}]))})

    response = client.post(IMPORT_URL, {"confirm": "1", "digest": "something-else"})

    assert response.url == IMPORT_URL
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "The previewed file is no longer here. Upload it again."
    ]
    assert Client.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "name", "content_type", "message"),
    [
        (NOT_UTF8, "clients.csv", "text/csv", "The file is not UTF-8 text"),
        (b"PK\x03\x04\x00\x00", "clients.xlsx", "application/vnd.ms-excel", "Upload a .csv file."),
        (b"name\r\nA\x00\r\n", "clients.csv", "text/csv", "This is not a CSV file."),
        (b"", "clients.csv", "text/csv", "The submitted file is empty."),
    ],
)
def test_a_wrong_file_is_a_form_error_not_a_crash(client, account_manager, content, name, content_type, message):
    client.force_login(account_manager)

    response = client.post(IMPORT_URL, {"preview": "1", "file": upload(content, name, content_type)})

    assert response.status_code == 200
    assert message in response.context["form"].errors["file"][0]
    assert Client.objects.count() == 0


def test_a_file_over_five_megabytes_is_refused(client, account_manager):
    client.force_login(account_manager)
    content = b"name\r\n" + b"A" * (5 * 1024 * 1024)

    response = client.post(IMPORT_URL, {"preview": "1", "file": upload(content)})

    assert response.context["form"].errors["file"] == [
        "The file is 5.0\xa0MB; the limit is 5.0\xa0MB. Split it into several files."
    ]


def test_the_example_file_is_valid_and_opens_in_excel(client, account_manager):
    client.force_login(account_manager)

    response = client.get("/clients/import/example.csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="accord-client-import-example.csv"' in response["Content-Disposition"]
    assert response.content.startswith("\ufeffname,legal_name,tax_code".encode())
    report = clients_import(file=response.content, actor=account_manager, dry_run=True)
    assert (report.errors, report.clients, report.contacts) == ([], 3, 3)


def test_row_errors_read_like_the_command_prints_them():
    assert str(RowError(12, "tax_code", "Wrong.")) == "row 12, column tax_code: Wrong."


def test_the_import_does_not_reveal_contacts_the_importer_may_not_see(account_manager):
    ContactFactory(email="Trang@SuaViet.example")  # at another team's client

    report = clients_import(file=csv_bytes([SUA_VIET]), actor=account_manager, dry_run=True)

    assert errors_of(report) == []
