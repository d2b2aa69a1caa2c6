"""CSV import of clients and their contacts: every row is validated first, then everything is written or nothing.

One format, one row per contact. UTF-8 with or without the BOM Excel writes ("CSV UTF-8"); comma, semicolon or
tab separated (read from the header row). The header row names the columns, in any order; only ``name`` is
required, any other column may be left out or left blank:

    name                    the client's trading name (required)
    legal_name              registered company name
    tax_code                Vietnamese tax code (MST): 10 digits, or 10 digits, a dash and 3 digits for a branch
    industry                code or English label: fmcg, banking, real_estate, ecommerce, telecom, technology,
                            automotive, healthcare, education, hospitality, other (default other)
    tier                    A, B or C (default B)
    status                  prospect, active, at_risk or churned (default prospect)
    owner_email             the owner: an active account manager, sales person or director (default: the importer)
    billing_currency        VND or USD (default VND)
    payment_terms_days      whole number of days, 0 to 365 (default 30)
    website                 web address; https:// is added when no scheme is given
    phone, city, address
    tags                    separated by ';'
    contact_name            the contact on this row; blank for a row that only defines the client
    contact_title, contact_email, contact_phone
    contact_language        vi or en (default vi)
    contact_decision_maker  yes/no, true/false, 1/0, x, có/không (blank is no)
    contact_billing         the same; billing contacts receive the collection e-mails

Codes and labels are matched ignoring case and diacritics; Vietnamese labels are accepted too.

Rows with the same client key make one client with several contacts. The key is the tax code when there is one,
otherwise the name (case and diacritics ignored); a row without a tax code joins the client of the same name that
has one. Later rows of a client may leave the client columns blank; where two rows both fill a column in, they must
agree. Tags of all the rows of a client are combined.

Refused as duplicates: a tax code already used by a client, a tax code given to two different names in the file,
a contact e-mail already used by a contact or repeated in the file.

Errors name the row as Excel shows it (the header is row 1) and the column.
"""

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, models, transaction
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.permissions import has_role, is_director
from clients.models import EMAIL_PATTERN, TAX_CODE_PATTERN, Client, ClientStatus, Contact, Industry, Language, Tag, Tier
from clients.models import tax_code_validator as _tax_code_validator
from clients.text import fold
from core.errors import ConflictError, DomainError, PermissionDeniedError
from core.money import Currency

CLIENT_COLUMNS = (
    "name",
    "legal_name",
    "tax_code",
    "industry",
    "tier",
    "status",
    "owner_email",
    "billing_currency",
    "payment_terms_days",
    "website",
    "phone",
    "city",
    "address",
    "tags",
)
CONTACT_COLUMNS = (
    "contact_name",
    "contact_title",
    "contact_email",
    "contact_phone",
    "contact_language",
    "contact_decision_maker",
    "contact_billing",
)
COLUMNS = CLIENT_COLUMNS + CONTACT_COLUMNS
HEADER_ROW = 1

# Client model field → its column, for the fields rows of one client must agree on.
CLIENT_FIELD_COLUMNS = {column: column for column in CLIENT_COLUMNS if column not in ("owner_email", "tags")}
CONTACT_FIELD_COLUMNS = {
    "full_name": "contact_name",
    "title": "contact_title",
    "email": "contact_email",
    "phone": "contact_phone",
    "preferred_language": "contact_language",
    "is_decision_maker": "contact_decision_maker",
    "is_billing": "contact_billing",
}
CHOICE_COLUMNS = {"industry": Industry, "tier": Tier, "status": ClientStatus, "billing_currency": Currency}
TEXT_COLUMNS = ("legal_name", "phone", "city", "address")
IMPORTER_ROLES = (Role.ACCOUNT_MANAGER, Role.SALES, Role.DIRECTOR, Role.ADMIN)
OWNER_ROLES = (Role.ACCOUNT_MANAGER, Role.SALES, Role.DIRECTOR)
TRUE_WORDS = frozenset({"yes", "y", "true", "1", "x", "co"})  # folded: "có" → "co"
FALSE_WORDS = frozenset({"", "no", "n", "false", "0", "khong"})  # "không" → "khong"
LANGUAGE_ALIASES = {"vietnamese": Language.VI, "tieng viet": Language.VI, "tieng anh": Language.EN}
MAX_PAYMENT_TERMS_DAYS = 365
QUERY_BATCH = 900  # IN (...) lists stay under SQLite's oldest variable limit (999)
WRITE_BATCH = 2000

