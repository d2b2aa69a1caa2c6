"""Security: password-reset rate limits, upload checks, session expiry, the password policy, production cookies
and HSTS, CSRF, and script injection in every text field (pages, API, CSV exports, PDFs' HTML, e-mails).

The records are the permission matrix's world (tests/permission_matrix.py), built once for the module, with every
free-text field of every model overwritten with markup (and every URL with ``javascript:``).
"""

import csv
import io
import logging
import re
import time
from http.cookies import SimpleCookie

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, models, transaction
from django.test import Client, override_settings

from accounts import security
from accounts.models import Role
from clients.models import Client as ClientRecord
from tests.core.test_settings import PRODUCTION, run
from tests.factories import TEST_PASSWORD, UserFactory
from tests.permission_matrix import MATRIX, build_world
from tests.test_permission_matrix import Asker, checked_routes

# --- The world, with markup in every text field ----------------------------------------------------------------

APPS = ("accounts", "clients", "contracts", "proposals", "kpis", "integrations")
# Fields Accord fills itself and never shows as text, or codes it generates in a fixed shape (numbers, hashes,
# keys); a person never types them.
GENERATED = {
    "password", "key_hash", "prefix", "token_nonce", "pdf_hash", "pdf_requested_hash", "content_hash",
    "schedule_key", "secret", "previous_secret", "once_key", "search_text", "search_name", "number", "tax_code",
    "language", "time_zone", "kind", "status", "type", "history_change_reason",
}  # fmt: skip
LONG = '=HYPERLINK("https://evil.example")"><img src=x onerror=alert({n})><script>alert({n})</script>'
SHORT = '="><svg onload=alert({n})>'
URL = "javascript:alert({n})"
# What must never reach a page unescaped.
INJECTED = re.compile(r"<script>alert\(|<img src=x onerror|<svg onload|(?:href|src|action)=\"?\s*javascript:", re.I)
ESCAPED = "&lt;img src=x onerror=alert("
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def payload_for(field: models.Field, n: int) -> str | None:
    if isinstance(field, models.URLField) or field.name == "url":
        return URL.format(n=n)
    if isinstance(field, models.EmailField):
        return f'x{n}"><svg onload=alert({n})>@agency.test'
    for template in (LONG, SHORT):
        text = template.format(n=n)
        if field.max_length is None or len(text) <= field.max_length:
            return text
    return None


def text_fields(model) -> list[models.Field]:
    return [
        field
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField) and not field.choices and field.name not in GENERATED
    ]


def inject_markup() -> dict[str, int]:
    """Overwrite every free-text field of every row of Accord's models; the number of fields filled per model.

    A field whose check constraint refuses the markup (e-mail addresses) keeps its value: the database itself
    guarantees no page can show markup from it.
    """
    filled, n = {}, 0
    for model in apps.get_models():
        if model._meta.app_label not in APPS or model.__name__.startswith("Historical"):
            continue
        fields = text_fields(model)
        for pk in model.objects.values_list("pk", flat=True) if fields else []:
            count = 0
            for field in fields:
                n += 1
                if (value := payload_for(field, n)) is None:
                    continue
                try:
                    with transaction.atomic():
                        model.objects.filter(pk=pk).update(**{field.name: value})
                    count += 1
                except IntegrityError:
                    continue
            filled[model._meta.label] = count
    return filled


@pytest.fixture(scope="module")
def world(module_transaction, django_db_blocker):
    with django_db_blocker.unblock():
        world = build_world()
        world.filled = inject_markup()
        for record in world.records.values():
            record.refresh_from_db()
        world.sessions = {}
        for actor, user in world.users.items():
            browser = Client()
            browser.force_login(user)
            world.sessions[actor] = browser.cookies[settings.SESSION_COOKIE_NAME].value
    request_log = logging.getLogger("django.request")
    level, request_log.level = request_log.level, logging.CRITICAL
    yield world
    request_log.level = level


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- Password reset ---------------------------------------------------------------------------------------------

RESET_URL = "/password/reset/"


@pytest.fixture
def reset_mails(monkeypatch) -> list[str]:
    """The addresses Django's reset form sends a link to (whatever carries the e-mail from there)."""
    from django.contrib.auth.forms import PasswordResetForm

    sent: list[str] = []
    monkeypatch.setattr(PasswordResetForm, "send_mail", lambda self, *args, **kwargs: sent.append(args[4]))
    return sent


