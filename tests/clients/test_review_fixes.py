"""Edges found in review: what sales can search by, who may own a next step, hostile input, hand-over access."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from clients import services
from clients.health import annotate_health
from clients.models import Activity, Client
from clients.selectors import global_search
from core.errors import DomainError
from tests.factories import (
    ActivityFactory,
    ClientFactory,
    ContactFactory,
    HandoverFactory,
    RequestFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def am():
    return UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Hà Nội"))


def test_sales_find_other_peoples_clients_by_name_only(client):
    ClientFactory(name="Hồng Lam Land", tax_code="0309999999", city="Huế")
    sales = UserFactory(role=Role.SALES)
    client.force_login(sales)

    def found(query):
        return [c.name for c in client.get(f"/clients/?q={query}").context["page"].object_list]

    assert found("hong lam") == ["Hồng Lam Land"]
    assert found("0309999999") == [] and found("hue") == []
    assert global_search(user=sales, query="0309999999")["clients"] == []
    assert [c.name for c in global_search(user=sales, query="lam land")["clients"]] == ["Hồng Lam Land"]


def test_sales_search_their_own_clients_by_everything(client):
    sales = UserFactory(role=Role.SALES)
    ClientFactory(name="Mine", owner=sales, tax_code="0308888888")
    client.force_login(sales)

    assert [c.name for c in client.get("/clients/?q=0308888888").context["page"].object_list] == ["Mine"]


def test_a_next_step_cannot_go_to_someone_who_cannot_open_the_client(am):
    outsider = UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Sài Gòn"))
    mate = UserFactory(role=Role.ACCOUNT_MANAGER, team=am.team)
    record = ClientFactory(owner=am)

    with pytest.raises(DomainError) as error:
        services.activity_log(client=record, actor=am, subject="Call", next_step="Send deck", next_step_owner=outsider)
    assert "next_step_owner" in error.value.fields
    activity = services.activity_log(client=record, actor=am, subject="Call", next_step="Send", next_step_owner=mate)
    assert activity.next_step_owner == mate


def test_the_next_step_owner_choices_are_people_who_can_open_the_client(client, am):
    record = ClientFactory(owner=am)
    mate = UserFactory(role=Role.ACCOUNT_MANAGER, team=am.team)
    outsider = UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Sài Gòn"))
    client.force_login(am)

    choices = client.get(f"/clients/{record.pk}/?tab=timeline").context["activity_form"].fields["next_step_owner"]

    assert {am, mate} <= set(choices.queryset) and outsider not in set(choices.queryset)


def test_a_request_from_the_far_future_is_a_form_error(client, am):
    record = ClientFactory(owner=am)
    client.force_login(am)

    response = client.post(
        f"/clients/{record.pk}/requests/new/",
        {"kind": "brief", "priority": "normal", "title": "Time travel", "received_at": "9999-12-31T17:00"},
    )

    assert response.status_code == 400
    assert "not in the future" in response.content.decode()


@pytest.mark.parametrize("path", ["/search/?q=", "/clients/?q=", "/partners/?q="])
def test_a_pasted_essay_or_a_nul_is_just_a_query(client, am, path):
    client.force_login(am)

    assert client.get(path + "lorem%20" * 1200).status_code == 200
    assert client.get(path + "ab%00cd").status_code == 200


def test_the_export_does_not_let_excel_run_a_formula(client, am):
    ClientFactory(owner=am, name='=HYPERLINK("https://evil.example","Click")')
    client.force_login(am)

    content = b"".join(client.get("/clients/export.csv").streaming_content).decode("utf-8-sig")

    assert list(csv.reader(io.StringIO(content)))[1][0] == '\'=HYPERLINK("https://evil.example","Click")'


def test_an_assignee_sees_only_their_hand_over_and_only_while_it_is_open(client, am):
    item = RequestFactory(client=ClientFactory(owner=am), contact=None)
    mine = HandoverFactory(request=item, brief="My brief")
    HandoverFactory(request=item, brief="Someone else's brief")
    client.force_login(mine.assignee)

    html = client.get(f"/requests/{item.pk}/").content.decode()
    assert "My brief" in html and "Someone else&#x27;s brief" not in html and "Someone else's brief" not in html

    client.post(f"/handovers/{mine.pk}/status/", {"to": "done"})
    assert client.get(f"/requests/{item.pk}/").status_code == 404


def test_health_ignores_planned_and_automatic_timeline_entries(am):
    record = ClientFactory(owner=am)
    Client.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(days=120))
    ActivityFactory(client=record, occurred_at=timezone.now() + timedelta(days=20), subject="Planned QBR")
    item = RequestFactory(client=record)
    services.request_transition(request=item, to="triaged", actor=am)

    scored = annotate_health(Client.objects.filter(pk=record.pk)).get()

    assert Activity.objects.filter(client=record, is_system=True).count() == 1
    assert scored.last_activity_at is None
    assert scored.health_score == 45


def test_the_import_does_not_reveal_a_contact_elsewhere_through_the_page(client, am):
    ContactFactory(email="secret@elsewhere.example")
    client.force_login(am)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "clients.csv", b"name,contact_name,contact_email\nNew Co,Someone,secret@elsewhere.example\n"
    )
    response = client.post("/clients/import/", {"file": upload, "preview": "1"})

    assert response.context["report"].errors == []
    assert "already exists" not in response.content.decode()
