import pytest
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import ApiTokenScope, Role
from tests.factories import NotificationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_me_needs_credentials_and_answers_in_the_error_format(api):
    response = api.get("/api/v1/me")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "fields": {},
        }
    }


def test_me_with_a_token(api):
    user = UserFactory(role=Role.FINANCE, email="phuc@agency.test", team=TeamFactory(name="Sài Gòn"))
    NotificationFactory.create_batch(2, recipient=user)
    issued = tokens.personal_token_create(user=user, name="Reports", scope=ApiTokenScope.READ)

    response = api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {issued.key}")

    body = response.json()
    assert response.status_code == 200
    assert body["email"] == "phuc@agency.test"
    assert body["role"] == "finance"
    assert body["team"]["name"] == "Sài Gòn"
    assert body["unread_notifications"] == 2


def test_me_patch_changes_only_the_language(api):
    user = UserFactory(role=Role.ACCOUNT_MANAGER)
    api.force_authenticate(user)

    response = api.patch("/api/v1/me", {"preferred_language": "vi", "role": "director"})

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.preferred_language, user.role) == ("vi", Role.ACCOUNT_MANAGER)


def test_invalid_input_gets_a_structured_400(api):
    api.force_authenticate(UserFactory())

    response = api.patch("/api/v1/me", {"preferred_language": "klingon"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {"preferred_language": ['"klingon" is not a valid choice.']}


def test_an_unknown_api_route_is_a_json_404(api):
    api.force_authenticate(UserFactory())

    response = api.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_users_list_is_paginated_filtered_and_hides_inactive_people(api):
    api.force_authenticate(UserFactory(role=Role.DIRECTOR))
    UserFactory.create_batch(3, role=Role.SALES)
    UserFactory(role=Role.SALES, is_active=False)

    response = api.get("/api/v1/users", {"role": "sales", "page_size": 2})

    body = response.json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"].endswith("page=2&page_size=2&role=sales") or "page=2" in body["next"]
    assert body["previous"] is None
    assert set(body["results"][0]) == {"id", "email", "full_name", "role", "team", "phone"}


def test_page_size_is_capped_at_200(api):
    user = UserFactory()
    api.force_authenticate(user)
    NotificationFactory.create_batch(205, recipient=user)

    response = api.get("/api/v1/notifications", {"page_size": 1000})

    assert len(response.json()["results"]) == 200


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/notifications"])
def test_list_endpoints_query_count_does_not_grow_with_rows(api, path, django_assert_num_queries):
    user = UserFactory(team=TeamFactory())
    api.force_authenticate(user)

    def add(count):
        NotificationFactory.create_batch(count, recipient=user)
        UserFactory.create_batch(count, team=TeamFactory())

    add(2)
    with django_assert_num_queries(2):  # count + page
        api.get(path)
    add(18)
    with django_assert_num_queries(2):
        api.get(path)


def test_notifications_are_private_to_their_recipient(api):
    mine, theirs = NotificationFactory(), NotificationFactory()
    api.force_authenticate(mine.recipient)

    listed = [row["id"] for row in api.get("/api/v1/notifications").json()["results"]]

    assert listed == [mine.pk]
    assert api.get(f"/api/v1/notifications/{theirs.pk}").status_code == 404
    assert api.post(f"/api/v1/notifications/{theirs.pk}/read").status_code == 404


def test_marking_a_notification_read_and_filtering_unread(api):
    notification = NotificationFactory()
    NotificationFactory(recipient=notification.recipient)
    api.force_authenticate(notification.recipient)

    response = api.post(f"/api/v1/notifications/{notification.pk}/read")

    assert response.status_code == 200 and response.json()["read_at"] is not None
    assert api.get("/api/v1/notifications", {"unread": "true"}).json()["count"] == 1


def test_session_writes_need_the_csrf_token():
    client = APIClient(enforce_csrf_checks=True)
    user = UserFactory()
    client.force_login(user)

    response = client.patch("/api/v1/me", {"preferred_language": "vi"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