TAX_CODE_RE = re.compile(TAX_CODE_PATTERN)
EMAIL_RE = re.compile(EMAIL_PATTERN)
_url_validator = URLValidator()


class ImportFileError(DomainError):
    """The file cannot be read as CSV text at all (not UTF-8, binary, empty)."""

    default_code = "import_file"


@dataclass(frozen=True)
class RowError:
    """One problem: the row as Excel numbers it (the header is row 1), the column, and what is wrong."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if not self.column:
            return _("row %(row)d: %(message)s") % {"row": self.row, "message": self.message}
        return _("row %(row)d, column %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class ContactPlan:
    row: int
    contact: Contact


@dataclass
class ClientPlan:
    """A client the import creates (or would create in a dry run), with the rows it came from."""

    row: int
    client: Client
    tags: list[str]
    contacts: list[ContactPlan]


@dataclass
class ImportReport:
    """What an import created (or would create, in a dry run); with errors, nothing was written."""

    clients: int = 0
    contacts: int = 0
    errors: list[RowError] = field(default_factory=list)
    preview: list[ClientPlan] = field(default_factory=list)
    rows: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


# Files that decode as UTF-8 but are something else (a document, an image, markup renamed to .csv), by their first
# bytes; and control characters no spreadsheet writes into CSV (NUL and the rest of C0 but tab, line breaks, the
# vertical tab and form feed Excel may keep from a cell's text), the mark of a binary file.
BINARY_SIGNATURES = (b"%PDF-", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0", b"MZ", b"RIFF")
MARKUP_SIGNATURES = (b"<?xml", b"<svg", b"<!doctype", b"<html", b"<script")
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


def _is_another_format(data: bytes) -> bool:
    """True for a document, image or page renamed to .csv: known first bytes, or control characters."""
    head = data.removeprefix(b"\xef\xbb\xbf")[:64]
    return head.startswith(BINARY_SIGNATURES) or head.lstrip().lower().startswith(MARKUP_SIGNATURES)


def decode_csv(data: bytes) -> str:
    """The file's text: UTF-8 with or without a BOM. Raises ImportFileError for anything else."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _(
                "The file is not UTF-8 text (unreadable byte at position %(position)d). "
                "In Excel, save it as “CSV UTF-8 (Comma delimited)”."
            )
            % {"position": error.start + 1}
        ) from error
    if _is_another_format(data) or CONTROL_CHARACTERS.search(text):
        raise ImportFileError(_("This is not a CSV file. In Excel, save the sheet as “CSV UTF-8 (Comma delimited)”."))
    return text


def content_digest(text: str) -> str:
    """A fingerprint of the file's text, so a confirmation imports exactly the file that was previewed."""
    return hashlib.sha256(text.encode()).hexdigest()


def clients_import(*, file: bytes | str | IO[bytes], actor: User, dry_run: bool) -> ImportReport:
    """Import clients and contacts from CSV (format in the module docstring), all or nothing.

    Every row is validated before anything is written; with any error, or with ``dry_run``, nothing is written
    and the report says what is wrong or what would be created. Otherwise all rows are written in one transaction.
    Raises PermissionDeniedError if the actor may not import clients, ImportFileError if the file is not UTF-8
    CSV, ConflictError if someone created one of the same clients or contacts while the import ran.
    """
    if not has_role(actor, *IMPORTER_ROLES):
        raise PermissionDeniedError(_("Only account managers, sales and directors import clients."))
    text = _text_of(file)
    header, records = _read_csv(text)
    data_rows = sum(1 for _number, cells in records if any(cell.strip() for cell in cells))
    report = ImportReport(rows=data_rows, dry_run=dry_run)
    report.errors = _header_errors(header)
    if report.errors:
        return report
    plans, report.errors = _Validator(actor=actor, header=header, records=records).run()
    report.preview = plans
    report.clients = len(plans)
    report.contacts = sum(len(plan.contacts) for plan in plans)
    if report.errors or dry_run:
        return report
    try:
        _write(plans)
    except IntegrityError as error:
        raise ConflictError(
            _("Someone added one of these clients or contacts while the import ran. Nothing was imported; try again.")
        ) from error
    return report