@pytest.mark.django_db
def test_the_reset_page_answers_alike_for_an_unknown_address(client, reset_mails):
    UserFactory(email="lan@agency.test")

    known = client.post(RESET_URL, {"email": "lan@agency.test"})
    unknown = client.post(RESET_URL, {"email": "nobody@agency.test"})

    assert (
        (known.status_code, known["Location"])
        == (unknown.status_code, unknown["Location"])
        == (302, "/password/reset/sent/")
    )
    assert reset_mails == ["lan@agency.test"]


@pytest.mark.django_db
@override_settings(ACCORD_PASSWORD_RESET_RATES={"email": "3/hour", "ip": "100/hour"})
@pytest.mark.parametrize("email", ["lan@agency.test", "nobody@agency.test"])
def test_password_reset_is_limited_per_address_whether_or_not_it_has_an_account(client, caplog, reset_mails, email):
    UserFactory(email="lan@agency.test")
    answers = [client.post(RESET_URL, {"email": email}).status_code for _ in range(3)]
    sent = len(reset_mails)

    with caplog.at_level(logging.WARNING, logger="accounts.security"):
        refused = client.post(RESET_URL, {"email": email.upper()})  # the same address in capitals

    assert answers == [302, 302, 302]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "Too many reset requests" in refused.content.decode()
    assert len(reset_mails) == sent == (3 if email.startswith("lan") else 0)
    assert "more than 3/hour for this e-mail address" in caplog.text
    assert client.post(RESET_URL, {"email": "other@agency.test"}).status_code == 302  # other addresses go on


@pytest.mark.django_db
@override_settings(ACCORD_PASSWORD_RESET_RATES={"email": "5/hour", "ip": "2/hour"})
def test_password_reset_is_limited_per_client_address(client, reset_mails):
    UserFactory(email="lan@agency.test")
    client.post(RESET_URL, {"email": "a@agency.test"}, REMOTE_ADDR="203.0.113.7")
    client.post(RESET_URL, {"email": "b@agency.test"}, REMOTE_ADDR="203.0.113.7")

    refused = client.post(RESET_URL, {"email": "lan@agency.test"}, REMOTE_ADDR="203.0.113.7")
    elsewhere = client.post(RESET_URL, {"email": "lan@agency.test"}, REMOTE_ADDR="198.51.100.9")

    assert refused.status_code == 429
    assert elsewhere.status_code == 302
    assert reset_mails == ["lan@agency.test"]


def test_the_default_reset_limits_come_from_the_settings():
    assert security.parse_rate(settings.ACCORD_PASSWORD_RESET_RATES["email"]) == (5, 3600)
    assert security.parse_rate(settings.ACCORD_PASSWORD_RESET_RATES["ip"]) == (20, 3600)


# --- Uploads: the client CSV import (Accord's only upload) --------------------------------------------------

IMPORT_URL = "/clients/import/"
VALID_CSV = "name,city\r\nSữa Việt,Hà Nội\r\n".encode()


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def importer(client, db):
    client.force_login(UserFactory(role=Role.ACCOUNT_MANAGER))
    return client


def preview(client, content: bytes, name: str = "clients.csv", content_type: str = "text/csv"):
    return client.post(IMPORT_URL, {"preview": "1", "file": SimpleUploadedFile(name, content, content_type)})


def test_a_valid_csv_is_previewed(importer):
    response = preview(importer, VALID_CSV)

    assert response.status_code == 200
    assert not response.context["form"].errors
    assert response.context["report"].clients == 1


@pytest.mark.parametrize(
    ("content", "name", "content_type", "message"),
    [
        # Wrong types renamed to .csv, sent with a CSV content type.
        (png_bytes(), "clients.csv", "text/csv", "The file is not UTF-8 text"),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n", "clients.csv", "text/csv", "This is not a CSV file."),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "clients.csv", "text/csv", "not a CSV"),
        (b"\xef\xbb\xbf<!DOCTYPE html><script>alert(1)</script>", "clients.csv", "text/csv", "not a CSV"),
        (b"name\r\nA\x01\x02\x03\r\n", "clients.csv", "text/csv", "not a CSV"),
        # Polyglots: a GIF whose header is also a CSV header row; a CSV that a browser would run as a page.
        (b"GIF89a,name\r\n\x01\x00\x01\x00,A\r\n", "clients.csv", "text/csv", "not a CSV"),
        (b"<html><body onload=alert(1)>,name\r\nx,A\r\n", "clients.csv", "text/csv", "not a CSV"),
        # A good CSV under another name: the name decides, not the content type the browser sends.
        (VALID_CSV, "clients.csv.png", "text/csv", "Upload a .csv file."),
        (VALID_CSV, "clients.txt", "text/plain", "Upload a .csv file."),
    ],
)
def test_a_wrong_file_is_refused_on_the_form(importer, content, name, content_type, message):
    response = preview(importer, content, name, content_type)

    assert response.status_code == 200
    assert message in response.context["form"].errors["file"][0]
    assert response.context["report"] is None
    assert ClientRecord.objects.count() == 0


