"""Every route of the URLconf, asked by every actor about own, team and other records (tests/permission_matrix.py).

A route without a row in the matrix fails, and so does a row whose route is gone. Each unsafe request runs in a
savepoint rolled back after it, so what one actor changes is not there for the next. Pages are asked with a
session, the API with a read-write API token in the Authorization header (no CSRF involved), as another tool would.

Then mass assignment: the write endpoints and forms of clients, contracts, invoices and proposals ignore or refuse
an owner, stage, status or paid amount sent with the other fields.
"""

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.contrib.messages import constants as message_levels
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.permission_matrix import ACTORS, EXCLUDED_PREFIXES, MATRIX, PAYLOADS, World, build_world

ALLOWED, LOGIN, FORBIDDEN, HIDDEN, REFUSED, INVALID, NOT_ALLOWED = "+", "L", "F", "H", "R", "V", "M"
FORMAT_SUFFIX = ".<format>"
RECORD_PARAMETERS = ("pk", "client_pk", "client_id")


# --- Walking the URLconf -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # "clients/<int:pk>/", "api/v1/clients/<pk>": the pattern, DRF's regexes in path() spelling
    name: str  # "clients:detail"
    callback: object

    @property
    def is_api(self) -> bool:
        return self.key.startswith("api/v1/")

    @property
    def is_drf_view(self) -> bool:
        return hasattr(self.callback, "cls")

    @property
    def parameters(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.key)


def readable(pattern: str) -> str:
    """A DRF router regex in path() spelling: ``^clients/(?P<pk>[^/.]+)$`` → ``clients/<pk>``."""
    pattern = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", pattern)
    return pattern.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "")


def _walk(patterns, prefix: str, namespace: str):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace) if part)
            yield from _walk(entry.url_patterns, prefix + readable(str(entry.pattern)), inner)
        elif isinstance(entry, URLPattern):
            name = ":".join(part for part in (namespace, entry.name or "") if part)
            yield Route(prefix + readable(str(entry.pattern)), name, entry.callback)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, "", ""))


def checked_routes() -> dict[str, Route]:
    """The routes the matrix must cover: all but the excluded prefixes and DRF's format twins."""
    return {
        route.key: route
        for route in all_routes()
        if not route.key.startswith(tuple(EXCLUDED_PREFIXES)) and not route.key.endswith(FORMAT_SUFFIX)
    }


def api_methods(route: Route) -> set[str]:
    """The methods a DRF view answers (HEAD and OPTIONS aside; PUT is the same check as PATCH)."""
    if actions := getattr(route.callback, "actions", None):
        methods = {method.upper() for method in actions}
    else:
        view_class = route.callback.view_class
        methods = {method.upper() for method in view_class.http_method_names if hasattr(view_class, method)}
    return methods - {"HEAD", "OPTIONS", "PUT"}


# --- Asking ---------------------------------------------------------------------------------------------------


def outcome(response) -> str:
    status = response.status_code
    if status == 401 or (status in (301, 302) and _to_sign_in(response["Location"])):
        return LOGIN
    if 200 <= status < 400:
        queued = getattr(getattr(response.wsgi_request, "_messages", None), "_queued_messages", [])
        return REFUSED if any(message.level >= message_levels.ERROR for message in queued) else ALLOWED
    return {400: INVALID, 409: INVALID, 403: FORBIDDEN, 404: HIDDEN, 405: NOT_ALLOWED}.get(status, str(status))


def _to_sign_in(location: str) -> bool:
    return location.split("?")[0].endswith(resolve_url(settings.LOGIN_URL))


class Asker:
    """One test client for all requests (building one loads the middleware, whitenoise's file scan included);
    its cookies are set afresh for each request, so a logout or a language change does not carry over."""

    def __init__(self, world: World, sessions: dict[str, str]):
        self.world, self.sessions = world, sessions
        self.client = Client(raise_request_exception=False)

    def path(self, route: Route, row) -> str:
        kwargs = {}
        for parameter in route.parameters:
            if parameter in RECORD_PARAMETERS:
                kwargs[parameter] = self.world.records[row.record].pk
            else:
                kwargs[parameter] = self.world.values.get(parameter) or self.world.values[f"password_reset_{parameter}"]
        return reverse(route.name, kwargs=kwargs) if route.name else "/" + route.key

    def ask(self, route: Route, actor: str, method: str, path: str, data: dict):
        self.client.cookies, self.client.defaults = SimpleCookie(), {}
        headers = {}
        if route.is_api and actor != "anonymous":
            headers["Authorization"] = f"Token {self.world.api_keys[actor]}"
        elif actor != "anonymous":
            self.client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[actor]
        call = getattr(self.client, method.lower())
        if method == "GET":  # reads change nothing the next actor would meet: no savepoint to pay for
            with plain_template_rendering():
                return call(path, data, headers=headers)
        with transaction.atomic(), plain_template_rendering():
            if route.is_api:
                response = call(path, data, content_type="application/json", headers=headers)
            else:
                response = call(path, data, headers=headers)
            transaction.set_rollback(True)
        return response


