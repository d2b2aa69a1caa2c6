import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext_lazy

from accounts import services
from accounts.models import Notification, Role, User
from accounts.tasks import prune_notifications_task, send_notification_email_task
from config.celery import app
from core.errors import DomainError
from core.models import OutboxMessage, OutgoingEmail
from tests.factories import NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_user_create_normalises_the_email_and_makes_admins_superusers():
    admin = services.user_create(email="Huy.Ngo@Agency.TEST", full_name="Ngô Gia Huy", role=Role.ADMIN)
    am = services.user_create(email="ha@agency.test", full_name="Nguyễn Thu Hà", role=Role.ACCOUNT_MANAGER)

    assert admin.email == "huy.ngo@agency.test"
    assert (admin.is_superuser, admin.is_staff) == (True, True)
    assert (am.is_superuser, am.is_staff) == (False, False)


def test_user_create_refuses_an_email_in_use_whatever_its_case():
    UserFactory(email="lan@agency.test")

    with pytest.raises(DomainError) as error:
        services.user_create(email="LAN@agency.test", full_name="Hoàng Ngọc Lan", role=Role.SALES)

    assert error.value.code == "email_taken"
    assert User.objects.count() == 1


def test_user_update_keeps_the_superuser_flag_in_step_with_the_role():
    user = UserFactory(role=Role.ADMIN)

    services.user_update(user=user, role=Role.DIRECTOR)

    user.refresh_from_db()
    assert (user.role, user.is_superuser, user.is_staff) == (Role.DIRECTOR, False, False)


def test_email_login_ignores_case(client):
    UserFactory(email="bao@agency.test")

    response = client.post("/login/", {"username": "BAO@agency.test", "password": "pass-for-tests-1"})

    assert response.status_code == 302
    assert response.url == "/"


def test_unknown_language_is_refused():
    user = UserFactory()

    with pytest.raises(DomainError):
        services.user_set_language(user=user, language="fr")


def test_team_create_assigns_the_lead_and_members():
    lead, member, outsider = UserFactory(), UserFactory(), UserFactory()

    team = services.team_create(name="Sài Gòn", lead=lead, members=[member])

    assert set(team.members.all()) == {lead, member}
    outsider.refresh_from_db()
    assert outsider.team is None


def test_notify_emails_after_commit_in_the_recipients_language(django_capture_on_commit_callbacks):
    from django.utils.translation import gettext_lazy as _

    user = UserFactory(preferred_language="vi", email="nhung@agency.test")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = services.notify(user=user, title=_("Welcome to Accord"), url="/people/")
    assert len(mail.outbox) == 0  # nothing leaves before the transaction commits
    assert len(callbacks) == 1

    with django_capture_on_commit_callbacks(execute=True):  # the task's commit hands the e-mail to the queue
        callbacks[0]()

    notification.refresh_from_db()
    assert notification.title == "Chào mừng đến với Accord"
    assert notification.emailed_at is not None
    assert [message.to for message in mail.outbox] == [["nhung@agency.test"]]
    assert mail.outbox[0].subject == "[Accord] Chào mừng đến với Accord"
    assert "http://127.0.0.1:8000/people/" in mail.outbox[0].body


def test_a_rolled_back_notification_sends_nothing(django_capture_on_commit_callbacks):
    user = UserFactory()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.notify(user=user, title="Contract signed")
        raise RuntimeError("the surrounding action failed")

    assert callbacks == []
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_notify_without_email_sends_nothing(django_capture_on_commit_callbacks):
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.notify(user=user, title="Only in the inbox", email=False)

    assert callbacks == []
    assert mail.outbox == []


@pytest.fixture
def broker():
    """A broker is configured: e-mail tasks are written to the outbox (core/outbox.py), handed over on commit."""
    app.conf.task_always_eager = False  # the suite's autouse fixture restores the setting
    yield
    app.conf.task_always_eager = True


def drafts_for(users, **fields) -> list[services.NotificationDraft]:
    title = gettext_lazy("Renewal: %(number)s, notice deadline %(deadline)s")
    params = {"number": "HD-2026-00042", "deadline": "31/12/2026"}
    return [services.NotificationDraft(user=user, title=title, params=params, **fields) for user in users]


def test_notify_many_renders_each_notification_in_its_recipients_language():
    vietnamese, english = UserFactory(preferred_language="vi"), UserFactory(preferred_language="en")

    notifications = services.notify_many(drafts_for([vietnamese, english, vietnamese], url="/contracts/7/"))

    assert [(n.recipient, n.title) for n in notifications] == [
        (vietnamese, "Gia hạn: HD-2026-00042, hạn báo trước 31/12/2026"),
        (english, "Renewal: HD-2026-00042, notice deadline 31/12/2026"),
        (vietnamese, "Gia hạn: HD-2026-00042, hạn báo trước 31/12/2026"),
    ]
    stored = Notification.objects.order_by("pk")
    assert list(stored.values_list("pk", "title", "url", "level")) == [
        (n.pk, n.title, "/contracts/7/", "info") for n in notifications
    ]