# --- Reading ----------------------------------------------------------------------------------------------


def _text_of(file: bytes | str | IO[bytes]) -> str:
    if isinstance(file, str):
        return file.removeprefix("\ufeff")
    data = file if isinstance(file, bytes) else file.read()
    return decode_csv(data)


def _read_csv(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (column names, trimmed and lower-cased) and the other records with their Excel row numbers."""
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    try:
        for number, cells in enumerate(reader, start=HEADER_ROW):
            records.append((number, cells))
    except csv.Error as error:
        raise ImportFileError(
            _("Row %(row)d cannot be read as CSV: %(error)s") % {"row": len(records) + 1, "error": error}
        ) from error
    if not records or not any(cell.strip() for cell in records[0][1]):
        raise ImportFileError(_("The file is empty: the first row must name the columns."))
    header = [cell.strip().lower() for cell in records[0][1]]
    return header, records[1:]


def _header_errors(header: list[str]) -> list[RowError]:
    errors = []
    seen = set()
    for column in header:
        if not column:
            continue
        if column not in COLUMNS:
            errors.append(RowError(HEADER_ROW, column, _("Unknown column. Check its spelling against the list.")))
        elif column in seen:
            errors.append(RowError(HEADER_ROW, column, _("This column appears twice.")))
        seen.add(column)
    if "name" not in seen:
        errors.append(RowError(HEADER_ROW, "name", _("The header has no “name” column; it is required.")))
    return errors


# --- Validation -------------------------------------------------------------------------------------------


@dataclass
class _Row:
    """One data row, checked on its own: the client fields it fills in, its owner, tags and contact."""

    number: int
    fields: dict[str, Any]
    owner: User | None = None
    tags: list[str] = field(default_factory=list)
    contact: Contact | None = None


@dataclass
class _Group:
    """The rows of one client, merged."""

    row: int
    fields: dict[str, tuple[Any, int]] = field(default_factory=dict)
    owner: tuple[User, int] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    contacts: list[ContactPlan] = field(default_factory=list)


def _max_length(model: type[models.Model], name: str) -> int | None:
    return model._meta.get_field(name).max_length


def _choice_lookup(choices: type[models.TextChoices]) -> dict[str, str]:
    """Folded code or label (in every language Accord speaks) → code."""
    lookup: dict[str, str] = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for value, label in choices.choices:
                lookup.setdefault(fold(str(label)), value)
    lookup.update({fold(value): value for value in choices.values})
    return lookup


def _unwrap(cell: str) -> str:
    """Trim a cell; Excel's ="0123" trick (keeps leading zeros) counts as 0123."""
    cell = cell.strip()
    if cell.startswith('="') and cell.endswith('"') and len(cell) >= 3:
        return cell[2:-1].strip()
    return cell


class _Validator:
    """Checks every row, then the rows of each client together, then the database; collects every error."""

    def __init__(self, *, actor: User, header: list[str], records: list[tuple[int, list[str]]]):
        self.actor = actor
        self.header = header
        self.records = records
        self.errors: list[RowError] = []
        self.owners: dict[str, User] = {}
        self.lookups = {column: _choice_lookup(choices) for column, choices in CHOICE_COLUMNS.items()}
        self.languages = {**_choice_lookup(Language), **LANGUAGE_ALIASES}

    def run(self) -> tuple[list[ClientPlan], list[RowError]]:
        values = [(number, self._values(number, cells)) for number, cells in self.records]
        values = [(number, row) for number, row in values if row is not None]
        self.owners = self._owners_by_email({row.get("owner_email", "").lower() for _number, row in values})
        rows = [self._row(number, row) for number, row in values]
        groups = self._group(rows)
        self._check_existing_tax_codes(groups)
        self._check_contact_emails(groups)
        plans = [self._plan(group) for group in groups.values()]
        order = {column: index for index, column in enumerate(("", *COLUMNS))}
        self.errors.sort(key=lambda error: (error.row, order.get(error.column, len(order))))
        return plans, self.errors

    def fail(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, message))

    # One row on its own.

    def _values(self, number: int, cells: list[str]) -> dict[str, str] | None:
        """Column → trimmed cell; None for a blank row (Excel leaves some at the end)."""
        if not any(cell.strip() for cell in cells):
            return None
        if any(cell.strip() for cell in cells[len(self.header) :]):
            self.fail(number, "", _("This row has more cells than the header has columns."))
        return {column: _unwrap(cell) for column, cell in zip(self.header, cells, strict=False) if column}

    def _row(self, number: int, values: dict[str, str]) -> _Row:
        row = _Row(number=number, fields={})
        name = values.get("name", "")
        if not name:
            self.fail(number, "name", _("A client needs a name."))
        for column in ("name", *TEXT_COLUMNS):
            if values.get(column) and self._fits(number, column, values[column], _max_length(Client, column)):
                row.fields[column] = values[column]
        if values.get("tax_code"):
            self._tax_code(row, values["tax_code"])
        for column, lookup in self.lookups.items():
            if values.get(column):
                row.fields[column] = self._choice(number, column, values[column], lookup)
        if values.get("payment_terms_days"):
            row.fields["payment_terms_days"] = self._payment_terms(number, values["payment_terms_days"])
        if values.get("website"):
            row.fields["website"] = self._website(number, values["website"])
        if values.get("owner_email"):
            row.owner = self._owner(number, values["owner_email"])
        row.tags = self._tags(number, values.get("tags", ""))
        row.contact = self._contact(number, values)
        return row

    def _fits(self, number: int, column: str, value: str, limit: int | None) -> bool:
        if limit is not None and len(value) > limit:
            self.fail(
                number,
                column,
                _("At most %(limit)d characters (this has %(length)d).") % {"limit": limit, "length": len(value)},
            )
            return False
        return True

    def _tax_code(self, row: _Row, value: str) -> None:
        if value.isdigit() and len(value) == 9:
            self.fail(
                row.number,
                "tax_code",
                _("A tax code has 10 digits; Excel may have dropped a leading 0 (format the column as text)."),
            )
        elif not TAX_CODE_RE.fullmatch(value):
            self.fail(row.number, "tax_code", str(_tax_code_validator.message))
        else:
            row.fields["tax_code"] = value

    def _choice(self, number: int, column: str, value: str, lookup: dict[str, str]) -> str | None:
        code = lookup.get(fold(value))
        if code is None:
            codes = ", ".join(CHOICE_COLUMNS[column].values)
            self.fail(
                number,
                column,
                _("Unknown value “%(value)s”. Use one of: %(codes)s.") % {"value": value, "codes": codes},
            )
        return code

    def _payment_terms(self, number: int, value: str) -> int | None:
        if value.isascii() and value.isdigit() and int(value) <= MAX_PAYMENT_TERMS_DAYS:
            return int(value)
        self.fail(number, "payment_terms_days", _("Payment terms are a whole number of days from 0 to 365."))
        return None

    def _website(self, number: int, value: str) -> str | None:
        address = value if "://" in value else f"https://{value}"
        try:
            _url_validator(address)
        except ValidationError:
            self.fail(number, "website", _("Not a valid web address."))
            return None
        return address if self._fits(number, "website", address, _max_length(Client, "website")) else None

    def _owner(self, number: int, email: str) -> User | None:
        owner = self.owners.get(email.lower())
        if owner is None or not owner.is_active:
            self.fail(number, "owner_email", _("No active user has the e-mail %(email)s.") % {"email": email})
            return None
        if owner.pk == self.actor.pk:
            return owner
        if not is_director(self.actor):
            self.fail(number, "owner_email", _("Only a director can import clients for someone else."))
            return None
        if owner.role not in OWNER_ROLES:
            self.fail(
                number,
                "owner_email",
                _("%(name)s cannot own clients (%(role)s).") % {"name": owner, "role": owner.get_role_display()},
            )
            return None
        return owner

    def _owners_by_email(self, emails: set[str]) -> dict[str, User]:
        emails.discard("")
        owners: dict[str, User] = {}
        for batch in _batches(sorted(emails)):
            users = User.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=batch)
            owners.update({user.email_lower: user for user in users})
        return owners

    def _tags(self, number: int, value: str) -> list[str]:
        tags = [tag.strip() for tag in value.split(";") if tag.strip()]
        limit = _max_length(Tag, "name")
        if any(len(tag) > limit for tag in tags):
            self.fail(number, "tags", _("A tag has at most %(limit)d characters.") % {"limit": limit})
            return []
        return tags

    def _contact(self, number: int, values: dict[str, str]) -> Contact | None:
        if not values.get("contact_name"):
            if any(values.get(column) for column in CONTACT_COLUMNS):
                self.fail(number, "contact_name", _("This row has contact details but no contact name."))
            return None
        contact = Contact()
        for name in ("full_name", "title", "phone"):
            column = CONTACT_FIELD_COLUMNS[name]
            if self._fits(number, column, values.get(column, ""), _max_length(Contact, name)):
                setattr(contact, name, values.get(column, ""))
        if values.get("contact_email"):
            contact.email = self._email(number, values["contact_email"])
        if values.get("contact_language"):
            contact.preferred_language = self._language(number, values["contact_language"])
        contact.is_decision_maker = self._flag(
            number, "contact_decision_maker", values.get("contact_decision_maker", "")
        )
        contact.is_billing = self._flag(number, "contact_billing", values.get("contact_billing", ""))
        return contact

    def _email(self, number: int, value: str) -> str:
        try:
            validate_email(value)
        except ValidationError:
            valid = False
        else:
            valid = EMAIL_RE.fullmatch(value) is not None  # the database's check on contacts
        if not valid:
            self.fail(number, "contact_email", _("Not a valid e-mail address."))
            return ""
        return value if self._fits(number, "contact_email", value, _max_length(Contact, "email")) else ""

    def _language(self, number: int, value: str) -> str:
        code = self.languages.get(fold(value))
        if code is None:
            self.fail(number, "contact_language", _("Unknown language “%(value)s”. Use vi or en.") % {"value": value})
            return Language.VI
        return code

    def _flag(self, number: int, column: str, value: str) -> bool:
        word = fold(value)
        if word in TRUE_WORDS:
            return True
        if word not in FALSE_WORDS:
            self.fail(number, column, _("Write yes or no (or true/false, 1/0, x, có/không)."))
        return False

    # The rows of one client together.

    def _group(self, rows: list[_Row]) -> dict[str, _Group]:
        """Merge rows into clients: by tax code, else by folded name (joining a same-named client with a tax code)."""
        names_with_tax_code: dict[str, set[str]] = {}
        for row in rows:
            if "tax_code" in row.fields and "name" in row.fields:
                names_with_tax_code.setdefault(fold(row.fields["name"]), set()).add(row.fields["tax_code"])
        groups: dict[str, _Group] = {}
        for row in rows:
            if "name" not in row.fields:
                continue
            key = self._key(row, names_with_tax_code)
            if key is None:
                continue
            group = groups.setdefault(key, _Group(row=row.number))
            self._merge(group, row)
        return groups

    def _key(self, row: _Row, names_with_tax_code: dict[str, set[str]]) -> str | None:
        if "tax_code" in row.fields:
            return f"tax:{row.fields['tax_code']}"
        folded = fold(row.fields["name"])
        tax_codes = names_with_tax_code.get(folded, set())
        if len(tax_codes) > 1:
            self.fail(
                row.number,
                "tax_code",
                _("Several clients in the file are called “%(name)s”; give the tax code to say which one.")
                % {"name": row.fields["name"]},
            )
            return None
        return f"tax:{next(iter(tax_codes))}" if tax_codes else f"name:{folded}"

    def _merge(self, group: _Group, row: _Row) -> None:
        for name, value in row.fields.items():
            if value is None:
                continue
            if name not in group.fields:
                group.fields[name] = (value, row.number)
                continue
            kept, kept_row = group.fields[name]
            if name == "name" and fold(kept) != fold(value):
                self.fail(
                    row.number,
                    "tax_code",
                    _("Row %(row)d gives this tax code to another client, “%(name)s”.")
                    % {"row": kept_row, "name": kept},
                )
            elif name != "name" and kept != value:
                self._conflict(row.number, CLIENT_FIELD_COLUMNS[name], kept_row, kept)
        if row.owner is not None:
            if group.owner is None:
                group.owner = (row.owner, row.number)
            elif group.owner[0].pk != row.owner.pk:
                self._conflict(row.number, "owner_email", group.owner[1], group.owner[0].email)
        for tag in row.tags:
            group.tags.setdefault(tag.lower(), tag)
        if row.contact is not None:
            group.contacts.append(ContactPlan(row=row.number, contact=row.contact))

    def _conflict(self, number: int, column: str, other_row: int, other_value: Any) -> None:
        self.fail(
            number,
            column,
            _("Differs from row %(row)d of the same client (“%(value)s”).") % {"row": other_row, "value": other_value},
        )

    # The database.

    def _check_existing_tax_codes(self, groups: dict[str, _Group]) -> None:
        rows_by_tax_code = {
            group.fields["tax_code"][0]: group.fields["tax_code"][1]
            for group in groups.values()
            if "tax_code" in group.fields
        }
        for batch in _batches(sorted(rows_by_tax_code)):
            for tax_code in Client.objects.filter(tax_code__in=batch).values_list("tax_code", flat=True):
                self.fail(rows_by_tax_code[tax_code], "tax_code", _("A client with this tax code already exists."))

    def _check_contact_emails(self, groups: dict[str, _Group]) -> None:
        rows_by_email: dict[str, int] = {}
        for group in groups.values():
            for plan in group.contacts:
                email = plan.contact.email.lower()
                if not email:
                    continue
                if email in rows_by_email:
                    self.fail(
                        plan.row,
                        "contact_email",
                        _("This e-mail is also on row %(row)d.") % {"row": rows_by_email[email]},
                    )
                else:
                    rows_by_email[email] = plan.row
        for batch in _batches(sorted(rows_by_email)):
            # Only among contacts the importer may see: the import must not reveal who is a contact elsewhere.
            existing = (
                Contact.objects.visible_to(self.actor)
                .annotate(email_lower=Lower("email"))
                .filter(email_lower__in=batch)
            )
            for email in existing.values_list("email_lower", flat=True).distinct():
                self.fail(rows_by_email[email], "contact_email", _("A contact with this e-mail already exists."))

    def _plan(self, group: _Group) -> ClientPlan:
        owner = group.owner[0] if group.owner else self.actor
        client = Client(**{name: value for name, (value, _row) in group.fields.items()}, owner=owner)
        client.team_id = owner.team_id
        return ClientPlan(row=group.row, client=client, tags=list(group.tags.values()), contacts=group.contacts)