@override_settings(ACCORD_IMPORT_MAX_BYTES=1024)
def test_a_file_over_the_limit_is_refused(importer):
    response = preview(importer, b"name\r\n" + b"A\r\n" * 600)

    assert response.context["form"].errors["file"] == [
        "The file is 1.8\xa0KB; the limit is 1.0\xa0KB. Split it into several files."
    ]


@override_settings(ACCORD_IMPORT_MAX_BYTES=1024)
def test_a_body_far_over_the_limit_is_refused_before_it_is_read(importer, monkeypatch):
    from django.core.handlers.wsgi import WSGIRequest

    def never(self):
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(WSGIRequest, "_load_post_and_files", never)
    response = preview(importer, b"name\r\n" + b"A\r\n" * 40_000)

    assert response.status_code == 200
    assert "the limit is 1.0\xa0KB" in response.context["form"].non_field_errors()[0]


@pytest.mark.django_db
def test_the_api_takes_no_file_uploads(api):
    user = UserFactory(role=Role.ACCOUNT_MANAGER)
    api.force_authenticate(user)

    response = api.post("/api/v1/clients", {"file": SimpleUploadedFile("c.csv", VALID_CSV)}, format="multipart")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


# --- Sessions and the password policy ---------------------------------------------------------------------------


def signed_in(client, **stamps) -> Client:
    client.force_login(UserFactory(role=Role.ACCOUNT_MANAGER))
    session = client.session
    now = int(time.time())
    for key, seconds_ago in stamps.items():
        session[key] = now - seconds_ago
    session.save()
    return client


@pytest.mark.django_db
def test_sign_in_stamps_the_session(client):
    client.force_login(UserFactory())

    session = client.session
    assert abs(session[security.SIGNED_IN_AT] - time.time()) < 5
    assert session[security.LAST_SEEN_AT] == session[security.SIGNED_IN_AT]


@pytest.mark.django_db
def test_an_idle_session_is_signed_out_and_sent_to_sign_in(client):
    signed_in(client, accord_last_seen_at=settings.SESSION_IDLE_TIMEOUT + 10)

    response = client.get("/clients/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/clients/"
    assert SESSION_KEY not in client.session
    page = client.get(response["Location"])
    assert "You were signed out after 120 minutes without activity." in page.content.decode()


@pytest.mark.django_db
def test_a_session_older_than_its_age_is_signed_out_however_active(client):
    signed_in(client, accord_signed_in_at=settings.SESSION_COOKIE_AGE + 10, accord_last_seen_at=60)

    assert client.get("/clients/")["Location"] == "/login/?next=/clients/"
    assert client.get("/api/v1/clients").status_code in (401, 403)


@pytest.mark.django_db
def test_activity_keeps_the_session_and_is_written_at_most_every_few_minutes(client):
    signed_in(client, accord_last_seen_at=settings.SESSION_IDLE_TIMEOUT - 60)

    assert client.get("/clients/").status_code == 200
    seen = client.session[security.LAST_SEEN_AT]
    assert abs(seen - time.time()) < 5  # refreshed: the session was idle for longer than the resolution

    assert client.get("/clients/").status_code == 200
    assert client.session[security.LAST_SEEN_AT] == seen  # not written again a moment later


def test_the_session_settings_a_crm_expects():
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert settings.SESSION_IDLE_TIMEOUT == 2 * 3600
    assert settings.SESSION_ACTIVITY_RESOLUTION < settings.SESSION_IDLE_TIMEOUT / 10
    assert settings.SESSION_COOKIE_HTTPONLY and settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert "accounts.security.SessionExpiryMiddleware" in settings.MIDDLEWARE


def test_the_password_validators():
    names = {validator["NAME"].rsplit(".", 1)[1]: validator for validator in settings.AUTH_PASSWORD_VALIDATORS}

    assert set(names) == {
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    }
    assert 10 <= names["MinimumLengthValidator"]["OPTIONS"]["min_length"] <= 12


WEAK = {
    "short": ("Ab3$xyz", "This password is too short. It must contain at least 10 characters."),
    "common": ("password123", "This password is too common."),
    "numeric": ("4815162342", "This password is entirely numeric."),
    "like the name": ("tranminhquang", "The password is too similar to the full name."),
    "like the e-mail": ("quang.tran.agency", "The password is too similar to the e-mail."),
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(WEAK))
def test_a_weak_password_is_refused_on_the_change_form(client, kind):
    user = UserFactory(full_name="Tran Minh Quang", email="quang.tran@agency.test")
    client.force_login(user)
    password, message = WEAK[kind]

    response = client.post(
        "/password/change/",
        {"old_password": TEST_PASSWORD, "new_password1": password, "new_password2": password},
    )

    assert response.status_code == 200
    assert message in response.context["form"].errors["new_password2"]
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


@pytest.mark.django_db
def test_a_weak_password_is_refused_when_an_administrator_creates_a_user(client):
    client.force_login(UserFactory(role=Role.ADMIN))

    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "new@agency.test",
            "full_name": "Người Mới",
            "role": Role.SALES,
            "preferred_language": "vi",
            "usable_password": "true",
            "password1": "password123",
            "password2": "password123",
        },
    )

    assert response.status_code == 200
    assert "This password is too common." in response.context["adminform"].form.errors["password2"]
    assert not UserFactory._meta.model.objects.filter(email="new@agency.test").exists()