def test_notify_many_emails_each_notification_once_after_commit_never_a_service_account(
    django_capture_on_commit_callbacks,
):
    people = [UserFactory(email="an@agency.test"), UserFactory(email="binh@agency.test")]
    robot = UserFactory(email="robot@agency.test", is_service_account=True)
    drafts = [*drafts_for([*people, robot]), *drafts_for(people[:1], email=False)]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notifications = services.notify_many(drafts)
    assert len(callbacks) == 2  # one e-mail task per notification to e-mail, none before the commit
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):  # the tasks' commits hand the e-mails to the queue
        for callback in callbacks:
            callback()
    assert sorted(message.to[0] for message in mail.outbox) == ["an@agency.test", "binh@agency.test"]
    assert [n.send_email for n in notifications] == [True, True, False, False]
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 2


def test_notify_many_writes_one_outbox_task_per_e_mail_in_the_same_transaction(
    broker, django_capture_on_commit_callbacks
):
    people = [UserFactory(), UserFactory(), UserFactory(is_service_account=True)]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notifications = services.notify_many(drafts_for(people))

    assert len(callbacks) == 1  # one hand-over for the whole batch
    assert sorted(OutboxMessage.objects.values_list("task", "args")) == [
        ("accounts.tasks.send_notification_email_task", [notification.pk]) for notification in notifications[:2]
    ]


def test_a_rolled_back_notify_many_leaves_neither_notifications_nor_tasks(broker, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.notify_many(drafts_for([UserFactory(), UserFactory()]))
        raise RuntimeError("the surrounding batch failed")

    assert callbacks == []
    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


def test_notify_many_costs_two_queries_whatever_the_number_of_notifications(broker):
    def queries(recipients: int) -> int:
        drafts = drafts_for([UserFactory(preferred_language=("vi", "en")[n % 2]) for n in range(recipients)])
        with CaptureQueriesContext(connection) as captured:
            services.notify_many(drafts)
        return len(captured)

    # The INSERT of the notifications and the INSERT of their e-mail tasks (the outbox).
    assert queries(2) == 2
    assert queries(40) == 2


def test_notify_many_with_nothing_to_send_does_nothing(broker, django_capture_on_commit_callbacks):
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks() as callbacks:
        assert services.notify_many([]) == []

    assert len(captured) == 0
    assert callbacks == []


def test_the_notification_email_task_sends_once_even_when_delivered_twice(django_capture_on_commit_callbacks):
    notification = NotificationFactory(send_email=True)

    with django_capture_on_commit_callbacks(execute=True):
        assert send_notification_email_task(notification.pk) is True
        assert send_notification_email_task(notification.pk) is False

    assert len(mail.outbox) == 1


def test_an_smtp_failure_leaves_the_notification_e_mail_queued_not_lost(
    smtp_server, django_capture_on_commit_callbacks
):
    notification = NotificationFactory(send_email=True, recipient__email="ngoc@agency.test")
    smtp_server.refusing = "421"

    with django_capture_on_commit_callbacks(execute=True):
        assert send_notification_email_task(notification.pk) is True

    notification.refresh_from_db()
    assert notification.emailed_at is not None  # handed to the mail queue, which retries it
    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts, email.to) == ("queued", 1, ["ngoc@agency.test"])
    assert send_notification_email_task(notification.pk) is False  # no second copy from a task retry


def test_mark_all_read_touches_only_the_users_own_unread():
    user, other = UserFactory(), UserFactory()
    NotificationFactory.create_batch(3, recipient=user)
    NotificationFactory(recipient=other)

    assert services.notifications_mark_all_read(user=user) == 3
    assert Notification.objects.filter(recipient=other, read_at__isnull=True).count() == 1


def test_prune_deletes_only_notifications_read_long_ago():
    from datetime import timedelta

    from django.utils import timezone

    old_read = NotificationFactory(read_at=timezone.now() - timedelta(days=200))
    recent_read = NotificationFactory(read_at=timezone.now() - timedelta(days=10))
    unread_old = NotificationFactory()
    Notification.objects.filter(pk=unread_old.pk).update(created_at=timezone.now() - timedelta(days=400))

    assert prune_notifications_task(batch_size=1) == 1

    assert set(Notification.objects.values_list("pk", flat=True)) == {recent_read.pk, unread_old.pk}
    assert not Notification.objects.filter(pk=old_read.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_a_notification_that_cannot_be_rendered_leaves_the_callers_transaction_usable():
    user = UserFactory()
    broken = services.NotificationDraft(user=user, title=gettext_lazy("Renewal: %(number)s"), params={"other": 1})

    with transaction.atomic():
        with pytest.raises(KeyError):
            services.notify_many([services.NotificationDraft(user=user, title="Fine"), broken])
        services.notify(user=user, title="Written after the error", email=False)

    assert list(Notification.objects.values_list("title", flat=True)) == ["Written after the error"]