@contextmanager
def plain_template_rendering():
    """Render templates without the test runner's instrumentation, which copies every context for
    ``response.context`` (a third of the matrix's time; the matrix only reads the status)."""
    from django.template import Template
    from django.test.utils import _TestState

    instrumented, Template._render = Template._render, _TestState.saved_data.template_render
    try:
        yield
    finally:
        Template._render = instrumented


def payload(world: World, key: str, method: str) -> dict:
    body = PAYLOADS.get((key, method), {})
    return {name: value(world) if callable(value) else value for name, value in body.items()}


@pytest.fixture(scope="module")
def asker(module_transaction, django_db_blocker):
    with django_db_blocker.unblock():
        world = build_world()
        sessions = {}
        for actor, user in world.users.items():
            client = Client()
            client.force_login(user)
            sessions[actor] = client.cookies[settings.SESSION_COOKIE_NAME].value
    # 403s and 404s are the point here: Django's request log would print a warning (and a traceback) for each.
    request_log = logging.getLogger("django.request")
    level, request_log.level = request_log.level, logging.ERROR
    yield Asker(world, sessions)
    request_log.level = level


# --- The matrix covers the URLconf ---------------------------------------------------------------------------


def test_every_route_has_a_row_in_the_matrix():
    missing = sorted(set(checked_routes()) - set(MATRIX))

    assert not missing, f"routes without a row in tests/permission_matrix.py MATRIX: {missing}"


def test_every_row_of_the_matrix_is_a_route():
    gone = sorted(set(MATRIX) - set(checked_routes()))

    assert not gone, f"rows of tests/permission_matrix.py MATRIX whose route no longer exists: {gone}"


def test_format_routes_are_twins_of_their_route():
    """DRF's ``clients/<pk>.<format>`` is the same view as ``clients/<pk>``: the row of the one covers the other."""
    routes = {route.key: route for route in all_routes()}
    twins = [key for key in routes if key.endswith(FORMAT_SUFFIX)]

    assert twins
    for key in twins:
        twin, original = routes[key], routes[key.removesuffix(FORMAT_SUFFIX)]
        assert (twin.callback.cls, twin.callback.actions) == (original.callback.cls, original.callback.actions), key


def test_api_rows_name_every_method_the_endpoint_answers():
    routes = checked_routes()
    wrong = {
        key: (sorted(row.methods), sorted(api_methods(routes[key])))
        for key, row in MATRIX.items()
        if key in routes and routes[key].is_drf_view and set(row.methods) != api_methods(routes[key])
    }

    assert not wrong, f"API rows whose methods differ from the endpoint's (row, endpoint): {wrong}"


def test_every_record_route_names_its_record():
    routes = checked_routes()
    unnamed = [
        key
        for key, row in MATRIX.items()
        if key in routes and set(routes[key].parameters) & set(RECORD_PARAMETERS) and row.record is None
    ]

    assert not unnamed, f"rows of routes with a record in the URL but no record named: {unnamed}"


# --- What each actor gets ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(MATRIX))
def test_route_answers_each_actor_as_the_matrix_says(asker, key):
    route, row = checked_routes()[key], MATRIX[key]
    path = asker.path(route, row)
    differences = []
    actors = (ACTORS[0], ACTORS[-1]) if row.public else ACTORS
    for method, outcomes in row.methods.items():
        body = payload(asker.world, key, method)
        expected = "".join(outcomes[ACTORS.index(actor)] for actor in actors)
        got = "".join(outcome(asker.ask(route, actor, method, path, body)) for actor in actors)
        if got != expected:
            differences.append(f"{method} {path}: expected {expected}, got {got}")

    assert not differences, f"{key} ({' '.join(actors)}):\n" + "\n".join(differences)


# --- Mass assignment -----------------------------------------------------------------------------------------


def api_as(asker: Asker, actor: str) -> Client:
    """The module's test client (building another one costs half a second) with the actor's API token."""
    asker.client.cookies = SimpleCookie()
    asker.client.defaults = {"HTTP_AUTHORIZATION": f"Token {asker.world.api_keys[actor]}"}
    return asker.client


def session_as(asker: Asker, actor: str) -> Client:
    asker.client.cookies = SimpleCookie({settings.SESSION_COOKIE_NAME: asker.sessions[actor]})
    asker.client.defaults = {}
    return asker.client