# --- Production: cookies, HSTS, the deployment checklist ---------------------------------------------------------


def test_production_settings_turn_on_secure_cookies_hsts_and_the_ssl_redirect():
    names = [
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
    ]
    code = "import django; django.setup(); from django.conf import settings as s; " + "; ".join(
        f"print(s.{name})" for name in names
    )

    result = run(["-c", code], DJANGO_SETTINGS_MODULE="config.settings", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "True", "31536000", "True", "True"]


PRODUCTION_SETTINGS = {
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31_536_000,
}


@pytest.mark.django_db
@override_settings(**PRODUCTION_SETTINGS)
def test_in_production_cookies_are_secure_and_https_answers_carry_hsts(client):
    UserFactory(email="lan@agency.test")

    plain = client.get("/login/")
    page = client.get("/login/", secure=True)
    signed_in = client.post("/login/", {"username": "lan@agency.test", "password": TEST_PASSWORD}, secure=True)

    assert plain.status_code == 301 and plain["Location"] == "https://testserver/login/"
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert signed_in.status_code == 302
    session, csrf = signed_in.cookies[settings.SESSION_COOKIE_NAME], signed_in.cookies[settings.CSRF_COOKIE_NAME]
    assert (session["secure"], session["httponly"], session["samesite"]) == (True, True, "Lax")
    assert (csrf["secure"], csrf["samesite"]) == (True, "Lax")
    assert signed_in.cookies[settings.LANGUAGE_COOKIE_NAME]["secure"] is True


# --- CSRF --------------------------------------------------------------------------------------------------------


def csrf_client(world, actor: str) -> Client:
    browser = Client(enforce_csrf_checks=True)
    browser.cookies = SimpleCookie({settings.SESSION_COOKIE_NAME: world.sessions[actor]})
    return browser


def csrf_token(browser: Client) -> str:
    browser.get("/")
    return browser.cookies[settings.CSRF_COOKIE_NAME].value


