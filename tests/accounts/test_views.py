import pytest
from django.core import mail
from django.core.cache import cache

from accounts.models import Notification, Role
from accounts.services import team_create
from tests.factories import NotificationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_pages_need_a_signed_in_user(client):
    for path in ["/", "/people/", "/notifications/", "/password/change/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.url.startswith("/login/?next="), path


def test_signing_in_sets_the_users_language(client):
    UserFactory(email="ha@agency.test", preferred_language="vi")

    response = client.post("/login/", {"username": "ha@agency.test", "password": "pass-for-tests-1"})

    assert response.cookies["django_language"].value == "vi"
    assert client.get("/").content.decode().count("Chào mừng trở lại") == 1


def test_a_wrong_password_is_a_form_error_not_a_crash(client):
    UserFactory(email="ha@agency.test")

    response = client.post("/login/", {"username": "ha@agency.test", "password": "wrong-password"})

    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()


def test_five_failures_lock_out_that_email_from_that_address(client):
    UserFactory(email="ha@agency.test")
    for _ in range(5):
        client.post("/login/", {"username": "ha@agency.test", "password": "wrong-password"})

    response = client.post("/login/", {"username": "ha@agency.test", "password": "pass-for-tests-1"})

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    other_user = UserFactory(email="lan@agency.test")
    assert client.post("/login/", {"username": other_user.email, "password": "pass-for-tests-1"}).status_code == 302


@pytest.mark.parametrize(
    ("role", "sees", "does_not_see"),
    [
        (Role.ADMIN, ["Users by role", "Locked-out sign-ins", "Teams", "Administration"], []),
        (Role.DIRECTOR, ["Teams"], ["Users by role", 'href="/admin/"']),
        (Role.ACCOUNT_MANAGER, ["Your team"], ["Users by role", "Locked-out sign-ins", 'href="/admin/"']),
        (Role.SALES, ["Your team"], ["Users by role", 'href="/admin/"']),
        (Role.FINANCE, ["Your team"], ["Users by role", 'href="/admin/"']),
    ],
)
def test_home_page_per_role(client, role, sees, does_not_see):
    user = UserFactory(role=role)
    client.force_login(user)

    html = client.get("/").content.decode()

    for text in sees:
        assert text in html, text
    for text in does_not_see:
        assert text not in html, text


def test_home_shows_the_team_and_teammates(client):
    lead, mate = UserFactory(full_name="Nguyễn Thu Hà"), UserFactory(full_name="Vũ Đức Thắng")
    team_create(name="Hà Nội", lead=lead, members=[mate])
    client.force_login(mate)

    html = client.get("/").content.decode()

    assert "Hà Nội" in html
    assert "Nguyễn Thu Hà" in html


# Issue 1's budget for a page, 15 queries, on a first visit (nothing in the cache): header (session, user, the
# unread notifications with their count), teams and their people or one's own team and teammates, the panels
# (billing, client service, the clients at risk, the month's KPIs against their targets) and the one read of the
# revisions their cached figures are kept under. On SQLite the four KPIs are a query each (no pre-summed months).
HOME_QUERIES = 15


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.ADMIN, Role.ACCOUNT_MANAGER])
def test_home_query_count_stays_in_budget_and_does_not_grow(client, role, django_assert_max_num_queries):
    from django.db import connection

    budget = HOME_QUERIES + (2 if connection.vendor == "sqlite" else 0)
    user = UserFactory(role=role)
    team_create(name="Hà Nội", lead=user, members=UserFactory.create_batch(2))
    client.force_login(user)

    def grow(teams: int) -> None:
        for _ in range(teams):
            team = TeamFactory()
            team_create(name=f"{team.name}-x", lead=UserFactory(), members=UserFactory.create_batch(3))
        NotificationFactory.create_batch(teams, recipient=user)

    grow(2)
    cache.clear()
    with django_assert_max_num_queries(budget) as small:
        client.get("/")
    grow(18)
    cache.clear()  # both requests compute the KPI figures and the clients at risk
    with django_assert_max_num_queries(budget) as large:
        html = client.get("/").content.decode()
    assert len(small.captured_queries) == len(large.captured_queries)
    assert "Hà Nội" in html


def test_people_page_lists_teams_and_people_without_a_team(client, django_assert_num_queries):
    lead = UserFactory(full_name="Bùi Quốc Bảo", phone="+84 90 733 2417")
    team_create(name="Sài Gòn", lead=lead)
    UserFactory(full_name="Lê Văn Phúc", role=Role.FINANCE)
    inactive = UserFactory(full_name="Người Đã Nghỉ", is_active=False)
    client.force_login(lead)

    # session, user, unread count and own team (header), teams with counts, every active person once
    with django_assert_num_queries(6):
        html = client.get("/people/").content.decode()

    assert "Bùi Quốc Bảo" in html and "+84 90 733 2417" in html
    assert "Lê Văn Phúc" in html
    assert inactive.full_name not in html


def test_notifications_inbox_pages_and_counts_queries(client, django_assert_num_queries):
    user = UserFactory()
    client.force_login(user)
    NotificationFactory.create_batch(2, recipient=user)

    # session, user, page count, page rows, unread count
    with django_assert_num_queries(5):
        client.get("/notifications/")
    NotificationFactory.create_batch(40, recipient=user)
    with django_assert_num_queries(5):
        response = client.get("/notifications/?page=2")

    assert response.context["page"].number == 2
    assert len(response.context["page"].object_list) == 17


def test_someone_elses_notification_is_not_found(client):
    user, other = UserFactory(), UserFactory()
    notification = NotificationFactory(recipient=other)
    client.force_login(user)

    response = client.post(f"/notifications/{notification.pk}/open/")

    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_opening_a_notification_marks_it_read_and_follows_its_link(client):
    notification = NotificationFactory(url="/people/")
    client.force_login(notification.recipient)

    response = client.post(f"/notifications/{notification.pk}/open/")

    assert response.status_code == 302 and response.url == "/people/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_marking_read_with_htmx_returns_the_updated_row(client):
    notification = NotificationFactory()
    client.force_login(notification.recipient)

    response = client.post(f"/notifications/{notification.pk}/open/", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert f'id="notification-{notification.pk}"' in html and "Read" in html and "<html" not in html


def test_mark_all_read(client):
    user = UserFactory()
    NotificationFactory.create_batch(3, recipient=user)
    client.force_login(user)

    client.post("/notifications/read-all/")

    assert Notification.objects.filter(recipient=user, read_at__isnull=True).count() == 0


def test_switching_language_is_remembered_on_the_profile(client):
    user = UserFactory(preferred_language="en")
    client.force_login(user)

    response = client.post("/language/", {"language": "vi", "next": "/people/"})

    assert response.status_code == 302 and response.url == "/people/"
    user.refresh_from_db()
    assert user.preferred_language == "vi"
    assert "Mọi người" in client.get("/people/").content.decode()


def test_language_switch_refuses_an_outside_redirect(client):
    response = client.post("/language/", {"language": "vi", "next": "https://evil.example/"})

    assert response.url == "/"


def test_password_reset_sends_a_working_link(client, django_capture_on_commit_callbacks):
    UserFactory(email="phuc@agency.test", full_name="Lê Văn Phúc")

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/password/reset/", {"email": "phuc@agency.test"})

    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "Lê Văn Phúc" in body
    link = next(line for line in body.splitlines() if "/password/reset/" in line).split("testserver")[1]
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()


def test_password_change_shows_errors_on_the_form(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(
        "/password/change/",
        {"old_password": "not-it", "new_password1": "short", "new_password2": "short"},
    )

    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
