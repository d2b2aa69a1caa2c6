"""The weekly KPI digest: content, language, and at most one e-mail per director and week."""

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail

from accounts.models import Notification, Role
from core import mail as mail_queue
from core.models import OutgoingEmail
from kpis import digest
from kpis.tasks import send_kpi_digest_task
from tests.factories import ClientFactory, TeamFactory, UserFactory
from tests.kpis.factories import KpiTargetFactory, hanoi, signed_contract

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 11, 30)  # the week 2026-W49, whose digest reports November 2026
NOVEMBER = date(2026, 11, 1)


@pytest.fixture(autouse=True)
def hanoi_clock(settings):
    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"
    settings.ACCORD_SITE_URL = "https://accord.agency.test"


def am_signing(name: str, team, *, target: str | None, signed: str | None):
    """An account manager with a November signed-revenue target (in đồng) and a contract signed in November."""
    person = UserFactory(role=Role.ACCOUNT_MANAGER, team=team, full_name=name)
    if target is not None:
        KpiTargetFactory(user=person, value=Decimal(target), period_start=NOVEMBER)
    if signed is not None:
        signed_contract(
            client=ClientFactory(owner=person),
            value=Decimal(signed),
            created=hanoi(2026, 11, 2),
            signed=hanoi(2026, 11, 20),
        )
    return person


@pytest.fixture
def november():
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    am_signing("An", north, target="1000000000", signed="200000000")  # 20.0 %
    am_signing("Bình", north, target="500000000", signed="400000000")  # 80.0 %
    am_signing("Chi", south, target="100000000", signed="150000000")  # met: not behind
    am_signing("Dũng", south, target=None, signed="300000000")  # no target
    am_signing("Giang", south, target="400000000", signed=None)  # 0.0 %
    am_signing("Hà", north, target="200000000", signed="100000000")  # 50.0 %
    am_signing("Khánh", south, target="200000000", signed="180000000")  # 90.0 %
    am_signing("Long", north, target="1000000000", signed="950000000")  # 95.0 %: sixth, not shown
    KpiTargetFactory(scope="agency", user=None, value=Decimal("4000000000"), period_start=NOVEMBER)


@pytest.fixture
def director():
    return UserFactory(role=Role.DIRECTOR, full_name="Giám đốc Hoa", email="hoa@agency.test")


def test_the_digest_has_the_agency_figures_and_the_five_account_managers_furthest_behind(
    director, november, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the e-mail leaves once the transaction commits
        assert digest.digest_send(director_id=director.pk, monday=MONDAY) is True

    [message] = mail.outbox
    text = message.body
    assert message.to == ["hoa@agency.test"]
    assert message.subject == "[Accord] KPI digest: November 2026 (2026-W49)"
    # Signed in November: 200 + 400 + 150 + 300 + 100 + 180 + 950 = 2,280M of a 4,000M target.
    assert "Signed revenue\n  VND: 2,280,000,000 ₫ / target 4,000,000,000 ₫ · 57.0 % (behind)" in text
    assert "Win rate\n  100.0 % · no target" in text
    assert "Cash collected\n  none · no target" in text
    behind = text[text.index("furthest behind") :]
    assert behind.index("Giang") < behind.index("An (North)") < behind.index("Hà") < behind.index("Bình")
    assert behind.index("Bình") < behind.index("Khánh")
    assert "1. Giang (South): 0 ₫ / 400,000,000 ₫ · 0.0 %" in behind
    assert "2. An (North): 200,000,000 ₫ / 1,000,000,000 ₫ · 20.0 %" in behind
    assert "Long" not in behind and "Chi" not in behind and "Dũng" not in behind
    assert "https://accord.agency.test/kpis/?period=2026-11&digest=2026-W49" in text
    html = message.alternatives[0][0]
    assert (
        "Giang" in html
        and "57.0 %" in html
        and 'href="https://accord.agency.test/kpis/?period=2026-11&amp;digest=2026-W49"' in html
    )


def test_the_digest_says_when_no_account_manager_has_a_target(director, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        digest.digest_send(director_id=director.pk, monday=MONDAY)

    assert "No account manager has a signed-revenue target for November 2026." in mail.outbox[0].body


def test_the_digest_is_written_in_the_directors_language(november, django_capture_on_commit_callbacks):
    vietnamese = UserFactory(role=Role.DIRECTOR, preferred_language="vi")

    with django_capture_on_commit_callbacks(execute=True):
        digest.digest_send(director_id=vietnamese.pk, monday=MONDAY)

    [message] = mail.outbox
    assert message.extra_headers["Content-Language"] == "vi"
    assert '<html lang="vi">' in message.alternatives[0][0]
    assert Notification.objects.get(recipient=vietnamese).send_email is False


def test_a_director_gets_the_digest_at_most_once_a_week(director, november, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = digest.digest_send(director_id=director.pk, monday=MONDAY)
        again = digest.digest_send(director_id=director.pk, monday=MONDAY)
        next_week = digest.digest_send(director_id=director.pk, monday=date(2026, 12, 7))

    assert (first, again, next_week) == (True, False, True)
    assert len(mail.outbox) == 2
    assert list(Notification.objects.filter(recipient=director).order_by("pk").values_list("url", flat=True)) == [
        "/kpis/?period=2026-11&digest=2026-W49",
        "/kpis/?period=2026-12&digest=2026-W50",
    ]


def test_a_mail_server_failure_keeps_the_digest_queued_and_the_week_sent_once(
    director, november, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.refusing = "421"

    with django_capture_on_commit_callbacks(execute=True):
        assert digest.digest_send(director_id=director.pk, monday=MONDAY) is True
    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts, email.to) == ("queued", 1, ["hoa@agency.test"])
    assert Notification.objects.filter(recipient=director).count() == 1

    smtp_server.refusing = None
    assert digest.digest_send(director_id=director.pk, monday=MONDAY) is False  # the queue retries, not the task
    assert mail_queue.deliver(email.pk) is True
    assert [received.recipients for received in smtp_server.messages] == [["hoa@agency.test"]]


@pytest.mark.parametrize("who", ["inactive", "admin", "account_manager", "no_email"])
def test_only_active_directors_with_an_address_get_the_digest(who):
    user = {
        "inactive": lambda: UserFactory(role=Role.DIRECTOR, is_active=False),
        "admin": lambda: UserFactory(role=Role.ADMIN),
        "account_manager": lambda: UserFactory(role=Role.ACCOUNT_MANAGER),
        "no_email": lambda: UserFactory(role=Role.DIRECTOR, email=""),
    }[who]()

    assert digest.digest_send(director_id=user.pk, monday=MONDAY) is False
    assert mail.outbox == []


def test_the_weekly_task_sends_each_active_director_one_digest_however_often_it_runs(
    django_capture_on_commit_callbacks,
):
    directors = [UserFactory(role=Role.DIRECTOR) for _index in range(2)]
    UserFactory(role=Role.DIRECTOR, is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        queued = send_kpi_digest_task(today="2026-12-02")  # a Wednesday of the week starting 30 November
        send_kpi_digest_task(today="2026-11-30")

    assert queued == 2
    assert sorted(message.to[0] for message in mail.outbox) == sorted(person.email for person in directors)


def test_the_week_and_its_month():
    assert digest.week_of(date(2026, 12, 6)) == MONDAY
    assert digest.week_key(date(2026, 12, 28)) == "2026-W53"
    assert digest.digest_period(date(2026, 12, 7)).key == "2026-12"
    assert digest.digest_period(MONDAY).key == "2026-11"