@pytest.mark.django_db
def test_the_api_ignores_or_refuses_a_client_owner_team_and_status(asker):
    world = asker.world
    client = world.records["client"]
    before = (client.owner_id, client.team_id, client.status)

    response = api_as(asker, "owner").patch(
        f"/api/v1/clients/{client.pk}",
        {"owner": world.users["stranger"].pk, "team": None, "status": "churned", "name": "Renamed"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    client.refresh_from_db()
    assert (client.owner_id, client.team_id, client.status) == before
    assert client.name == "Renamed"


@pytest.mark.django_db
def test_the_api_ignores_or_refuses_a_contract_owner_stage_and_probability(asker):
    world = asker.world
    deal = world.records["deal"]

    response = api_as(asker, "owner").patch(
        f"/api/v1/contracts/{deal.pk}",
        {"owner": world.users["stranger"].pk, "stage": "active", "probability": 100, "title": "Renamed"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    deal.refresh_from_db()
    assert deal.title == "Renamed"
    assert (deal.owner_id, deal.stage, deal.probability) == (world.users["owner"].pk, "draft", 10)


@pytest.mark.django_db
def test_the_api_ignores_or_refuses_an_invoice_status_and_paid_amount(asker):
    world = asker.world
    invoice = world.records["draft_invoice"]

    response = api_as(asker, "finance").patch(
        f"/api/v1/invoices/{invoice.pk}",
        {"status": "paid", "paid_amount": "110000000", "number": "INV-1999-99999", "description": "Renamed"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    invoice.refresh_from_db()
    assert invoice.description == "Renamed"
    assert (invoice.status, invoice.paid_amount, invoice.number) == ("draft", Decimal("0"), "")


@pytest.mark.django_db
def test_the_api_ignores_or_refuses_a_proposal_owner_and_status(asker):
    world = asker.world
    proposal = world.records["proposal"]

    response = api_as(asker, "owner").patch(
        f"/api/v1/proposals/{proposal.pk}",
        {"owner": world.users["stranger"].pk, "status": "accepted", "title": "Renamed"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    proposal.refresh_from_db()
    assert proposal.title == "Renamed"
    assert (proposal.owner_id, proposal.status) == (world.users["owner"].pk, "draft")


@pytest.mark.django_db
def test_the_api_refuses_a_new_client_for_another_owner_from_an_account_manager(asker):
    world = asker.world
    from clients.models import Client as Account

    response = api_as(asker, "owner").post(
        "/api/v1/clients",
        {"name": "Công ty Tự Nhận", "owner": world.users["stranger"].pk, "status": "active"},
        content_type="application/json",
    )

    assert response.status_code == 403, response.content
    assert not Account.objects.filter(name="Công ty Tự Nhận").exists()


def form_data(client: Client, url: str, name: str = "form") -> dict:
    """What the page's form would post as it stands: its fields' current values."""
    form = client.get(url).context[name]
    data = {}
    for field in form:
        value = field.value()
        if value is None or value is False:
            continue
        data[field.html_name] = "on" if value is True else value
    return data


def assert_saved(response, record, **changed):
    """The form was accepted (a redirect away from it) and saved what it may change."""
    assert response.status_code == 302, response.context and [
        form.errors for form in response.context if "form" in form
    ]
    record.refresh_from_db()
    assert {name: getattr(record, name) for name in changed} == changed


@pytest.mark.django_db
def test_the_client_form_ignores_an_owner_and_team(asker):
    """Owner and team change only through a director's reassignment. (The status is a field of this form by
    design, as on the create form and the import; the API keeps it read-only.)"""
    world = asker.world
    client, browser = world.records["client"], session_as(asker, "owner")
    before = (client.owner_id, client.team_id)
    data = form_data(browser, f"/clients/{client.pk}/edit/")

    response = browser.post(
        f"/clients/{client.pk}/edit/", {**data, "name": "Renamed", "owner": world.users["stranger"].pk, "team": ""}
    )

    assert_saved(response, client, name="Renamed")
    assert (client.owner_id, client.team_id) == before


@pytest.mark.django_db
def test_the_contract_form_ignores_an_owner_and_stage(asker):
    world = asker.world
    deal, browser = world.records["deal"], session_as(asker, "owner")
    data = form_data(browser, f"/contracts/{deal.pk}/edit/")

    response = browser.post(
        f"/contracts/{deal.pk}/edit/",
        {**data, "title": "Renamed", "owner": world.users["stranger"].pk, "stage": "active", "probability": 100},
    )

    assert_saved(response, deal, title="Renamed")
    assert (deal.owner_id, deal.stage, deal.probability) == (world.users["owner"].pk, "draft", 10)


@pytest.mark.django_db
def test_the_invoice_form_ignores_a_status_and_paid_amount(asker):
    world = asker.world
    invoice, browser = world.records["draft_invoice"], session_as(asker, "finance")
    data = form_data(browser, f"/invoices/{invoice.pk}/edit/")

    response = browser.post(
        f"/invoices/{invoice.pk}/edit/",
        {**data, "description": "Renamed", "status": "paid", "paid_amount": "110000000", "number": "INV-1999-99999"},
    )

    assert_saved(response, invoice, description="Renamed")
    assert (invoice.status, invoice.paid_amount, invoice.number) == ("draft", Decimal("0"), "")


@pytest.mark.django_db
def test_the_proposal_form_ignores_an_owner_and_status(asker):
    world = asker.world
    proposal, browser = world.records["proposal"], session_as(asker, "owner")
    data = form_data(browser, f"/proposals/{proposal.pk}/", name="header_form")

    response = browser.post(
        f"/proposals/{proposal.pk}/edit/",
        {**data, "title": "Renamed", "owner": world.users["stranger"].pk, "status": "accepted"},
    )

    assert_saved(response, proposal, title="Renamed")
    assert (proposal.owner_id, proposal.status) == (world.users["owner"].pk, "draft")
