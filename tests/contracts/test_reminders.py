"""Renewal reminders (90/60/30/7 days before the notice deadline) and the nightly auto-renewal and expiry sweep."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Notification, Role
from config.celery import app
from contracts import reminders, services
from contracts.models import Contract, ContractKind, ContractNumber, RenewalReminder, Stage, StageChange
from contracts.reminders import due_offset, reminders_due, send_renewal_reminders
from contracts.sweeps import _auto_renew, renew_and_expire_contracts
from contracts.tasks import renew_and_expire_contracts_task, send_renewal_reminders_task
from core.models import OutboxMessage
from tests.factories import ActiveContractFactory, ContractFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _numbers_clear_of_the_factories():
    """Successors take the year's next number; start far from the factories' HD-2026-00001, HD-2026-00002..."""
    ContractNumber.objects.create(year=timezone.localdate().year, last=90000)


@pytest.fixture
def director():
    return UserFactory(role=Role.DIRECTOR, email="director@agency.test")


def active_contract(*, deadline: date | None = None, end: date | None = None, notice_days: int = 30, **fields):
    """An active contract whose notice deadline is ``deadline`` (or which ends on ``end``)."""
    end = end or deadline + timedelta(days=notice_days)
    return ActiveContractFactory(end_date=end, start_date=end - timedelta(days=364), notice_days=notice_days, **fields)


def sweep_every_day(first: date, last: date) -> dict[int, date]:
    """Run the sweep once a day from ``first`` to ``last``; the day each offset was sent."""
    sent_on = {}
    day = first
    while day <= last:
        send_renewal_reminders(today=day)
        for offset in RenewalReminder.objects.values_list("offset_days", flat=True):
            sent_on.setdefault(offset, day)
        day += timedelta(days=1)
    return sent_on


def titles(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("title", flat=True))


# --- When ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_left", "expected"),
    [(120, None), (91, None), (90, 90), (61, 90), (60, 60), (31, 60), (30, 30), (8, 30), (7, 7), (1, 7), (0, 7)],
)
def test_the_due_reminder_is_the_nearest_offset_whose_day_has_come(days_left, expected):
    deadline = date(2026, 12, 31)

    assert due_offset(deadline, deadline - timedelta(days=days_left)) == expected


def test_the_database_picks_the_same_reminder_as_the_rule():
    today = date(2026, 11, 26)
    contracts = {days: active_contract(deadline=today + timedelta(days=days)) for days in range(-3, 96)}

    picked = dict(reminders_due(today).values_list("pk", "due_offset"))

    expected = {contract.pk: due_offset(contract.notice_deadline, today) for contract in contracts.values()}
    assert picked == {pk: offset for pk, offset in expected.items() if offset is not None}


def test_no_reminder_once_the_notice_deadline_has_passed():
    assert due_offset(date(2026, 12, 31), date(2027, 1, 1)) is None


@pytest.mark.parametrize(
    ("end", "notice_days", "expected"),
    [
        # An ordinary year end with 30 days' notice: deadline 1 December.
        (
            date(2026, 12, 31),
            30,
            {90: date(2026, 9, 2), 60: date(2026, 10, 2), 30: date(2026, 11, 1), 7: date(2026, 11, 24)},
        ),
        # Leap day: end 30 March 2028 − 30 days = 29 February 2028; 7 days before is 22 February.
        (
            date(2028, 3, 30),
            30,
            {90: date(2027, 12, 1), 60: date(2027, 12, 31), 30: date(2028, 1, 30), 7: date(2028, 2, 22)},
        ),
        # Notice 0: the deadline is the end date itself.
        (
            date(2026, 6, 30),
            0,
            {90: date(2026, 4, 1), 60: date(2026, 5, 1), 30: date(2026, 5, 31), 7: date(2026, 6, 23)},
        ),
    ],
    ids=["year-end", "leap-day", "notice-0"],
)
def test_reminders_go_out_90_60_30_and_7_days_before_the_notice_deadline(end, notice_days, expected):
    contract = active_contract(end=end, notice_days=notice_days)
    deadline = end - timedelta(days=notice_days)
    assert contract.notice_deadline == deadline

    sent_on = sweep_every_day(deadline - timedelta(days=100), deadline + timedelta(days=3))

    assert sent_on == expected
    assert set(RenewalReminder.objects.values_list("notice_deadline", flat=True)) == {deadline}


def test_on_leap_day_minus_8_the_7_day_reminder_is_not_due_yet():
    active_contract(deadline=date(2028, 2, 29))
    send_renewal_reminders(today=date(2028, 1, 30))

    assert send_renewal_reminders(today=date(2028, 2, 21)) == 0
    assert send_renewal_reminders(today=date(2028, 2, 22)) == 1
    assert RenewalReminder.objects.get(offset_days=7).notice_deadline == date(2028, 2, 29)


def test_a_contract_entering_the_window_late_gets_only_the_nearest_reminder():
    today = date(2026, 11, 26)
    contract = active_contract(deadline=today + timedelta(days=20))

    assert send_renewal_reminders(today=today) == 1
    assert list(RenewalReminder.objects.values_list("offset_days", flat=True)) == [30]

    sent_on = sweep_every_day(today, contract.notice_deadline + timedelta(days=5))

    assert sorted(RenewalReminder.objects.values_list("offset_days", flat=True)) == [7, 30]  # never 90 or 60
    assert sent_on[7] == contract.notice_deadline - timedelta(days=7)


def test_a_contract_signed_three_days_before_its_deadline_still_gets_the_7_day_reminder():
    today = date(2026, 11, 26)
    active_contract(deadline=today + timedelta(days=3))

    assert send_renewal_reminders(today=today) == 1
    assert list(RenewalReminder.objects.values_list("offset_days", flat=True)) == [7]


def test_the_sweep_just_after_midnight_in_ho_chi_minh_city_sends_and_the_one_before_does_not():
    # The 30-day reminder for a 31 March deadline is due on 1 March, local time (UTC+7).
    contract = active_contract(deadline=date(2027, 3, 31))
    RenewalReminder.objects.create(contract=contract, offset_days=60, notice_deadline=contract.notice_deadline)
    one_minute_to_midnight = datetime(2027, 2, 28, 16, 59, tzinfo=UTC)  # 23:59 on 28 February in Hà Nội
    five_past_midnight = datetime(2027, 2, 28, 17, 5, tzinfo=UTC)  # 00:05 on 1 March there, still 28 Feb in UTC

    with mock.patch("django.utils.timezone.now", return_value=one_minute_to_midnight):
        assert send_renewal_reminders() == 0
    with mock.patch("django.utils.timezone.now", return_value=five_past_midnight):
        assert timezone.localdate() == date(2027, 3, 1)
        assert send_renewal_reminders() == 1

    assert RenewalReminder.objects.filter(offset_days=30).count() == 1


# --- Who -----------------------------------------------------------------------------------------------------


def test_the_owner_hears_at_every_offset_active_directors_only_at_30_and_7(director):
    contract = active_contract(deadline=date(2026, 12, 31))
    retired_director = UserFactory(role=Role.DIRECTOR, is_active=False)
    admin = UserFactory(role=Role.ADMIN)
    colleague = UserFactory(role=Role.ACCOUNT_MANAGER)

    for days in (90, 60, 30, 7):
        assert send_renewal_reminders(today=contract.notice_deadline - timedelta(days=days)) == 1

    assert len(titles(contract.owner)) == 4
    assert len(titles(director)) == 2
    assert titles(retired_director) == titles(admin) == titles(colleague) == []
    warnings = Notification.objects.filter(recipient=contract.owner, level="warning").count()
    assert warnings == 2  # the 30- and 7-day ones


def test_a_director_who_owns_the_contract_is_told_once(director):
    active_contract(deadline=date(2026, 12, 31), owner=director)

    send_renewal_reminders(today=date(2026, 12, 1))

    assert len(titles(director)) == 1


def test_the_reminder_names_the_contract_and_its_deadline_and_links_to_it():
    contract = active_contract(deadline=date(2026, 12, 31), number="HD-2025-00042", auto_renew=True)

    send_renewal_reminders(today=date(2026, 12, 24))

    notification = Notification.objects.get(recipient=contract.owner)
    assert notification.title == "Renewal: HD-2025-00042, notice deadline 31/12/2026"
    assert "ends on 30/01/2027" in notification.body and "renews automatically" in notification.body
    assert "(days left: 7)" in notification.body
    assert notification.url == f"/contracts/{contract.pk}/"


def test_each_recipient_reads_the_reminder_in_their_language(director):
    owner = UserFactory(preferred_language="vi")
    active_contract(deadline=date(2026, 12, 31), number="HD-2025-00042", owner=owner)

    send_renewal_reminders(today=date(2026, 12, 1))

    assert titles(owner) == ["Gia hạn: HD-2025-00042, hạn báo trước 31-12-2026"]
    assert titles(director) == ["Renewal: HD-2025-00042, notice deadline 31/12/2026"]


def test_owner_and_director_are_emailed_after_commit(director, django_capture_on_commit_callbacks):
    contract = active_contract(deadline=date(2026, 12, 31))

    with django_capture_on_commit_callbacks(execute=True):
        send_renewal_reminders(today=date(2026, 12, 1))

    assert sorted(message.to[0] for message in mail.outbox) == sorted([contract.owner.email, director.email])


# --- Once ----------------------------------------------------------------------------------------------------


def test_each_reminder_is_sent_once_however_often_the_sweep_runs(director):
    contract = active_contract(deadline=date(2026, 12, 31))
    today = date(2026, 12, 1)

    assert send_renewal_reminders(today=today) == 1
    assert send_renewal_reminders(today=today) == 0
    assert send_renewal_reminders(today=today + timedelta(days=1)) == 0

    assert RenewalReminder.objects.filter(contract=contract).count() == 1
    assert Notification.objects.count() == 2


def test_a_claim_lost_to_another_sweep_sends_nothing_and_the_batch_carries_on(director, monkeypatch):
    taken, free = active_contract(deadline=date(2026, 12, 31)), active_contract(deadline=date(2026, 12, 31))
    claim = reminders.claim_reminders

    def another_sweep_claims_first(batch):
        RenewalReminder.objects.create(contract=taken, offset_days=30, notice_deadline=taken.notice_deadline)
        return claim(batch)

    monkeypatch.setattr(reminders, "claim_reminders", another_sweep_claims_first)
    assert send_renewal_reminders(today=date(2026, 12, 1)) == 1

    assert titles(taken.owner) == []
    assert len(titles(free.owner)) == 1
    assert len(titles(director)) == 1
    assert RenewalReminder.objects.count() == 2


def test_claiming_returns_only_the_rows_this_call_inserted():
    first, second = active_contract(deadline=date(2026, 12, 31)), active_contract(deadline=date(2026, 12, 31))
    batch = list(reminders_due(date(2026, 12, 1)))

    assert reminders.claim_reminders(batch) == {first.pk, second.pk}
    assert reminders.claim_reminders(batch) == set()
    assert sorted(RenewalReminder.objects.values_list("contract", "offset_days", "notice_deadline")) == [
        (first.pk, 30, date(2026, 12, 31)),
        (second.pk, 30, date(2026, 12, 31)),
    ]


def test_a_failed_batch_leaves_neither_claims_nor_notifications(monkeypatch):
    active_contract(deadline=date(2026, 12, 31))

    def fail(*args, **kwargs):
        raise OperationalError("the connection dropped")

    monkeypatch.setattr("contracts.reminders._pause_for_tests", fail)
    with pytest.raises(OperationalError):
        send_renewal_reminders(today=date(2026, 12, 1))

    assert not RenewalReminder.objects.exists()
    assert not Notification.objects.exists()
    monkeypatch.undo()
    assert send_renewal_reminders(today=date(2026, 12, 1)) == 1


def test_batches_walk_every_due_contract():
    contracts = [active_contract(deadline=date(2026, 12, 31)) for _ in range(5)]

    assert send_renewal_reminders(today=date(2026, 12, 1), batch_size=2) == 5

    assert set(RenewalReminder.objects.values_list("contract", flat=True)) == {c.pk for c in contracts}


@pytest.fixture
def broker():
    """A broker is configured: the e-mail tasks are written to the outbox (core/outbox.py), handed over on commit."""
    app.conf.task_always_eager = False  # the suite's autouse fixture restores the setting
    yield
    app.conf.task_always_eager = True


def test_a_batch_costs_a_fixed_number_of_queries_whatever_its_size(director, broker):
    def sweep_queries(contracts: int, batch_size: int) -> int:
        for _ in range(contracts):
            active_contract(deadline=date(2026, 12, 31))  # 30 days: the owner and the director hear
        with CaptureQueriesContext(connection) as captured:
            assert send_renewal_reminders(today=date(2026, 12, 1), batch_size=batch_size) == contracts
        return len(captured)

    # Fixed: the active directors. Per batch: its savepoint, its SELECT (contracts with owner and client), one
    # INSERT claiming the whole batch, one INSERT of its notifications, one INSERT of their e-mail tasks (the
    # outbox) and the release. The empty batch that ends the walk: savepoint, SELECT, release.
    assert sweep_queries(2, batch_size=50) == 1 + 6 + 3
    assert sweep_queries(20, batch_size=50) == 1 + 6 + 3
    assert sweep_queries(20, batch_size=5) == 1 + 4 * 6 + 3
    assert Notification.objects.count() == 2 * (2 + 20 + 20)
    assert OutboxMessage.objects.count() == Notification.objects.count()


# --- Which -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", [stage for stage in Stage if stage != Stage.ACTIVE])
def test_no_reminders_for_deals_not_signed_yet_or_contracts_renewed_or_ended(stage):
    active_contract(deadline=date(2026, 12, 31), stage=stage)

    for days in (90, 60, 30, 7):
        assert send_renewal_reminders(today=date(2026, 12, 31) - timedelta(days=days)) == 0

    assert not Notification.objects.exists()


def test_no_reminder_for_a_contract_whose_successor_is_already_active():
    predecessor = active_contract(deadline=date(2026, 12, 31))
    active_contract(deadline=date(2027, 12, 31), renewal_of=predecessor, kind=ContractKind.RENEWAL)

    assert send_renewal_reminders(today=date(2026, 12, 1)) == 0


def test_a_renewal_still_in_negotiation_does_not_stop_the_reminders():
    contract = active_contract(deadline=date(2026, 12, 31))
    ContractFactory(renewal_of=contract, stage=Stage.NEGOTIATION, kind=ContractKind.RENEWAL, client=contract.client)

    assert send_renewal_reminders(today=date(2026, 12, 1)) == 1


# --- Auto-renewal and expiry -------------------------------------------------------------------------------------


def test_an_auto_renewing_contract_gets_its_successor_draft_at_the_notice_deadline():
    contract = active_contract(deadline=date(2026, 12, 31), auto_renew=True)
    active_contract(deadline=date(2026, 12, 31))  # not auto-renewing

    assert renew_and_expire_contracts(today=date(2026, 12, 30)) == {"renewed": 0, "expired": 0}
    assert renew_and_expire_contracts(today=date(2026, 12, 31)) == {"renewed": 1, "expired": 0}
    assert renew_and_expire_contracts(today=date(2027, 1, 1)) == {"renewed": 0, "expired": 0}

    successor = Contract.objects.get(renewal_of=contract)
    assert (successor.stage, successor.kind, successor.owner) == (Stage.DRAFT, ContractKind.RENEWAL, contract.owner)
    assert (successor.value, successor.start_date) == (contract.value, contract.end_date + timedelta(days=1))
    assert Contract.objects.filter(kind=ContractKind.RENEWAL).count() == 1
    assert Notification.objects.filter(recipient=contract.owner, url=f"/contracts/{successor.pk}/").count() == 1


def test_a_contract_renewed_by_hand_is_not_renewed_again():
    contract = active_contract(deadline=date(2026, 12, 31), auto_renew=True)
    services.contract_renew(contract=contract, actor=contract.owner)

    assert renew_and_expire_contracts(today=date(2026, 12, 31)) == {"renewed": 0, "expired": 0}
    assert Contract.objects.filter(renewal_of=contract).count() == 1


def test_a_sweep_that_loses_the_race_creates_no_second_successor():
    contract = active_contract(deadline=date(2026, 12, 31), auto_renew=True)
    services.contract_renew(contract=contract, actor=contract.owner)  # after the sweep listed it, say

    assert _auto_renew(contract.pk, date(2026, 12, 31)) is False
    assert Contract.objects.filter(renewal_of=contract).count() == 1
    assert not Notification.objects.exists()


def test_an_active_contract_past_its_end_date_expires_once_with_its_history():
    ended = active_contract(end=date(2026, 12, 31))
    last_day = active_contract(end=date(2027, 1, 1))
    version = ended.version

    assert renew_and_expire_contracts(today=date(2027, 1, 1)) == {"renewed": 0, "expired": 1}
    assert renew_and_expire_contracts(today=date(2027, 1, 1)) == {"renewed": 0, "expired": 0}

    ended.refresh_from_db()
    assert (ended.stage, ended.probability, ended.version) == (Stage.EXPIRED, 100, version + 1)
    change = StageChange.objects.get(contract=ended)
    assert (change.source, change.target, change.actor) == (Stage.ACTIVE, Stage.EXPIRED, ended.owner)
    assert Contract.objects.get(pk=last_day.pk).stage == Stage.ACTIVE
    assert not StageChange.objects.filter(contract=last_day).exists()


@pytest.mark.parametrize("stage", [Stage.RENEWED, Stage.TERMINATED, Stage.EXPIRED, Stage.DRAFT])
def test_only_active_contracts_expire(stage):
    active_contract(end=date(2026, 12, 31), stage=stage)

    assert renew_and_expire_contracts(today=date(2027, 3, 1)) == {"renewed": 0, "expired": 0}
    assert not StageChange.objects.exists()


def test_an_auto_renewed_contract_that_runs_out_unsigned_expires_then_is_renewed_when_the_renewal_is_signed():
    contract = active_contract(end=date(2026, 12, 31), notice_days=0, auto_renew=True)

    assert renew_and_expire_contracts(today=date(2026, 12, 31)) == {"renewed": 1, "expired": 0}
    assert renew_and_expire_contracts(today=date(2027, 1, 1)) == {"renewed": 0, "expired": 1}
    successor = Contract.objects.get(renewal_of=contract)
    director = UserFactory(role=Role.DIRECTOR)
    services.contract_move(contract=successor, to=Stage.NEGOTIATION, actor=director)
    services.contract_move(contract=successor, to=Stage.ACTIVE, actor=director, signed_at=timezone.now())

    assert Contract.objects.get(pk=contract.pk).stage == Stage.RENEWED


# --- Tasks and schedule ------------------------------------------------------------------------------------------


def test_the_tasks_run_the_sweeps_for_the_day_they_are_given():
    active_contract(deadline=date(2026, 12, 31))
    active_contract(end=date(2026, 6, 30))

    assert send_renewal_reminders_task.delay(today="2026-12-01").get() == 1
    assert renew_and_expire_contracts_task.delay(today="2026-12-01").get() == {"renewed": 0, "expired": 1}


def test_the_tasks_retry_only_transient_database_errors_and_have_time_limits():
    for task in (send_renewal_reminders_task, renew_and_expire_contracts_task):
        assert OperationalError in task.autoretry_for
        assert not issubclass(ValueError, task.autoretry_for)
        assert task.retry_backoff and task.max_retries
        assert task.soft_time_limit < task.time_limit


def test_beat_sends_reminders_at_8_and_sweeps_renewals_and_expiries_at_half_past_midnight():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert schedule["contracts.tasks.send_renewal_reminders_task"] == crontab(hour=8, minute=0)
    assert schedule["contracts.tasks.renew_and_expire_contracts_task"] == crontab(hour=0, minute=30)
    assert settings.CELERY_TIMEZONE == "Asia/Ho_Chi_Minh"