FORMS = [  # (actor, path or a function of the world, body)
    ("owner", lambda world: "/clients/new/", {"name": "Khách Mới", "tier": "B", "industry": "other"}),
    ("owner", lambda world: f"/contracts/{world.records['deal'].pk}/move/", {"to": "negotiation"}),
    ("finance", lambda world: f"/invoices/{world.records['invoice'].pk}/payments/new/", {"amount": "1000"}),
    ("director", lambda world: "/kpis/targets/set/", {"metric": "signed_revenue"}),
    ("owner", lambda world: "/logout/", {}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("actor", "path", "body"), FORMS, ids=["client", "stage", "payment", "target", "logout"])
def test_a_form_posted_without_a_csrf_token_is_refused(world, actor, path, body):
    browser = csrf_client(world, actor)

    refused = browser.post(path(world), body)
    token = csrf_token(browser)
    accepted = browser.post(path(world), body, headers={"X-CSRFToken": token})

    assert refused.status_code == 403
    assert "CSRF" in refused.content.decode()
    assert accepted.status_code != 403  # the token is all that was missing


@pytest.mark.django_db
def test_the_api_refuses_a_session_write_without_a_csrf_token_and_a_token_write_needs_none(world):
    browser = csrf_client(world, "owner")
    body = {"name": "Khách API", "tier": "B", "industry": "other"}

    by_session = browser.post("/api/v1/clients", body, content_type="application/json")
    with_csrf = browser.post(
        "/api/v1/clients", body, content_type="application/json", headers={"X-CSRFToken": csrf_token(browser)}
    )
    tokened = Client(enforce_csrf_checks=True).post(
        "/api/v1/clients",
        {**body, "name": "Khách Token"},
        content_type="application/json",
        headers={"Authorization": f"Token {world.api_keys['owner']}"},
    )

    assert by_session.status_code == 403
    assert "CSRF" in by_session.json()["error"]["message"]
    assert with_csrf.status_code == 201
    assert tokened.status_code == 201
    assert ClientRecord.objects.filter(name__in=["Khách API", "Khách Token"]).count() == 2


# --- Script injection --------------------------------------------------------------------------------------------

QUERIES = {"search/": {"q": "alert"}, "api/v1/search": {"q": "alert"}}
# Accord's own example file (its phone numbers start with "+" on purpose, to be imported back): no user text in it.
NOT_SWEPT = {"clients/import/example.csv"}
SWEEP_ACTORS = ("owner", "director", "admin")


def _sweep(world) -> tuple[list[str], dict[str, int], list[str]]:
    """GET every route of the matrix as the owner, a director and an administrator: the leaks, how many pages
    showed the markup escaped, and the CSV exports read."""
    routes, asker = checked_routes(), Asker(world, world.sessions)
    leaks, escaped, exports = [], {"pages": 0, "api": 0}, []
    for key, row in sorted(MATRIX.items()):
        if "GET" not in row.methods or key in NOT_SWEPT:
            continue
        route = routes[key]
        path = asker.path(route, row)
        for actor in SWEEP_ACTORS:
            response = asker.ask(route, actor, "GET", path, QUERIES.get(key, {}))
            assert response.status_code < 500, f"{key} as {actor}: {response.status_code}"
            content_type = response.get("Content-Type", "")
            text = body_of(response).decode(errors="replace")
            if content_type.startswith("text/html"):
                leaks += [f"{key} as {actor}: …{m.group(0)}…" for m in INJECTED.finditer(text)]
                escaped["pages"] += ESCAPED in text
            elif content_type.startswith("application/json") or content_type.startswith("application/vnd.oai"):
                assert response["X-Content-Type-Options"] == "nosniff"
                escaped["api"] += "<img src=x onerror=alert(" in text  # JSON carries the text as it was typed
            elif content_type.startswith("text/csv"):
                exports.append(key)
                for cells in csv.reader(io.StringIO(text.removeprefix("\ufeff"))):
                    leaks += [f"{key} as {actor}: formula {c[:30]!r}" for c in cells if c.startswith(FORMULA_STARTS)]
    return leaks, escaped, exports


@pytest.mark.django_db
def test_markup_in_every_text_field_is_escaped_on_every_page_and_neutralised_in_every_export(world):
    assert world.filled["clients.Client"] >= 7 and world.filled["contracts.Invoice"] >= 3  # the world is injected

    leaks, escaped, exports = _sweep(world)

    assert not leaks, "\n".join(leaks)
    assert escaped["pages"] >= 100 and escaped["api"] >= 30, escaped
    assert {"clients/export.csv", "contracts/export.csv", "invoices/export.csv"} <= set(exports), exports


@pytest.mark.django_db
def test_markup_is_escaped_in_the_pdfs_html_and_the_emails(world):
    from contracts.billing.selectors import client_statement
    from contracts.billing.statement_pdf import statement_html
    from proposals.pdf import render_proposal_html
    from proposals.tasks import proposal_message

    proposal, client = world.records["sent_proposal"], world.records["client"]
    contract = world.records["contract"]
    statement = client_statement(client=client, currency="VND", start=contract.start_date, end=contract.end_date)
    proposal.recipient = world.records["contact"]
    message = proposal_message(proposal)
    documents = {
        "proposal PDF": render_proposal_html(world.records["proposal"]),
        "statement PDF": statement_html(statement, rating=None, language="en"),
        "proposal e-mail": message.alternatives[0][0],
    }

    for name, html in documents.items():
        assert not INJECTED.search(html), f"{name}: {INJECTED.search(html).group(0)}"
        assert "&lt;" in html and "onerror=alert(" in html, name  # the markup is there, as text
    assert "<img src=x onerror=alert(" in message.body  # the plain-text part is text/plain: no escaping needed
