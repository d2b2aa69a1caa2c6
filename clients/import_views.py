"""CSV import pages: upload, dry-run preview (or the error report), confirm; and an example file to start from.

Between the preview and the confirmation the file's text waits in the session (size-limited by the upload form),
with a digest the confirmation must repeat, so exactly the previewed file is imported.
"""

import csv
import io

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role
from accounts.permissions import has_role
from clients.importer import (
    CHOICE_COLUMNS,
    COLUMNS,
    ImportFileError,
    ImportReport,
    clients_import,
    content_digest,
    decode_csv,
)
from clients.models import Language
from core.errors import DomainError
from core.forms import add_domain_error

# A request body this much larger than ACCORD_IMPORT_MAX_BYTES is refused before Django reads the file to disk.
MULTIPART_OVERHEAD = 64 * 1024
SESSION_KEY = "clients_import"
PREVIEW_LIMIT = 200  # clients shown in the preview table; the counts cover them all
ERROR_LIMIT = 500
IMPORTER_ROLES = (Role.ACCOUNT_MANAGER, Role.SALES, Role.DIRECTOR, Role.ADMIN)

EXAMPLE_ROWS = [
    {
        "name": "Sữa Việt",
        "legal_name": "Công ty Cổ phần Sữa Việt",
        "tax_code": "0312345678",
        "industry": "fmcg",
        "tier": "A",
        "status": "active",
        "billing_currency": "VND",
        "payment_terms_days": "30",
        "website": "https://suaviet.example",
        "phone": "+84 28 3822 0000",
        "city": "Hồ Chí Minh",
        "address": "12 Nguyễn Huệ, Quận 1",
        "tags": "retainer;tet-campaign",
        "contact_name": "Nguyễn Thu Trang",
        "contact_title": "Marketing Director",
        "contact_email": "trang.nguyen@suaviet.example",
        "contact_phone": "+84 90 111 2233",
        "contact_language": "vi",
        "contact_decision_maker": "yes",
        "contact_billing": "no",
    },
    {
        "name": "Sữa Việt",
        "tax_code": "0312345678",
        "contact_name": "Trần Minh Quân",
        "contact_title": "Chief Accountant",
        "contact_email": "quan.tran@suaviet.example",
        "contact_language": "vi",
        "contact_billing": "có",
    },
    {
        "name": "Blue Harbor Hotels",
        "legal_name": "Blue Harbor Hospitality Ltd",
        "tax_code": "0109876543-001",
        "industry": "Hospitality and travel",
        "tier": "B",
        "status": "prospect",
        "billing_currency": "USD",
        "payment_terms_days": "45",
        "website": "blueharbor.example",
        "city": "Hà Nội",
        "tags": "hotel",
        "contact_name": "Emily Carter",
        "contact_title": "Brand Manager",
        "contact_email": "emily.carter@blueharbor.example",
        "contact_language": "en",
        "contact_decision_maker": "x",
    },
    {"name": "Gốm Minh Long", "industry": "other", "tier": "C", "city": "Bình Dương"},
]


def too_big_message(size: int) -> str:
    return _("The file is %(size)s; the limit is %(limit)s. Split it into several files.") % {
        "size": filesizeformat(size),
        "limit": filesizeformat(settings.ACCORD_IMPORT_MAX_BYTES),
    }


class ImportUploadForm(forms.Form):
    filename = ""
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "UTF-8 CSV, at most %(limit)s. In Excel: File › Save as › CSV UTF-8 (Comma delimited)."
        ) % {"limit": filesizeformat(settings.ACCORD_IMPORT_MAX_BYTES)}

    def clean_file(self) -> str:
        """The file's text; wrong name, size or content is an error on the field.

        The name must end in .csv (the browser's content type only repeats what the name says, or what Excel
        registered); the content must be UTF-8 text that no known binary or markup format starts with.
        """
        upload = self.cleaned_data["file"]
        self.filename = upload.name
        if upload.size > settings.ACCORD_IMPORT_MAX_BYTES:
            raise forms.ValidationError(too_big_message(upload.size))
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError(
                _("Upload a .csv file. In Excel: File › Save as › CSV UTF-8 (Comma delimited).")
            )
        try:
            return decode_csv(upload.read())
        except ImportFileError as error:
            raise forms.ValidationError(error.message) from error


def _ensure_can_import(request: HttpRequest) -> None:
    if not has_role(request.user, *IMPORTER_ROLES):
        raise PermissionDenied


