"""The clients API: CRUD, filters, the visibility matrix, no mass assignment, errors and bounded query counts."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Notification, Role
from clients.models import (
    Activity,
    Client,
    ClientReassignment,
    Contact,
    Handover,
    Partner,
    PartnerRelationship,
    Request,
    Tag,
)
from tests.api_support import as_user, error_of, ids
from tests.factories import (
    ActivityFactory,
    ClientFactory,
    ContactFactory,
    DepartmentFactory,
    HandoverFactory,
    PartnerFactory,
    PartnerRelationshipFactory,
    RequestFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


# --- People and helpers -------------------------------------------------------------------------------------


CLIENT_SUMMARY_FIELDS = {"id", "name", "owner"}


# --- Clients: visibility ------------------------------------------------------------------------------------


def test_an_account_manager_lists_own_and_team_clients_only(api, am, teammate, stranger):
    own, teams = ClientFactory(owner=am), ClientFactory(owner=teammate)
    ClientFactory(owner=stranger)

    response = as_user(api, am).get("/api/v1/clients")

    assert ids(response) == {own.pk, teams.pk}
    assert all("health_score" in row for row in response.json()["results"])


def test_sales_sees_every_client_name_and_owner_but_only_its_own_in_full(api, am, sales):
    others = ClientFactory(owner=am, name="Vinamilk")
    own = ClientFactory(owner=sales)

    rows = {row["id"]: row for row in as_user(api, sales).get("/api/v1/clients").json()["results"]}

    assert rows[others.pk] == {"id": others.pk, "name": "Vinamilk", "owner": {"id": am.pk, "full_name": "Lan Nguyễn"}}
    assert "tax_code" in rows[own.pk] and "health_score" in rows[own.pk]
    assert set(api.get(f"/api/v1/clients/{others.pk}").json()) == CLIENT_SUMMARY_FIELDS


def test_sales_filters_and_sorts_clients_by_name_and_owner_only(api, am, sales):
    hidden = ClientFactory(owner=am, name="Vinamilk", status="at_risk", tier="A")
    hidden.tags.add(Tag.objects.create(name="retainer"))
    ContactFactory(client=hidden, email="ketoan@vinamilk.vn")
    own = ClientFactory(owner=sales, name="Acecook", status="active", tier="B")
    as_user(api, sales)

    for params in ({"status": "at_risk"}, {"tier": "A"}, {"tag": "retainer"}):  # ignored
        assert [row["id"] for row in api.get("/api/v1/clients", params).json()["results"]] == [own.pk, hidden.pk]
    assert list(error_of(api.get("/api/v1/clients", {"sort": "health"}), 400)["fields"]) == ["sort"]
    assert ids(api.get("/api/v1/clients", {"q": "ketoan@vinamilk"})) == set()  # contacts are not searched
    assert ids(api.get("/api/v1/clients", {"q": "vinamilk"})) == {hidden.pk}
    assert ids(api.get("/api/v1/clients", {"owner": sales.pk})) == {own.pk}


def test_sales_may_not_change_a_client_it_does_not_own(api, am, sales):
    client = ClientFactory(owner=am, name="Vinamilk")

    response = as_user(api, sales).patch(f"/api/v1/clients/{client.pk}", {"name": "Mine now"})

    assert error_of(response, 403)["code"] == "permission_denied"
    client.refresh_from_db()
    assert client.name == "Vinamilk"


def test_a_client_of_another_team_does_not_exist_for_an_account_manager(api, am, stranger, director):
    client = ClientFactory(owner=stranger)
    as_user(api, am)

    assert error_of(api.get(f"/api/v1/clients/{client.pk}"), 404)["code"] == "not_found"
    assert api.patch(f"/api/v1/clients/{client.pk}", {"name": "x"}).status_code == 404
    assert api.put(f"/api/v1/clients/{client.pk}", {"name": "x"}).status_code == 404
    assert api.post(f"/api/v1/clients/{client.pk}/reassign", {"to_owner": am.pk}).status_code == 404


def test_a_team_client_is_read_only_for_an_account_manager(api, am, teammate):
    client = ClientFactory(owner=teammate, city="Huế")
    as_user(api, am)

    assert api.get(f"/api/v1/clients/{client.pk}").json()["city"] == "Huế"
    error = error_of(api.patch(f"/api/v1/clients/{client.pk}", {"city": "Đà Nẵng"}), 403)

    assert error == {
        "code": "permission_denied",
        "message": "Only the client's owner or a director can change this client.",
        "fields": {},
    }
    client.refresh_from_db()
    assert client.city == "Huế"


def test_finance_reads_every_client_in_full_and_changes_none(api, am, stranger, finance):
    clients = [ClientFactory(owner=am), ClientFactory(owner=stranger)]
    as_user(api, finance)

    response = api.get("/api/v1/clients")

    assert ids(response) == {client.pk for client in clients}
    assert all("tax_code" in row for row in response.json()["results"])
    assert error_of(api.patch(f"/api/v1/clients/{clients[0].pk}", {"name": "x"}), 403)["code"] == "permission_denied"
    assert error_of(api.post("/api/v1/clients", {"name": "Masan"}), 403)["code"] == "permission_denied"
    assert not Client.objects.filter(name="Masan").exists()


def test_a_director_sees_and_changes_every_client(api, am, stranger, director):
    clients = [ClientFactory(owner=am), ClientFactory(owner=stranger)]
    as_user(api, director)

    assert ids(api.get("/api/v1/clients")) == {client.pk for client in clients}
    assert api.patch(f"/api/v1/clients/{clients[1].pk}", {"tier": "A"}).json()["tier"] == "A"


def test_anonymous_callers_get_401(api):
    assert error_of(api.get("/api/v1/clients"), 401)["code"] == "not_authenticated"


# --- Clients: reading, filtering, writing -------------------------------------------------------------------


def test_the_client_card_carries_health_open_requests_last_activity_tags_and_version(api, am):
    client = ClientFactory(owner=am)
    client.tags.add(Tag.objects.create(name="retainer"), Tag.objects.create(name="tet"))
    RequestFactory(client=client, priority="urgent")
    RequestFactory(client=client, status="closed")
    activity = ActivityFactory(client=client)

    body = as_user(api, am).get(f"/api/v1/clients/{client.pk}").json()

    assert body["open_requests"] == 1
    assert body["health_score"] == 85  # one open urgent request costs 15 points
    assert datetime.datetime.fromisoformat(body["last_activity_at"]) == activity.occurred_at
    assert body["tags"] == ["retainer", "tet"]
    assert body["version"] == 1
    assert body["owner"] == {"id": am.pk, "full_name": "Lan Nguyễn"}
    assert body["team"] == {"id": am.team_id, "name": "Hà Nội"}


def test_clients_filter_by_status_tier_tag_owner_and_search(api, am, teammate):
    active = ClientFactory(owner=am, name="Công ty Sữa Việt", status="active", tier="A")
    prospect = ClientFactory(owner=am, name="Masan", status="prospect", tier="B")
    teams = ClientFactory(owner=teammate, name="Bia Sài Gòn", status="active", tier="B")
    active.tags.add(Tag.objects.create(name="retainer"))
    as_user(api, am)

    assert ids(api.get("/api/v1/clients", {"status": "active"})) == {active.pk, teams.pk}
    assert ids(api.get("/api/v1/clients", {"tier": "B", "status": "prospect"})) == {prospect.pk}
    assert ids(api.get("/api/v1/clients", {"tag": "retainer"})) == {active.pk}
    assert ids(api.get("/api/v1/clients", {"owner": teammate.pk})) == {teams.pk}
    assert ids(api.get("/api/v1/clients", {"q": "sua viet"})) == {active.pk}  # diacritics ignored


def test_clients_are_ordered_with_sort_and_not_with_ordering(api, am):
    for name in ("Bia", "An Phát", "Cát Lợi"):
        ClientFactory(owner=am, name=name)
    as_user(api, am)

    def names(**params):
        return [row["name"] for row in api.get("/api/v1/clients", params).json()["results"]]

    assert names() == ["An Phát", "Bia", "Cát Lợi"]
    assert names(sort="-name") == ["Cát Lợi", "Bia", "An Phát"]
    assert names(ordering="-name") == ["An Phát", "Bia", "Cát Lợi"]


def test_an_unknown_filter_value_is_a_structured_400(api, am):
    error = error_of(as_user(api, am).get("/api/v1/clients", {"status": "asleep"}), 400)

    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["status"]


def test_a_new_client_belongs_to_its_creator_and_their_team(api, am):
    response = as_user(api, am).post(
        "/api/v1/clients",
        {"name": "Masan", "tax_code": "0101234567", "tier": "A", "tags": ["tet", "retainer"]},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    client = Client.objects.get(pk=body["id"])
    assert (client.owner, client.team, client.status, client.tier) == (am, am.team, "prospect", "A")
    assert body["tags"] == ["retainer", "tet"]
    assert body["health_score"] == 100 and body["open_requests"] == 0


def test_an_account_manager_cannot_create_a_client_for_someone_else_or_set_its_team(api, am, stranger):
    as_user(api, am)

    refused = api.post("/api/v1/clients", {"name": "Masan", "owner": stranger.pk})
    ignored = api.post("/api/v1/clients", {"name": "Vinamilk", "team": stranger.team_id, "status": "churned"})

    assert error_of(refused, 403)["code"] == "permission_denied"
    assert not Client.objects.filter(name="Masan").exists()
    client = Client.objects.get(pk=ignored.json()["id"])
    assert (client.owner, client.team, client.status) == (am, am.team, "prospect")


def test_a_director_creates_a_client_for_an_account_manager(api, director, stranger):
    response = as_user(api, director).post("/api/v1/clients", {"name": "Masan", "owner": stranger.pk})

    assert response.status_code == 201, response.content
    assert response.json()["owner"]["id"] == stranger.pk
    assert response.json()["team"]["id"] == stranger.team_id


def test_an_invalid_client_is_refused_field_by_field(api, am):
    ClientFactory(owner=am, tax_code="0101234567")
    as_user(api, am)

    bad_format = error_of(api.post("/api/v1/clients", {"name": "A", "tax_code": "12345"}), 400)
    taken = error_of(api.post("/api/v1/clients", {"name": "B", "tax_code": "0101234567"}), 400)
    nameless = error_of(api.post("/api/v1/clients", {"tier": "A"}), 400)

    assert bad_format["code"] == "invalid" and list(bad_format["fields"]) == ["tax_code"]
    assert list(taken["fields"]) == ["tax_code"]
    assert nameless["fields"] == {"name": ["This field is required."]}
    assert Client.objects.count() == 1


def test_patch_changes_details_bumps_the_version_and_ignores_owner_team_and_status(api, am, stranger):
    client = ClientFactory(owner=am, status="active", tier="B")
    client.tags.add(Tag.objects.create(name="old"))

    response = as_user(api, am).patch(
        f"/api/v1/clients/{client.pk}",
        {
            "tier": "A",
            "version": 1,
            "tags": ["new"],
            "owner": stranger.pk,
            "team": stranger.team_id,
            "status": "churned",
            "health_score": 1,
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["tier"], body["version"], body["tags"], body["status"]) == ("A", 2, ["new"], "active")
    client.refresh_from_db()
    assert (client.owner, client.team, client.status, client.tier) == (am, am.team, "active", "A")


def test_a_stale_version_is_a_409_and_changes_nothing(api, am):
    client = ClientFactory(owner=am, city="Huế")
    as_user(api, am)
    assert api.patch(f"/api/v1/clients/{client.pk}", {"city": "Hà Nội", "version": 1}).status_code == 200

    response = api.patch(f"/api/v1/clients/{client.pk}", {"city": "Đà Nẵng", "version": 1})

    error = error_of(response, 409)
    assert error["code"] == "conflict"
    assert "Someone else changed this record" in error["message"]
    client.refresh_from_db()
    assert (client.city, client.version) == ("Hà Nội", 2)


def test_put_replaces_the_details_and_needs_a_name(api, am):
    client = ClientFactory(owner=am, city="Huế", name="Old")
    as_user(api, am)

    assert error_of(api.put(f"/api/v1/clients/{client.pk}", {"city": "Vinh"}), 400)["fields"] == {
        "name": ["This field is required."]
    }
    response = api.put(f"/api/v1/clients/{client.pk}", {"name": "New", "city": "Vinh", "version": 1})

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["city"], response.json()["version"]) == ("New", "Vinh", 2)


def test_clients_are_never_deleted(api, director):
    client = ClientFactory()

    response = as_user(api, director).delete(f"/api/v1/clients/{client.pk}")

    assert error_of(response, 405)["code"] == "method_not_allowed"
    assert Client.objects.filter(pk=client.pk).exists()


def test_a_director_reassigns_a_client_with_its_open_work(api, director, am, stranger):
    client = ClientFactory(owner=am)
    open_request = RequestFactory(client=client)

    response = as_user(api, director).post(
        f"/api/v1/clients/{client.pk}/reassign", {"to_owner": stranger.pk, "note": "Coverage"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from_owner"]["id"], body["to_owner"]["id"], body["moved_requests"]) == (am.pk, stranger.pk, 1)
    client.refresh_from_db()
    open_request.refresh_from_db()
    assert (client.owner, client.team, open_request.owner) == (stranger, stranger.team, stranger)


def test_only_a_director_reassigns(api, am, stranger):
    client = ClientFactory(owner=am)

    response = as_user(api, am).post(f"/api/v1/clients/{client.pk}/reassign", {"to_owner": stranger.pk})

    assert error_of(response, 403)["code"] == "permission_denied"
    assert not ClientReassignment.objects.exists()
    client.refresh_from_db()
    assert client.owner == am


def test_reassigning_to_the_current_owner_is_refused(api, director, am):
    client = ClientFactory(owner=am)

    response = as_user(api, director).post(f"/api/v1/clients/{client.pk}/reassign", {"to_owner": am.pk})

    assert error_of(response, 400)["code"] == "invalid_transition"


# --- Contacts -----------------------------------------------------------------------------------------------


def test_contacts_follow_the_client_details_visibility(api, am, teammate, stranger, sales, finance):
    own = ContactFactory(client=ClientFactory(owner=am))
    teams = ContactFactory(client=ClientFactory(owner=teammate))
    others = ContactFactory(client=ClientFactory(owner=stranger))

    assert ids(as_user(api, am).get("/api/v1/contacts")) == {own.pk, teams.pk}
    assert ids(as_user(api, finance).get("/api/v1/contacts")) == {own.pk, teams.pk, others.pk}
    assert ids(as_user(api, sales).get("/api/v1/contacts")) == set()
    assert error_of(api.get(f"/api/v1/contacts/{own.pk}"), 404)["code"] == "not_found"
    assert api.patch(f"/api/v1/contacts/{own.pk}", {"title": "x"}).status_code == 404
    assert api.delete(f"/api/v1/contacts/{own.pk}").status_code == 404


def test_contacts_filter_by_client_email_and_flags(api, am):
    client, other = ClientFactory(owner=am), ClientFactory(owner=am)
    billing = ContactFactory(client=client, is_billing=True, email="ketoan@vinamilk.vn")
    plain = ContactFactory(client=client)
    ContactFactory(client=other)
    as_user(api, am)

    assert ids(api.get("/api/v1/contacts", {"client": client.pk})) == {billing.pk, plain.pk}
    assert ids(api.get("/api/v1/contacts", {"is_billing": "true"})) == {billing.pk}
    assert ids(api.get("/api/v1/contacts", {"email": "KETOAN@vinamilk.vn"})) == {billing.pk}


def test_an_account_manager_adds_changes_and_removes_contacts_of_own_clients(api, am):
    client = ClientFactory(owner=am)
    as_user(api, am)

    created = api.post(
        "/api/v1/contacts",
        {"client": client.pk, "full_name": "Trần Thị Mai", "email": "mai@vinamilk.vn", "is_billing": True},
    )
    assert created.status_code == 201, created.content
    contact_id = created.json()["id"]
    changed = api.patch(f"/api/v1/contacts/{contact_id}", {"title": "CMO", "version": 1})
    assert (changed.json()["title"], changed.json()["version"]) == ("CMO", 2)
    assert error_of(api.patch(f"/api/v1/contacts/{contact_id}", {"title": "CEO", "version": 1}), 409)

    assert api.delete(f"/api/v1/contacts/{contact_id}").status_code == 204
    assert not Contact.objects.filter(pk=contact_id).exists()


def test_a_contact_never_moves_to_another_client(api, am):
    contact = ContactFactory(client=ClientFactory(owner=am))
    elsewhere = ClientFactory(owner=am)

    response = as_user(api, am).patch(f"/api/v1/contacts/{contact.pk}", {"client": elsewhere.pk, "title": "CFO"})

    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.client_id, contact.title) == (response.json()["client"], "CFO")
    assert contact.client_id != elsewhere.pk


def test_contacts_of_a_team_client_are_read_only(api, am, teammate):
    contact = ContactFactory(client=ClientFactory(owner=teammate), title="CMO")
    as_user(api, am)

    assert api.get(f"/api/v1/contacts/{contact.pk}").status_code == 200
    assert error_of(api.patch(f"/api/v1/contacts/{contact.pk}", {"title": "x"}), 403)["code"] == "permission_denied"
    assert error_of(api.delete(f"/api/v1/contacts/{contact.pk}"), 403)["code"] == "permission_denied"
    created = api.post("/api/v1/contacts", {"client": contact.client_id, "full_name": "Ngô Văn B"})
    assert error_of(created, 403)["code"] == "permission_denied"
    contact.refresh_from_db()
    assert contact.title == "CMO" and Contact.objects.count() == 1


def test_a_contact_for_a_hidden_client_looks_like_one_for_no_client(api, am, stranger):
    hidden = ClientFactory(owner=stranger)
    as_user(api, am)

    hidden_answer = error_of(api.post("/api/v1/contacts", {"client": hidden.pk, "full_name": "A"}), 400)
    missing_answer = error_of(api.post("/api/v1/contacts", {"client": 999_999, "full_name": "A"}), 400)

    assert hidden_answer["fields"]["client"] == [f'Invalid pk "{hidden.pk}" - object does not exist.']
    assert missing_answer["fields"]["client"] == ['Invalid pk "999999" - object does not exist.']
    assert not Contact.objects.exists()


def test_finance_cannot_write_contacts(api, am, finance):
    contact = ContactFactory(client=ClientFactory(owner=am))
    as_user(api, finance)

    assert error_of(api.post("/api/v1/contacts", {"client": contact.client_id, "full_name": "A"}), 403)
    assert error_of(api.delete(f"/api/v1/contacts/{contact.pk}"), 403)
    assert Contact.objects.count() == 1


def test_a_duplicate_contact_email_on_one_client_is_a_400(api, am):
    contact = ContactFactory(client=ClientFactory(owner=am), email="mai@vinamilk.vn")

    response = as_user(api, am).post(
        "/api/v1/contacts", {"client": contact.client_id, "full_name": "Mai 2", "email": "mai@vinamilk.vn"}
    )

    assert error_of(response, 400)["code"] == "invalid"
    assert Contact.objects.count() == 1


# --- Partners and relationships -----------------------------------------------------------------------------


def test_every_colleague_reads_partners_with_a_count_of_their_own_visible_clients(api, am, stranger, sales):
    partner = PartnerFactory(name="Studio Ánh Dương", kind="production_house")
    PartnerRelationshipFactory(partner=partner, client=ClientFactory(owner=am))
    PartnerRelationshipFactory(partner=partner, client=ClientFactory(owner=stranger))

    rows = as_user(api, am).get("/api/v1/partners").json()["results"]
    assert [(row["name"], row["client_count"]) for row in rows] == [("Studio Ánh Dương", 1)]
    assert as_user(api, sales).get(f"/api/v1/partners/{partner.pk}").json()["client_count"] == 0


def test_partners_filter_by_kind_and_search(api, am):
    studio = PartnerFactory(name="Studio Ánh Dương", kind="production_house")
    media = PartnerFactory(name="Media One", kind="media_vendor")
    as_user(api, am)

    assert ids(api.get("/api/v1/partners", {"kind": "media_vendor"})) == {media.pk}
    assert ids(api.get("/api/v1/partners", {"q": "anh duong"})) == {studio.pk}
    assert [row["name"] for row in api.get("/api/v1/partners", {"ordering": "-name"}).json()["results"]] == [
        "Studio Ánh Dương",
        "Media One",
    ]


def test_account_managers_keep_the_partner_list(api, am):
    as_user(api, am)

    created = api.post("/api/v1/partners", {"name": "Studio Ánh Dương", "kind": "supplier", "client_count": 9})
    assert created.status_code == 201, created.content
    assert created.json()["client_count"] == 0
    changed = api.patch(f"/api/v1/partners/{created.json()['id']}", {"kind": "consultant"})

    assert changed.json()["kind"] == "consultant"
    assert error_of(api.post("/api/v1/partners", {"name": "Studio Ánh Dương"}), 400)["fields"]["name"]


@pytest.mark.parametrize("role", [Role.SALES, Role.FINANCE])
def test_sales_and_finance_do_not_edit_partners(api, role):
    partner = PartnerFactory(kind="supplier")
    as_user(api, UserFactory(role=role))

    assert error_of(api.post("/api/v1/partners", {"name": "New"}), 403)["code"] == "permission_denied"
    assert error_of(api.patch(f"/api/v1/partners/{partner.pk}", {"kind": "other"}), 403)
    partner.refresh_from_db()
    assert partner.kind == "supplier" and Partner.objects.count() == 1


def test_partners_are_not_deleted_through_the_api(api, director):
    partner = PartnerFactory()

    assert as_user(api, director).delete(f"/api/v1/partners/{partner.pk}").status_code == 405


def test_partner_relationships_follow_the_client_and_filter(api, am, teammate, stranger):
    partner = PartnerFactory()
    own = PartnerRelationshipFactory(partner=partner, client=ClientFactory(owner=am), status="active")
    paused = PartnerRelationshipFactory(client=ClientFactory(owner=teammate), status="paused")
    hidden = PartnerRelationshipFactory(partner=partner, client=ClientFactory(owner=stranger))
    as_user(api, am)

    assert ids(api.get("/api/v1/partner-relationships")) == {own.pk, paused.pk}
    assert ids(api.get("/api/v1/partner-relationships", {"partner": partner.pk})) == {own.pk}
    assert ids(api.get("/api/v1/partner-relationships", {"status": "paused"})) == {paused.pk}
    assert ids(api.get("/api/v1/partner-relationships", {"client": own.client_id})) == {own.pk}
    assert ids(api.get("/api/v1/partner-relationships", {"client": hidden.client_id})) == set()
    assert api.get(f"/api/v1/partner-relationships/{hidden.pk}").status_code == 404


def test_an_account_manager_links_changes_and_unlinks_partners_of_own_clients(api, am):
    client, partner = ClientFactory(owner=am), PartnerFactory()
    as_user(api, am)

    created = api.post(
        "/api/v1/partner-relationships",
        {"client": client.pk, "partner": partner.pk, "role": "Event sponsor", "value": "150000000"},
    )
    assert created.status_code == 201, created.content
    link_id = created.json()["id"]
    changed = api.patch(f"/api/v1/partner-relationships/{link_id}", {"status": "ended", "client": 1, "partner": 1})
    assert (changed.json()["status"], changed.json()["client"], changed.json()["partner"]) == (
        "ended",
        client.pk,
        partner.pk,
    )
    duplicate = api.post(
        "/api/v1/partner-relationships", {"client": client.pk, "partner": partner.pk, "role": "Event sponsor"}
    )
    assert error_of(duplicate, 400)["code"] == "invalid"

    assert api.delete(f"/api/v1/partner-relationships/{link_id}").status_code == 204
    assert not PartnerRelationship.objects.exists()


def test_partner_relationships_of_a_team_client_are_read_only(api, am, teammate):
    link = PartnerRelationshipFactory(client=ClientFactory(owner=teammate))
    as_user(api, am)

    assert error_of(api.patch(f"/api/v1/partner-relationships/{link.pk}", {"status": "ended"}), 403)
    assert error_of(api.delete(f"/api/v1/partner-relationships/{link.pk}"), 403)
    created = api.post(
        "/api/v1/partner-relationships", {"client": link.client_id, "partner": link.partner_id, "role": "Media"}
    )
    assert error_of(created, 403)["code"] == "permission_denied"
    assert PartnerRelationship.objects.count() == 1


# --- Activities ---------------------------------------------------------------------------------------------


def test_logging_an_activity_makes_the_actor_its_author_and_next_step_owner(api, am, teammate):
    client = ClientFactory(owner=am)
    contact = ContactFactory(client=client)
    due = timezone.localdate() + datetime.timedelta(days=2)

    response = as_user(api, am).post(
        "/api/v1/activities",
        {
            "client": client.pk,
            "kind": "meeting",
            "subject": "Tết brief",
            "contact": contact.pk,
            "next_step": "Send the proposal",
            "next_step_due": due.isoformat(),
            "author": teammate.pk,
            "next_step_done_at": timezone.now().isoformat(),
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["author"]["id"], body["next_step_owner"], body["contact_name"]) == (am.pk, am.pk, contact.full_name)
    assert body["next_step_done_at"] is None


def test_an_activity_with_another_clients_contact_is_refused(api, am):
    client = ClientFactory(owner=am)
    foreign_contact = ContactFactory(client=ClientFactory(owner=am))

    response = as_user(api, am).post(
        "/api/v1/activities", {"client": client.pk, "subject": "Call", "contact": foreign_contact.pk}
    )

    error = error_of(response, 400)
    assert error["fields"] == {"contact": ["Not this client's."]}
    assert not Activity.objects.exists()


def test_activities_on_a_team_client_cannot_be_logged(api, am, teammate):
    client = ClientFactory(owner=teammate)

    response = as_user(api, am).post("/api/v1/activities", {"client": client.pk, "subject": "Call"})

    assert error_of(response, 403)["code"] == "permission_denied"
    assert not Activity.objects.exists()


def test_activities_follow_the_client_and_filter_by_open_next_step(api, am, teammate, stranger):
    client = ClientFactory(owner=am)
    with_step = ActivityFactory(
        client=client, next_step="Call back", next_step_due=timezone.localdate(), next_step_owner=am
    )
    plain = ActivityFactory(client=client, kind="note")
    teams = ActivityFactory(client=ClientFactory(owner=teammate))
    ActivityFactory(client=ClientFactory(owner=stranger))
    as_user(api, am)

    assert ids(api.get("/api/v1/activities")) == {with_step.pk, plain.pk, teams.pk}
    assert ids(api.get("/api/v1/activities", {"open_next_step": "true"})) == {with_step.pk}
    assert ids(api.get("/api/v1/activities", {"kind": "note", "client": client.pk})) == {plain.pk}


def test_the_timeline_is_append_only(api, am):
    activity = ActivityFactory(client=ClientFactory(owner=am))
    as_user(api, am)

    assert api.patch(f"/api/v1/activities/{activity.pk}", {"subject": "x"}).status_code == 405
    assert api.delete(f"/api/v1/activities/{activity.pk}").status_code == 405


def test_completing_a_next_step(api, am, teammate, stranger):
    activity = ActivityFactory(
        client=ClientFactory(owner=am), next_step="Call back", next_step_due=timezone.localdate(), next_step_owner=am
    )
    path = f"/api/v1/activities/{activity.pk}/complete-next-step"

    assert error_of(as_user(api, stranger).post(path), 404)["code"] == "not_found"
    assert error_of(as_user(api, teammate).post(path), 403)["code"] == "permission_denied"
    response = as_user(api, am).post(path)

    assert response.status_code == 200
    assert response.json()["next_step_done_at"] is not None


def test_the_owner_of_a_next_step_completes_it_on_a_client_they_cannot_open(api, am, stranger):
    activity = ActivityFactory(
        client=ClientFactory(owner=am),
        next_step="Send the brief",
        next_step_due=timezone.localdate(),
        next_step_owner=stranger,
    )

    response = as_user(api, stranger).post(f"/api/v1/activities/{activity.pk}/complete-next-step")

    assert response.status_code == 200
    assert api.get(f"/api/v1/activities/{activity.pk}").status_code == 404


def test_completing_an_activity_without_a_next_step_is_refused(api, am):
    activity = ActivityFactory(client=ClientFactory(owner=am))

    response = as_user(api, am).post(f"/api/v1/activities/{activity.pk}/complete-next-step")

    assert error_of(response, 400)["code"] == "invalid_transition"
    activity.refresh_from_db()
    assert activity.next_step_done_at is None


# --- Requests -----------------------------------------------------------------------------------------------


def test_recording_a_request_sets_owner_status_and_sla_itself(api, am, director):
    client = ClientFactory(owner=am)
    received = timezone.now().replace(microsecond=0)

    response = as_user(api, director).post(
        "/api/v1/requests",
        {
            "client": client.pk,
            "title": "Tết key visual",
            "priority": "urgent",
            "received_at": received.isoformat(),
            "status": "closed",
            "owner": director.pk,
            "sla_due_at": "2000-01-01T00:00:00Z",
            "version": 9,
        },
    )

    assert response.status_code == 201, response.content
    created = Request.objects.get(pk=response.json()["id"])
    assert (created.status, created.owner, created.version) == ("new", am, 1)
    assert created.sla_due_at > received and created.sla_warning_at < created.sla_due_at
    assert response.json()["sla_state"] in {"ok", "warning"}
    assert Notification.objects.filter(recipient=am).count() == 1


def test_requests_follow_the_client_and_filter(api, am, teammate, stranger):
    client = ClientFactory(owner=am)
    urgent = RequestFactory(client=client, priority="urgent")
    closed = RequestFactory(client=client, status="closed")
    teams = RequestFactory(client=ClientFactory(owner=teammate))
    hidden = RequestFactory(client=ClientFactory(owner=stranger))
    as_user(api, am)

    assert ids(api.get("/api/v1/requests")) == {urgent.pk, closed.pk, teams.pk}
    assert ids(api.get("/api/v1/requests", {"priority": "urgent"})) == {urgent.pk}
    assert ids(api.get("/api/v1/requests", {"state": "open", "client": client.pk})) == {urgent.pk}
    assert ids(api.get("/api/v1/requests", {"status": "closed"})) == {closed.pk}
    assert api.get(f"/api/v1/requests/{hidden.pk}").status_code == 404


def test_a_request_on_a_team_client_cannot_be_recorded(api, am, teammate):
    client = ClientFactory(owner=teammate)

    response = as_user(api, am).post("/api/v1/requests", {"client": client.pk, "title": "Brief"})

    assert error_of(response, 403)["code"] == "permission_denied"
    assert not Request.objects.exists()


def test_moving_a_request_along_and_the_move_the_rules_forbid(api, am):
    client_request = RequestFactory(client=ClientFactory(owner=am))
    path = f"/api/v1/requests/{client_request.pk}/transition"
    as_user(api, am)

    moved = api.post(path, {"to": "triaged", "note": "Looked at it"})
    forbidden = api.post(path, {"to": "closed"})

    assert moved.status_code == 200 and moved.json()["status"] == "triaged"
    error = error_of(forbidden, 400)
    assert error["code"] == "invalid_transition"
    assert error["message"] == "A request cannot go from Triaged to Closed."
    assert error["fields"] == {"status": ["Not allowed from here."]}
    client_request.refresh_from_db()
    assert (client_request.status, client_request.version) == ("triaged", 2)


def test_a_request_status_moves_only_by_transition_and_requests_are_not_deleted(api, am):
    client_request = RequestFactory(client=ClientFactory(owner=am))
    as_user(api, am)

    patched = api.patch(f"/api/v1/requests/{client_request.pk}", {"status": "closed", "title": "Renamed"})

    assert patched.status_code == 200 and patched.json()["status"] == "new" and patched.json()["title"] == "Renamed"
    assert api.put(f"/api/v1/requests/{client_request.pk}", {"title": "x"}).status_code == 405
    assert api.delete(f"/api/v1/requests/{client_request.pk}").status_code == 405


def test_transitions_need_a_client_the_user_may_change(api, am, teammate, stranger):
    client_request = RequestFactory(client=ClientFactory(owner=teammate))
    path = f"/api/v1/requests/{client_request.pk}/transition"

    assert error_of(as_user(api, am).post(path, {"to": "triaged"}), 403)["code"] == "permission_denied"
    assert error_of(as_user(api, stranger).post(path, {"to": "triaged"}), 404)["code"] == "not_found"
    client_request.refresh_from_db()
    assert client_request.status == "new"


def test_a_request_is_open_to_its_handover_assignee_read_only(api, am, stranger):
    handover = HandoverFactory(request=RequestFactory(client=ClientFactory(owner=am)), assignee=stranger)
    as_user(api, stranger)

    body = api.get(f"/api/v1/requests/{handover.request_id}").json()

    assert [row["id"] for row in body["handovers"]] == [handover.pk]
    assert ids(api.get("/api/v1/requests")) == set()
    response = api.post(f"/api/v1/requests/{handover.request_id}/transition", {"to": "triaged"})
    assert error_of(response, 403)["code"] == "permission_denied"


# --- Hand-overs ---------------------------------------------------------------------------------------------


def test_handing_a_request_over_notifies_the_assignee_and_starts_the_work(api, am, stranger):
    client_request = RequestFactory(client=ClientFactory(owner=am))
    department = DepartmentFactory(name="Creative")
    due = timezone.localdate() + datetime.timedelta(days=3)

    response = as_user(api, am).post(
        "/api/v1/handovers",
        {
            "request": client_request.pk,
            "department": department.pk,
            "assignee": stranger.pk,
            "brief": "Three directions",
            "due_date": due.isoformat(),
            "status": "done",
            "created_by": stranger.pk,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["created_by"]["id"], body["client"]) == ("open", am.pk, client_request.client_id)
    client_request.refresh_from_db()
    assert client_request.status == "in_progress"
    assert Notification.objects.filter(recipient=stranger).count() == 1


def test_a_handover_needs_a_client_the_user_may_change(api, am, teammate, stranger):
    teams_request = RequestFactory(client=ClientFactory(owner=teammate))
    hidden_request = RequestFactory(client=ClientFactory(owner=stranger))
    payload = {
        "department": DepartmentFactory().pk,
        "assignee": am.pk,
        "brief": "Brief",
        "due_date": timezone.localdate().isoformat(),
    }
    as_user(api, am)

    assert error_of(api.post("/api/v1/handovers", {**payload, "request": teams_request.pk}), 403)
    hidden = error_of(api.post("/api/v1/handovers", {**payload, "request": hidden_request.pk}), 400)
    assert list(hidden["fields"]) == ["request"]
    assert not Handover.objects.exists()


def test_handovers_are_listed_to_the_client_side_and_the_assignee(api, am, stranger, sales):
    handover = HandoverFactory(request=RequestFactory(client=ClientFactory(owner=am)), assignee=stranger)
    other = HandoverFactory(request=RequestFactory(client=ClientFactory(owner=am)), status="done")

    assert ids(as_user(api, am).get("/api/v1/handovers")) == {handover.pk, other.pk}
    assert ids(api.get("/api/v1/handovers", {"status": "done"})) == {other.pk}
    assert ids(as_user(api, stranger).get("/api/v1/handovers")) == {handover.pk}
    assert ids(as_user(api, sales).get("/api/v1/handovers")) == set()
    assert error_of(api.get(f"/api/v1/handovers/{handover.pk}"), 404)["code"] == "not_found"


def test_the_assignee_moves_a_handover_until_it_is_finished(api, am, stranger):
    handover = HandoverFactory(request=RequestFactory(client=ClientFactory(owner=am)), assignee=stranger)
    path = f"/api/v1/handovers/{handover.pk}/status"
    as_user(api, stranger)

    assert api.post(path, {"to": "in_progress"}).json()["status"] == "in_progress"
    done = api.post(path, {"to": "done"})
    again = api.post(path, {"to": "open"})

    assert done.status_code == 200 and done.json()["completed_at"] is not None
    assert error_of(again, 404)["code"] == "not_found"  # a finished hand-over no longer opens the request to them
    handover.refresh_from_db()
    assert handover.status == "done"
    assert Notification.objects.filter(recipient=am).count() == 1


def test_a_handover_status_is_not_changed_by_a_read_only_colleague(api, am, teammate):
    handover = HandoverFactory(request=RequestFactory(client=ClientFactory(owner=am)))

    response = as_user(api, teammate).post(f"/api/v1/handovers/{handover.pk}/status", {"to": "cancelled"})

    assert error_of(response, 403)["code"] == "permission_denied"
    handover.refresh_from_db()
    assert handover.status == "open"


# --- Query counts -------------------------------------------------------------------------------------------

# Requests made with force_authenticate: no query for the user. Each list is a count and a page, plus:
LIST_QUERIES = {
    "/api/v1/clients": 4,  # the count, the page's ids, their rows with health scores, their tags
    "/api/v1/contacts": 2,
    "/api/v1/partners": 2,
    "/api/v1/partner-relationships": 2,
    "/api/v1/activities": 2,
    "/api/v1/requests": 3,  # + the hand-overs of the page's requests, with department and assignee
    "/api/v1/handovers": 2,
}


def add_rows(owner, count: int) -> None:
    """``count`` of everything on clients of ``owner``, each row with its relations filled in, and ``count``
    clients of other people."""
    tag = Tag.objects.get_or_create(name="retainer")[0]
    for _ in range(count):
        client = ClientFactory(owner=owner)
        client.tags.add(tag)
        contact = ContactFactory(client=client)
        PartnerRelationshipFactory(client=client)
        ActivityFactory(
            client=client, contact=contact, next_step="Call", next_step_due=timezone.localdate(), next_step_owner=owner
        )
        HandoverFactory(request=RequestFactory(client=client, contact=contact))
        ClientFactory().tags.add(tag)  # someone else's: hidden, or a summary row for sales


@pytest.mark.parametrize("path", list(LIST_QUERIES))
@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.SALES, Role.DIRECTOR])
def test_list_endpoints_query_count_does_not_grow_with_rows(api, path, role, django_assert_num_queries):
    user = UserFactory(role=role, team=TeamFactory())
    as_user(api, user)

    add_rows(user, 2)
    with django_assert_num_queries(LIST_QUERIES[path]):
        assert len(api.get(path).json()["results"]) >= 2
    add_rows(user, 18)
    with django_assert_num_queries(LIST_QUERIES[path]):
        assert len(api.get(path).json()["results"]) >= 20


def test_patching_a_request_recomputes_its_sla_and_refuses_stale_versions(api, am):
    item = RequestFactory(client=ClientFactory(owner=am), priority="low")
    as_user(api, am)

    changed = api.patch(f"/api/v1/requests/{item.pk}", {"priority": "urgent", "version": 1})
    stale = api.patch(f"/api/v1/requests/{item.pk}", {"title": "Late edit", "version": 1})

    assert changed.status_code == 200 and changed.json()["priority"] == "urgent"
    assert changed.json()["sla_due_at"] < item.sla_due_at.isoformat() or changed.json()["version"] == 2
    assert error_of(stale, 409)["code"] == "conflict"