def _batches(values: list[str]) -> list[list[str]]:
    return [values[start : start + QUERY_BATCH] for start in range(0, len(values), QUERY_BATCH)]


# --- Writing ----------------------------------------------------------------------------------------------


def _write(plans: list[ClientPlan]) -> None:
    """Insert clients, contacts and tags in bulk; bulk_create skips save(), so search text is computed here."""
    with transaction.atomic():
        clients = [plan.client for plan in plans]
        for client in clients:
            client.refresh_search_text()
        Client.objects.bulk_create(clients, batch_size=WRITE_BATCH)
        contacts = []
        for plan in plans:
            for contact_plan in plan.contacts:
                contact_plan.contact.client = plan.client
                contact_plan.contact.refresh_search_text()
                contacts.append(contact_plan.contact)
        Contact.objects.bulk_create(contacts, batch_size=WRITE_BATCH)
        _attach_tags(plans)


def _attach_tags(plans: list[ClientPlan]) -> None:
    """Reuse existing tags whatever their case, create the missing ones, and link them to the new clients."""
    wanted: dict[str, str] = {}
    for plan in plans:
        for tag in plan.tags:
            wanted.setdefault(tag.lower(), tag)
    if not wanted:
        return
    tags = _tags_by_lower_name(list(wanted))
    missing = [Tag(name=name) for lower, name in wanted.items() if lower not in tags]
    if missing:
        # A colleague may create the same tag meanwhile: keep theirs.
        Tag.objects.bulk_create(missing, batch_size=WRITE_BATCH, ignore_conflicts=True)
        tags.update(_tags_by_lower_name([tag.name.lower() for tag in missing]))
    through = Client.tags.through
    links = [through(client_id=plan.client.pk, tag_id=tags[tag.lower()].pk) for plan in plans for tag in plan.tags]
    through.objects.bulk_create(links, batch_size=WRITE_BATCH)


def _tags_by_lower_name(names: list[str]) -> dict[str, Tag]:
    tags: dict[str, Tag] = {}
    for batch in _batches(sorted(names)):
        for tag in Tag.objects.annotate(name_lower=Lower("name")).filter(name_lower__in=batch).order_by("pk"):
            tags.setdefault(tag.name_lower, tag)
    return tags
