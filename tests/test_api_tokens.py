"""API tokens: created and revoked on their pages, shown once, stored hashed, scoped, acting as a user with a role."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import tokens
from accounts.models import ApiToken, ApiTokenKind, ApiTokenScope, Role, User
from clients.models import Client
from core.errors import DomainError, PermissionDeniedError
from tests.api_support import error_of
from tests.conftest import TEST_PASSWORD
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db


def token_for(user, scope=ApiTokenScope.READ_WRITE, **fields):
    return tokens.personal_token_create(user=user, name="Script", scope=scope, **fields)


def auth(key: str, keyword: str = "Token") -> dict:
    return {"HTTP_AUTHORIZATION": f"{keyword} {key}"}


# --- Keys and authentication ------------------------------------------------------------------------------------


def test_only_a_hash_of_the_key_is_stored(am):
    issued = token_for(am)

    token = ApiToken.objects.get()
    assert issued.key.startswith("acc_") and len(issued.key) == 44
    assert token.prefix == issued.key[:12]
    assert token.key_hash == tokens.hash_key(issued.key) != issued.key
    stored = ApiToken.objects.values_list(*[field.attname for field in ApiToken._meta.fields]).get()
    assert issued.key not in {str(value) for value in stored}


@pytest.mark.parametrize("keyword", ["Token", "Bearer", "bearer"])
def test_a_token_authenticates_as_its_user_with_either_keyword(api, am, keyword):
    issued = token_for(am)

    response = api.get("/api/v1/me", **auth(issued.key, keyword))

    assert response.status_code == 200, response.content
    assert response.json()["id"] == am.pk


def test_last_used_is_recorded_at_most_once_a_minute(api, am, django_assert_num_queries):
    issued = token_for(am)
    api.get("/api/v1/me", **auth(issued.key))
    first_use = ApiToken.objects.get().last_used_at
    assert first_use is not None and timezone.now() - first_use < timedelta(seconds=5)

    # the token with its user, the user's team, the unread count: no UPDATE of last_used_at within the minute
    with django_assert_num_queries(3):
        api.get("/api/v1/me", **auth(issued.key))

    ApiToken.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
    api.get("/api/v1/me", **auth(issued.key))
    assert timezone.now() - ApiToken.objects.get().last_used_at < timedelta(seconds=5)


@pytest.mark.parametrize(
    "header",
    ["Token acc_not-a-real-key", "Bearer", "Token two words", "Token \u00e9"],
    ids=["unknown", "no key", "spaces", "not ascii"],
)
def test_a_bad_key_is_a_401_in_the_error_format(api, header):
    response = api.get("/api/v1/me", HTTP_AUTHORIZATION=header)

    assert error_of(response, 401)["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"


def test_revoked_expired_and_deactivated_tokens_stop_working(api, am, teammate):
    revoked, expired, deactivated, alive = token_for(am), token_for(am), token_for(teammate), token_for(am)
    tokens.token_revoke(token=revoked.token, actor=am)
    ApiToken.objects.filter(pk=expired.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    User.objects.filter(pk=teammate.pk).update(is_active=False)

    for issued in (revoked, expired, deactivated):
        assert error_of(api.get("/api/v1/me", **auth(issued.key)), 401)["code"] == "authentication_failed"
    assert api.get("/api/v1/me", **auth(alive.key)).status_code == 200


# --- Scopes -----------------------------------------------------------------------------------------------------


def test_a_read_only_token_reads_but_changes_nothing(api, am):
    issued = token_for(am, scope=ApiTokenScope.READ)

    read = api.get("/api/v1/clients", **auth(issued.key))
    created = api.post("/api/v1/clients", {"name": "Masan"}, **auth(issued.key))
    patched = api.patch("/api/v1/me", {"preferred_language": "vi"}, **auth(issued.key))

    assert read.status_code == 200
    assert error_of(created, 403) == {
        "code": "token_read_only",
        "message": "This token is read-only: it cannot change anything.",
        "fields": {},
    }
    assert error_of(patched, 403)["code"] == "token_read_only"
    am.refresh_from_db()
    assert am.preferred_language == "en"
    assert not Client.objects.exists()


def test_a_read_write_token_writes_as_its_user(api, am):
    issued = token_for(am, scope=ApiTokenScope.READ_WRITE)

    response = api.post("/api/v1/clients", {"name": "Masan"}, **auth(issued.key))

    assert response.status_code == 201, response.content
    assert response.json()["owner"]["id"] == am.pk


def test_the_session_still_works_in_a_browser(client, am):
    client.force_login(am)

    assert client.get("/api/v1/me").json()["id"] == am.pk


# --- Service tokens ---------------------------------------------------------------------------------------------


@pytest.fixture
def admin():
    return UserFactory(role=Role.ADMIN)


def test_a_service_token_acts_as_a_new_service_account_that_cannot_sign_in(client, admin, team):
    issued = tokens.service_token_create(
        actor=admin, name="Finance ERP", role=Role.FINANCE, team=team, scope=ApiTokenScope.READ
    )

    service = issued.token.user
    assert (issued.token.kind, issued.token.created_by) == (ApiTokenKind.SERVICE, admin)
    assert (service.full_name, service.role, service.team, service.is_service_account) == (
        "Finance ERP",
        Role.FINANCE,
        team,
        True,
    )
    assert not service.has_usable_password()
    signed_in = client.post("/login/", {"username": service.email, "password": TEST_PASSWORD})
    assert signed_in.status_code == 200 and "_auth_user_id" not in client.session


def test_a_service_account_given_a_password_still_cannot_sign_in(client, admin):
    service = tokens.service_token_create(
        actor=admin, name="BI", role=Role.DIRECTOR, scope=ApiTokenScope.READ
    ).token.user
    service.set_password(TEST_PASSWORD)  # e.g. by an administrator in the Django admin
    service.save(update_fields=["password"])

    signed_in = client.post("/login/", {"username": service.email, "password": TEST_PASSWORD})

    assert signed_in.status_code == 200 and "_auth_user_id" not in client.session


def test_a_service_token_sees_what_its_role_sees(api, admin, am, stranger):
    mine, theirs = ClientFactory(owner=am), ClientFactory(owner=stranger)
    as_manager = tokens.service_token_create(
        actor=admin, name="Planner", role=Role.ACCOUNT_MANAGER, team=am.team, scope=ApiTokenScope.READ
    )
    as_director = tokens.service_token_create(actor=admin, name="BI", role=Role.DIRECTOR, scope=ApiTokenScope.READ)

    manager_sees = {row["id"] for row in api.get("/api/v1/clients", **auth(as_manager.key)).json()["results"]}
    director_sees = {row["id"] for row in api.get("/api/v1/clients", **auth(as_director.key)).json()["results"]}

    assert manager_sees == {mine.pk}  # read-only on the team's clients, as a person in that team
    assert director_sees == {mine.pk, theirs.pk}
    assert api.get(f"/api/v1/clients/{theirs.pk}", **auth(as_manager.key)).status_code == 404


def test_only_an_administrator_creates_service_tokens_and_never_an_administrator_one(admin, director):
    with pytest.raises(PermissionDeniedError):
        tokens.service_token_create(actor=director, name="ERP", role=Role.FINANCE, scope=ApiTokenScope.READ)
    with pytest.raises(DomainError) as refused:
        tokens.service_token_create(actor=admin, name="ERP", role=Role.ADMIN, scope=ApiTokenScope.READ)

    assert refused.value.code == "invalid_role"
    assert not User.objects.filter(is_service_account=True).exists()
    assert not ApiToken.objects.exists()


def test_revoking_a_service_token_deactivates_its_service_account(api, admin):
    issued = tokens.service_token_create(actor=admin, name="ERP", role=Role.FINANCE, scope=ApiTokenScope.READ)

    tokens.token_revoke(token=issued.token, actor=admin)
    tokens.token_revoke(token=issued.token, actor=admin)  # twice: nothing more happens

    issued.token.user.refresh_from_db()
    assert issued.token.user.is_active is False
    assert ApiToken.objects.get().revoked_at is not None
    assert api.get("/api/v1/me", **auth(issued.key)).status_code == 401


def test_people_revoke_only_their_own_tokens(am, teammate, admin):
    issued = token_for(teammate)

    with pytest.raises(PermissionDeniedError):
        tokens.token_revoke(token=issued.token, actor=am)
    assert ApiToken.objects.get().revoked_at is None

    tokens.token_revoke(token=issued.token, actor=admin)  # an administrator may revoke a leaked one
    assert ApiToken.objects.get().revoked_at is not None


def test_service_accounts_get_no_e_mail_and_stay_off_the_people_page(client, admin):
    from accounts.services import notify

    issued = tokens.service_token_create(actor=admin, name="ERP Bot", role=Role.DIRECTOR, scope=ApiTokenScope.READ)

    notification = notify(user=issued.token.user, title="Write-off to approve")
    client.force_login(admin)

    assert notification.send_email is False
    assert "ERP Bot" not in client.get("/people/").content.decode()


# --- Pages ------------------------------------------------------------------------------------------------------


def test_the_user_menu_leads_to_the_tokens_page(client, am):
    client.force_login(am)

    html = client.get("/").content.decode()

    assert 'href="/api-tokens/"' in html


def test_creating_a_token_on_the_page_shows_its_key_once(client, am):
    client.force_login(am)

    created = client.post("/api-tokens/", {"name": "Weekly report", "scope": "read", "expires_in": "30"})

    token = ApiToken.objects.get()
    html = created.content.decode()
    key = html.split('id="new-token-key" type="text" value="')[1].split('"')[0]
    assert created.status_code == 200
    assert tokens.hash_key(key) == token.key_hash
    assert (token.name, token.scope, token.kind, token.user) == ("Weekly report", "read", "personal", am)
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    listed = client.get("/api-tokens/").content.decode()
    assert key not in listed
    assert token.prefix in listed and "Weekly report" in listed


def test_no_cache_keeps_the_page_that_shows_a_new_key(client, admin):
    client.force_login(admin)

    personal = client.post("/api-tokens/", {"name": "Weekly report", "scope": "read"})
    service = client.post("/api-tokens/service/", {"name": "Finance ERP", "role": Role.FINANCE, "scope": "read"})

    assert personal.status_code == service.status_code == 200
    assert "no-store" in personal["Cache-Control"] and "no-store" in service["Cache-Control"]


def test_with_htmx_the_panel_is_swapped_in_place(client, am):
    client.force_login(am)

    response = client.post(
        "/api-tokens/", {"name": "CLI", "scope": "read_write", "expires_in": ""}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div class="row g-4" id="token-panel">')
    assert "<html" not in html
    assert 'data-testid="token-key"' in html
    assert ApiToken.objects.get().expires_at is None


def test_a_nameless_token_is_refused_with_the_form_error(client, am):
    client.force_login(am)

    response = client.post("/api-tokens/", {"name": " ", "scope": "read"})

    assert "This field is required." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_page_lists_only_my_personal_tokens(client, am, teammate):
    token_for(am)
    token_for(teammate)
    client.force_login(am)

    html = client.get("/api-tokens/").content.decode()

    assert html.count('data-testid="token-row"') == 1


def test_the_token_list_query_count_does_not_grow_with_tokens(client, am):
    def queries_for(count: int) -> int:
        ApiToken.objects.all().delete()
        for _ in range(count):
            token_for(am)
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api-tokens/").status_code == 200
        return len(captured)

    client.force_login(am)

    assert queries_for(2) == queries_for(20)


def test_revoking_from_the_page(client, am):
    issued = token_for(am)
    client.force_login(am)

    swapped = client.post(f"/api-tokens/{issued.token.pk}/revoke/", HTTP_HX_REQUEST="true")
    plain = client.post(f"/api-tokens/{token_for(am).token.pk}/revoke/")

    assert swapped.status_code == 200 and "Revoked" in swapped.content.decode()
    assert swapped.content.decode().lstrip().startswith("<tr")
    assert plain.status_code == 302 and plain["Location"] == "/api-tokens/"
    assert not ApiToken.objects.active().exists()


def test_someone_elses_token_is_a_404_on_the_revoke_page(client, am, teammate):
    issued = token_for(teammate)
    client.force_login(am)

    response = client.post(f"/api-tokens/{issued.token.pk}/revoke/")

    assert response.status_code == 404
    assert ApiToken.objects.get().revoked_at is None


def test_service_tokens_page_is_for_administrators(client, am, director, admin, team):
    for person in (am, director):
        client.force_login(person)
        assert client.get("/api-tokens/service/").status_code == 403
        assert client.post("/api-tokens/service/", {"name": "x", "role": "finance", "scope": "read"}).status_code == 403
    client.force_login(admin)

    created = client.post(
        "/api-tokens/service/",
        {"name": "Finance ERP", "role": "finance", "team": team.pk, "scope": "read_write", "expires_in": ""},
    )

    token = ApiToken.objects.select_related("user").get()
    assert created.status_code == 200 and 'data-testid="token-key"' in created.content.decode()
    assert (token.kind, token.user.role, token.user.team, token.scope) == ("service", "finance", team, "read_write")
    page = client.get("/api-tokens/service/").content.decode()
    assert "Finance ERP" in page and "Finance · Hà Nội" in page


def test_an_administrator_revokes_a_service_token_from_the_page(client, admin):
    issued = tokens.service_token_create(actor=admin, name="ERP", role=Role.FINANCE, scope=ApiTokenScope.READ)
    client.force_login(admin)

    response = client.post(f"/api-tokens/{issued.token.pk}/revoke/")

    assert response.status_code == 302 and response["Location"] == "/api-tokens/service/"
    assert ApiToken.objects.get().revoked_at is not None
