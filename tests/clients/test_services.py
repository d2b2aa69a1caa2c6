from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from accounts.models import Notification, Role
from clients import services
from clients.health import annotate_health, health_factors
from clients.models import Activity, Client, ClientReassignment, Contact, Request
from clients.tasks import refresh_client_status_task
from core.errors import ConflictError, DomainError, PermissionDeniedError, TransitionError
from tests.factories import (
    ActivityFactory,
    ClientFactory,
    ContactFactory,
    DepartmentFactory,
    RequestFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def am():
    return UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Hà Nội"))


@pytest.fixture
def director():
    return UserFactory(role=Role.DIRECTOR)


# --- Clients ------------------------------------------------------------------------------------------------


def test_an_account_manager_creates_a_client_they_own_in_their_team(am):
    client = services.client_create(actor=am, name="Sữa Tươi Ba Vì", tax_code="0101234567", tags=["retainer", "tết"])

    assert (client.owner, client.team) == (am, am.team)
    assert client.search_text == "sua tuoi ba vi 0101234567"
    assert sorted(client.tags.values_list("name", flat=True)) == ["retainer", "tết"]


@pytest.mark.parametrize("tax_code", ["0101234567", "0101234567-001"])
def test_valid_tax_codes(am, tax_code):
    assert services.client_create(actor=am, name="Hồng Lam Land", tax_code=tax_code).tax_code == tax_code


@pytest.mark.parametrize("tax_code", ["12345", "0101234567-1", "010123456A", "0101234567001"])
def test_invalid_tax_codes_are_refused(am, tax_code):
    with pytest.raises(ValidationError) as error:
        services.client_create(actor=am, name="Hồng Lam Land", tax_code=tax_code)

    assert "tax_code" in error.value.message_dict
    assert not Client.objects.exists()


def test_the_database_refuses_a_bad_tax_code_too(am):
    with pytest.raises(IntegrityError):
        Client.objects.create(name="Bypass", tax_code="123", owner=am)


def test_a_tax_code_belongs_to_one_client(am):
    services.client_create(actor=am, name="Phương Nam Bank", tax_code="0309876543")

    with pytest.raises(ValidationError) as error:
        services.client_create(actor=am, name="Another", tax_code="0309876543")

    assert "tax_code" in error.value.message_dict or "__all__" in error.value.message_dict
    assert Client.objects.count() == 1


def test_finance_cannot_create_clients():
    with pytest.raises(PermissionDeniedError):
        services.client_create(actor=UserFactory(role=Role.FINANCE), name="X")


def test_only_a_director_creates_a_client_for_someone_else(am, director):
    with pytest.raises(PermissionDeniedError):
        services.client_create(actor=am, owner=UserFactory(), name="X")

    client = services.client_create(actor=director, owner=am, name="Y")
    assert client.owner == am


def test_a_stale_edit_is_refused_and_changes_nothing(am):
    client = ClientFactory(owner=am, name="Before")
    services.client_update(client=client, actor=am, expected_version=1, name="First writer")

    with pytest.raises(ConflictError):
        services.client_update(client=Client.objects.get(pk=client.pk), actor=am, expected_version=1, name="Second")

    client.refresh_from_db()
    assert (client.name, client.version) == ("First writer", 2)


def test_team_mates_read_but_cannot_edit(am):
    mate = UserFactory(role=Role.ACCOUNT_MANAGER, team=am.team)
    client = ClientFactory(owner=am)

    with pytest.raises(PermissionDeniedError):
        services.client_update(client=client, actor=mate, name="Hijacked")


def test_owner_and_team_are_not_editable_through_update(am):
    client = ClientFactory(owner=am)

    with pytest.raises(PermissionDeniedError):
        services.client_update(client=client, actor=am, owner_id=UserFactory().pk)


def test_reassign_moves_open_work_and_tells_both_owners(am, director):
    new_owner = UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Sài Gòn"))
    client = ClientFactory(owner=am)
    open_step = ActivityFactory(
        client=client, next_step="Send the deck", next_step_due=timezone.localdate(), next_step_owner=am
    )
    done_step = ActivityFactory(
        client=client,
        next_step="Old",
        next_step_due=timezone.localdate(),
        next_step_owner=am,
        next_step_done_at=timezone.now(),
    )
    open_request = RequestFactory(client=client, owner=am)
    closed_request = RequestFactory(client=client, owner=am, status="closed")

    record = services.client_reassign(client=client, to_owner=new_owner, actor=director, note="Workload")

    client.refresh_from_db()
    assert (client.owner, client.team) == (new_owner, new_owner.team)
    assert (record.moved_next_steps, record.moved_requests) == (1, 1)
    assert Activity.objects.get(pk=open_step.pk).next_step_owner == new_owner
    assert Activity.objects.get(pk=done_step.pk).next_step_owner == am
    assert Request.objects.get(pk=open_request.pk).owner == new_owner
    assert Request.objects.get(pk=closed_request.pk).owner == am
    assert set(Notification.objects.values_list("recipient", flat=True)) == {am.pk, new_owner.pk}
    assert ClientReassignment.objects.get().reassigned_by == director


def test_only_directors_reassign(am):
    client = ClientFactory(owner=am)

    with pytest.raises(PermissionDeniedError):
        services.client_reassign(client=client, to_owner=UserFactory(), actor=am)

    assert not ClientReassignment.objects.exists()


def test_reassigning_to_finance_is_refused(am, director):
    with pytest.raises(TransitionError):
        services.client_reassign(
            client=ClientFactory(owner=am), to_owner=UserFactory(role=Role.FINANCE), actor=director
        )


# --- Contacts -----------------------------------------------------------------------------------------------


def test_contact_email_is_unique_per_client_and_valid(am):
    client = ClientFactory(owner=am)
    services.contact_create(client=client, actor=am, full_name="Nguyễn Thị Minh Thư", email="thu@suabavi.example")

    with pytest.raises(ValidationError):
        services.contact_create(client=client, actor=am, full_name="Copy", email="thu@suabavi.example")
    with pytest.raises(ValidationError):
        services.contact_create(client=client, actor=am, full_name="Bad", email="not-an-email")
    with pytest.raises(IntegrityError):
        Contact.objects.create(client=client, full_name="Bypass", email="no at sign")


def test_a_stale_contact_edit_is_refused(am):
    contact = ContactFactory(client=ClientFactory(owner=am))
    services.contact_update(contact=contact, actor=am, expected_version=1, title="CMO")

    with pytest.raises(ConflictError):
        services.contact_update(contact=contact, actor=am, expected_version=1, title="CEO")

    assert Contact.objects.get(pk=contact.pk).title == "CMO"


# --- Timeline -----------------------------------------------------------------------------------------------


def test_a_next_step_belongs_to_the_author_unless_someone_is_named(am):
    client = ClientFactory(owner=am)
    due = timezone.localdate() + timedelta(days=1)

    activity = services.activity_log(
        client=client, actor=am, kind="call", subject="Brief call", next_step="Send deck", next_step_due=due
    )

    assert activity.next_step_owner == am
    assert list(Activity.objects.open_next_steps()) == [activity]
    services.next_step_complete(activity=activity, actor=am)
    assert not Activity.objects.open_next_steps().exists()


def test_a_due_date_without_a_next_step_is_refused(am):
    with pytest.raises(DomainError) as error:
        services.activity_log(
            client=ClientFactory(owner=am), actor=am, subject="Call", next_step_due=timezone.localdate()
        )

    assert "next_step" in error.value.fields
    assert not Activity.objects.exists()


def test_a_contact_of_another_client_is_refused(am):
    with pytest.raises(DomainError):
        services.activity_log(client=ClientFactory(owner=am), actor=am, subject="Call", contact=ContactFactory())


# --- Requests and hand-overs --------------------------------------------------------------------------------


def test_request_sla_follows_priority_and_the_owner_hears_of_requests_others_record(am, director):
    client = ClientFactory(owner=am)
    received = timezone.now()

    created = services.request_create(client=client, actor=director, title="Crisis: negative post", priority="urgent")

    assert created.owner == am
    assert received <= created.sla_warning_at < created.sla_due_at
    assert Notification.objects.get(recipient=am).level == "danger"


def test_request_status_moves_and_refusals(am):
    item = RequestFactory(client=ClientFactory(owner=am))

    with pytest.raises(TransitionError) as error:
        services.request_transition(request=item, to="closed", actor=am)
    assert error.value.code == "invalid_transition"

    for status in ["triaged", "in_progress", "waiting_client", "in_progress", "resolved"]:
        item = services.request_transition(request=item, to=status, actor=am)
    assert item.resolved_at is not None
    item = services.request_transition(request=item, to="closed", actor=am, note="Client confirmed")
    assert item.closed_at is not None
    assert Activity.objects.filter(client=item.client).count() == 6  # one timeline line per move


def test_handover_notifies_the_assignee_and_starts_the_work(am):
    assignee = UserFactory(full_name="Hoàng Ngọc Lan")
    item = RequestFactory(client=ClientFactory(owner=am), priority="urgent")

    handover = services.handover_create(
        request=item,
        department=DepartmentFactory(name="Creative"),
        assignee=assignee,
        brief="Three KV directions",
        due_date=timezone.localdate(),
        actor=am,
    )

    assert Request.objects.get(pk=item.pk).status == "in_progress"
    notification = Notification.objects.get(recipient=assignee)
    assert notification.title.startswith("Hand-over for Creative")
    assert notification.url == f"/requests/{item.pk}/"

    services.handover_set_status(handover=handover, to="done", actor=assignee)
    assert Notification.objects.filter(recipient=am, level="success").exists()


def test_a_closed_request_cannot_be_handed_over(am):
    item = RequestFactory(client=ClientFactory(owner=am), status="closed")

    with pytest.raises(TransitionError):
        services.handover_create(
            request=item,
            department=DepartmentFactory(),
            assignee=am,
            brief="x",
            due_date=timezone.localdate(),
            actor=am,
        )


def test_breaches_are_notified_once(am):
    late = RequestFactory(client=ClientFactory(owner=am), received_at=timezone.now() - timedelta(days=10))
    RequestFactory(client=ClientFactory(owner=am))  # not yet due

    assert services.requests_notify_breaches() == 1
    assert services.requests_notify_breaches() == 0

    assert Notification.objects.filter(recipient=am, title__contains=late.title).count() == 1


# --- Health -------------------------------------------------------------------------------------------------


def test_health_score_and_its_explanation(am):
    client = ClientFactory(owner=am)
    Client.objects.filter(pk=client.pk).update(created_at=timezone.now() - timedelta(days=90))
    ActivityFactory(client=client, occurred_at=timezone.now() - timedelta(days=45))
    RequestFactory.create_batch(3, client=client, priority="urgent")

    scored = annotate_health(Client.objects.filter(pk=client.pk)).get()

    assert scored.open_urgent_requests == 3
    assert scored.health_score == 100 - 15 - 30
    factors = health_factors(scored)
    assert [(factor.points, factor.detail) for factor in factors] == [
        (15, "No activity for 45 days."),
        (30, "3 urgent requests are open."),
    ]


def test_a_new_client_without_activity_is_healthy(am):
    scored = annotate_health(Client.objects.filter(pk=ClientFactory(owner=am).pk)).get()

    assert scored.health_score == 100
    assert health_factors(scored) == []


def test_status_follows_health_both_ways(am):
    sick, recovered = ClientFactory(owner=am, status="active"), ClientFactory(owner=am, status="at_risk")
    Client.objects.filter(pk=sick.pk).update(created_at=timezone.now() - timedelta(days=90))
    RequestFactory.create_batch(2, client=sick, priority="urgent")

    assert refresh_client_status_task() == {"at_risk": 1, "active": 1}

    assert Client.objects.get(pk=sick.pk).status == "at_risk"
    assert Client.objects.get(pk=recovered.pk).status == "active"


def test_handover_moves_follow_the_table(am):
    from clients.models import Handover

    handover = services.handover_create(
        request=RequestFactory(client=ClientFactory(owner=am)),
        department=DepartmentFactory(),
        assignee=am,
        brief="x",
        due_date=timezone.localdate(),
        actor=am,
    )
    services.handover_set_status(handover=handover, to="in_progress", actor=am)

    with pytest.raises(TransitionError):
        services.handover_set_status(handover=Handover.objects.get(pk=handover.pk), to="open", actor=am)
    services.handover_set_status(handover=Handover.objects.get(pk=handover.pk), to="done", actor=am)
    with pytest.raises(TransitionError):
        services.handover_set_status(handover=Handover.objects.get(pk=handover.pk), to="cancelled", actor=am)


def test_partner_services_accept_only_their_fields(am):
    from tests.factories import PartnerFactory

    with pytest.raises(PermissionDeniedError):
        services.partner_update(partner=PartnerFactory(), actor=am, id=999)


def test_ninety_quiet_days_alone_put_a_client_at_risk(am):
    client = ClientFactory(owner=am)
    Client.objects.filter(pk=client.pk).update(created_at=timezone.now() - timedelta(days=120))

    scored = annotate_health(Client.objects.filter(pk=client.pk)).get()

    assert scored.health_score == 45
    assert [factor.points for factor in health_factors(scored)] == [55]