@login_required
def client_import(request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST ``preview``: a dry run. POST ``confirm``: import the previewed file for real."""
    _ensure_can_import(request)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if request.method == "POST" and length > settings.ACCORD_IMPORT_MAX_BYTES + MULTIPART_OVERHEAD:
        # Refused before reading request.POST, which would spool the whole body to a temporary file first.
        request.session.pop(SESSION_KEY, None)
        form = ImportUploadForm()
        form.cleaned_data = {}  # an unbound form with an error of its own: add_error expects a cleaned form
        form.add_error(None, too_big_message(length))
        return _render(request, form)
    if request.method == "POST" and "confirm" in request.POST:
        return _confirm(request)
    if request.method == "POST":
        return _preview(request)
    request.session.pop(SESSION_KEY, None)
    return _render(request, ImportUploadForm())


def _preview(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    form = ImportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, form)
    text = form.cleaned_data["file"]
    try:
        report = clients_import(file=text, actor=request.user, dry_run=True)
    except DomainError as error:
        add_domain_error(form, error)
        return _render(request, form)
    pending = None
    if report.ok and report.clients:
        pending = {"text": text, "digest": content_digest(text), "filename": form.filename}
        request.session[SESSION_KEY] = pending
    return _render(request, ImportUploadForm(), report=report, pending=pending)


def _confirm(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(SESSION_KEY)
    if not pending or request.POST.get("digest") != pending["digest"]:
        messages.error(request, _("The previewed file is no longer here. Upload it again."))
        return redirect("clients:import")
    form = ImportUploadForm()
    try:
        report = clients_import(file=pending["text"], actor=request.user, dry_run=False)
    except DomainError as error:
        request.session.pop(SESSION_KEY, None)
        add_domain_error(form, error)
        return _render(request, form)
    request.session.pop(SESSION_KEY, None)
    if not report.ok:
        return _render(request, form, report=report)
    messages.success(
        request,
        _("Import done. Clients created: %(clients)d; contacts: %(contacts)d.")
        % {"clients": report.clients, "contacts": report.contacts},
    )
    return redirect("clients:list")


def _render(
    request: HttpRequest, form: ImportUploadForm, *, report: ImportReport | None = None, pending: dict | None = None
) -> HttpResponse:
    context = {
        "form": form,
        "report": report,
        "pending": pending,
        "preview": report.preview[:PREVIEW_LIMIT] if report else [],
        "preview_hidden": max(0, len(report.preview) - PREVIEW_LIMIT) if report else 0,
        "errors": report.errors[:ERROR_LIMIT] if report else [],
        "errors_hidden": max(0, len(report.errors) - ERROR_LIMIT) if report else 0,
        "columns": column_reference(),
    }
    return render(request, "clients/import.html", context)


def column_reference() -> list[dict]:
    """The columns of the import format, for the page: name, whether required, what goes in it."""
    codes = {column: ", ".join(choices.values) for column, choices in CHOICE_COLUMNS.items()}
    flag = _("yes or no (also true/false, 1/0, x, có/không); blank is no.")
    help_texts = {
        "name": _("The client's trading name."),
        "legal_name": _("Registered company name."),
        "tax_code": _(
            "Vietnamese tax code: 10 digits, or 10 digits, a dash and 3 digits for a branch. "
            "In Excel, format the column as text so leading zeros stay. Rows with the same tax code are one client."
        ),
        "industry": _("Code or label: %(codes)s. Default: other.") % {"codes": codes["industry"]},
        "tier": _("%(codes)s. Default: B.") % {"codes": codes["tier"]},
        "status": _("Code or label: %(codes)s. Default: prospect.") % {"codes": codes["status"]},
        "owner_email": _(
            "E-mail of the owner: an active account manager, sales person or director. Default: you. "
            "Only a director may import clients for someone else."
        ),
        "billing_currency": _("%(codes)s. Default: VND.") % {"codes": codes["billing_currency"]},
        "payment_terms_days": _("Whole number of days, 0 to 365. Default: 30."),
        "website": _("Web address; https:// is added when missing."),
        "phone": _("Office phone."),
        "city": _("City."),
        "address": _("Office address."),
        "tags": _("Separated by semicolons, e.g. retainer;tet-campaign."),
        "contact_name": _("The contact on this row. Leave blank for a row that only describes the client."),
        "contact_title": _("Job title."),
        "contact_email": _("Must not be used by another contact, here or in Accord."),
        "contact_phone": _("Phone."),
        "contact_language": _("%(codes)s. Default: vi.") % {"codes": ", ".join(Language.values)},
        "contact_decision_maker": flag,
        "contact_billing": flag + " " + _("Collection e-mails go to billing contacts."),
    }
    return [{"name": column, "required": column == "name", "help": help_texts[column]} for column in COLUMNS]


@login_required
def client_import_example(request: HttpRequest) -> HttpResponse:
    """An example file in the import format, UTF-8 with a BOM so Excel shows the Vietnamese names."""
    _ensure_can_import(request)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(EXAMPLE_ROWS)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="accord-client-import-example.csv"'
    return response
