"""The permission matrix of every route (tests/test_permission_matrix.py): the people and records it is checked
against, and what each actor gets from each route, method by method.

Every record hangs off one client owned by ``owner``, an account manager of team Hà Nội: for ``owner`` it is their
own record, for ``teammate`` (same team) a team record, for ``stranger`` (an account manager of another team) the
record of someone else. Sales, finance, directors and administrators meet the same records.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from accounts import tokens
from accounts.models import ApiTokenScope, Role
from tests.factories import (
    ActiveContractFactory,
    ActivityFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    DepartmentFactory,
    HandoverFactory,
    InvoiceFactory,
    NotificationFactory,
    PartnerFactory,
    PartnerRelationshipFactory,
    PaymentFactory,
    RequestFactory,
    TeamFactory,
    UserFactory,
)

# The order of the columns of every row of the matrix.
ACTORS = ("anonymous", "owner", "teammate", "stranger", "sales", "finance", "director", "admin")


@dataclass
class World:
    users: dict = field(default_factory=dict)  # actor name -> User (no entry for anonymous)
    api_keys: dict = field(default_factory=dict)  # actor name -> a read-write API token key
    records: dict = field(default_factory=dict)  # record name -> model instance
    values: dict = field(default_factory=dict)  # URL keyword values that are not a record's pk (tokens)


def build_world() -> World:
    world = World()
    hanoi = TeamFactory(name="Hà Nội")
    people = {
        "owner": UserFactory(role=Role.ACCOUNT_MANAGER, team=hanoi, full_name="Lan Nguyễn"),
        "teammate": UserFactory(role=Role.ACCOUNT_MANAGER, team=hanoi),
        "stranger": UserFactory(role=Role.ACCOUNT_MANAGER, team=TeamFactory(name="Sài Gòn")),
        "sales": UserFactory(role=Role.SALES, team=TeamFactory(name="Sales")),
        "finance": UserFactory(role=Role.FINANCE),
        "director": UserFactory(role=Role.DIRECTOR),
        "admin": UserFactory(role=Role.ADMIN),
    }
    world.users = people
    for actor, user in people.items():
        world.api_keys[actor] = tokens.personal_token_create(
            user=user, name="matrix", scope=ApiTokenScope.READ_WRITE
        ).key
    _build_records(world, people)
    return world


def _build_records(world: World, people: dict) -> None:
    from contracts.models import NegotiationRound, Phase, StatementDocument, WriteOffRequest
    from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
    from kpis.models import KpiTarget
    from proposals import services as proposal_services
    from proposals.models import LineItem
    from tests.kpis.factories import CostEntryFactory
    from tests.proposals.factories import ProposalFactory

    owner, today = people["owner"], timezone.localdate()
    department = DepartmentFactory(name="Creative")
    client = ClientFactory(owner=owner, name="Công ty Ma Trận")
    request = RequestFactory(client=client)
    deal = ContractFactory(client=client)  # a draft: on the shared pipeline
    contract = ActiveContractFactory(client=client)
    invoice = InvoiceFactory(contract=contract)
    proposal = ProposalFactory(client=client)
    sent = ProposalFactory(client=client, status="sent", token_nonce="0" * 32, sent_at=timezone.now())
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/accord", events=["client.created"])
    event = WebhookEvent.objects.create(type="client.created", created=timezone.now(), data={"id": client.pk})
    world.records = {
        "client": client,
        "contact": ContactFactory(client=client),
        "partner": (partner := PartnerFactory()),
        "relationship": PartnerRelationshipFactory(client=client, partner=partner),
        "activity": ActivityFactory(
            client=client, next_step="Send the brief", next_step_due=today, next_step_owner=owner
        ),
        "request": request,
        # Assigned to someone outside the matrix: an assignee sees an open hand-over whatever the client.
        "handover": HandoverFactory(request=request, department=department, assignee=UserFactory()),
        "deal": deal,
        "contract": contract,
        "round": NegotiationRound.objects.create(
            contract=deal, number=1, proposed_by="agency", value=Decimal("250000000"), recorded_by=owner
        ),
        "phase": Phase.objects.create(contract=contract, name="Tết launch", order=1),
        "cost": CostEntryFactory(contract=contract, department=department),
        "invoice": invoice,
        "draft_invoice": InvoiceFactory(contract=contract, status="draft", number="", issued_at=None),
        "payment": PaymentFactory(invoice=invoice, recorded_by=people["finance"]),
        "write_off": WriteOffRequest.objects.create(invoice=invoice, reason="Client closed", requested_by=owner),
        "statement_document": StatementDocument.objects.create(
            client=client,
            currency="VND",
            start=today - datetime.timedelta(days=30),
            end=today,
            content_hash="0" * 64,
            requested_by=owner,
        ),
        "proposal": proposal,
        "line": LineItem.objects.create(
            proposal=proposal, order=1, description="Key visual", department=department, unit_price=Decimal("1000")
        ),
        "sent_proposal": sent,
        "kpi_target": KpiTarget.objects.create(
            metric="signed_revenue",
            scope="user",
            user=owner,
            period_kind="month",
            period_start=today.replace(day=1),
            value=Decimal("1000000000"),
            currency="VND",
            set_by=people["director"],
        ),
        "endpoint": endpoint,
        "delivery": WebhookDelivery.objects.create(event=event, endpoint=endpoint),
        "notification": NotificationFactory(recipient=owner),
        "api_token": owner.api_tokens.get(),
        "user": people["teammate"],
    }
    world.values = {
        "token": proposal_services.public_token(sent),
        "uidb64": "MQ",
        "password_reset_token": "set-password",
    }


# --- The matrix ----------------------------------------------------------------------------------------------
#
# One character per actor, in the order of ACTORS (anonymous, owner, teammate, stranger, sales, finance, director,
# admin):
#   +  allowed: 2xx, or 3xx anywhere but the sign-in page
#   L  sign in first: a redirect to the sign-in page (pages) or 401 (API)
#   F  403: the actor sees the record (or the page exists for them) but may not do this
#   H  404: the record is hidden from the actor (DOMAIN.md: never a 403 that leaks its existence)
#   R  refused with an error message on the page the actor is sent back to (a domain rule said no)
#   V  400: the request got past the permission checks and was refused for its content only (an empty form)
# Unsafe requests carry the route's PAYLOAD when it has one, else an empty body: with an empty body a view that
# validates its form before asking the service shows V for everyone who sees the record.


@dataclass(frozen=True)
class Row:
    record: str | None  # the record whose pk fills the URL's <pk>, <client_pk> or <client_id>
    methods: dict  # method -> expected outcomes, one per actor
    public: bool = False  # the view answers everyone alike: asked as the first and the last actor only


def row(record: str | None = None, *, public: bool = False, **methods: str) -> Row:
    for method, outcomes in methods.items():
        assert len(outcomes) == len(ACTORS), f"{method}: {outcomes!r} needs one outcome per actor"
        assert not public or len(set(outcomes)) == 1, f"{method}: a public route answers every actor alike"
    return Row(record, methods, public)


# Routes outside the matrix, and why.
EXCLUDED_PREFIXES = {
    "admin/": "Django's admin site: its own staff check (administrators only) guards every one of its views",
}
# DRF's ``<route>.<format>`` twin of each API route is the same view (checked by test_format_routes_are_twins).

MATRIX = {
    "": row(GET="L+++++++"),
    "login/": row(GET="++++++++", POST="++++++++"),
    "logout/": row(POST="LLLLLLLL"),
    "password/change/": row(GET="L+++++++", POST="L+++++++"),
    "password/change/done/": row(GET="L+++++++"),
    "password/reset/": row(GET="++++++++", POST="++++++++"),
    "password/reset/sent/": row(GET="++++++++"),
    "password/reset/<uidb64>/<token>/": row(GET="++++++++", POST="++++++++"),
    "password/reset/complete/": row(GET="++++++++"),
    "language/": row(POST="++++++++"),
    "notifications/": row(GET="L+++++++"),
    "notifications/<int:pk>/open/": row("notification", POST="L+HHHHHH"),
    "notifications/read-all/": row(POST="L+++++++"),
    "people/": row(GET="L+++++++"),
    "api-tokens/": row(GET="L+++++++", POST="L+++++++"),
    "api-tokens/service/": row(GET="LFFFFFF+", POST="LFFFFFF+"),
    "api-tokens/<int:pk>/revoke/": row("api_token", POST="L+HHHHHH"),
    "clients/": row(GET="L+++++++"),
    "clients/export.csv": row(GET="L+++++++"),
    "clients/import/": row(GET="L++++F++", POST="L++++F++"),
    "clients/import/example.csv": row(GET="L++++F++"),
    "clients/new/": row(GET="L++++F++", POST="L++++F++"),
    "clients/<int:pk>/": row("client", GET="L++HH+++"),
    "clients/<int:pk>/edit/": row("client", GET="L+FHHF++", POST="L+FHHF++"),
    "clients/<int:pk>/reassign/": row("client", GET="LFFFFF++", POST="LFFFFF++"),
    "clients/<int:pk>/contacts/new/": row("client", POST="LVFHHFVV"),
    "clients/<int:pk>/partners/new/": row("client", POST="LVFHHFVV"),
    "clients/<int:pk>/activities/new/": row("client", POST="LVFHHFVV"),
    "clients/<int:pk>/requests/new/": row("client", POST="LVFHHFVV"),
    "contacts/<int:pk>/edit/": row("contact", GET="L+FHHF++", POST="L+FHHF++"),
    "contacts/<int:pk>/delete/": row("contact", POST="L+FHHF++"),
    "relationships/<int:pk>/delete/": row("relationship", POST="L+FHHF++"),
    "activities/<int:pk>/done/": row("activity", POST="L+RHHR++"),
    "partners/": row(GET="L+++++++"),
    "partners/new/": row(GET="L+++FF++", POST="L+++FF++"),
    "partners/<int:pk>/": row("partner", GET="L+++++++"),
    "partners/<int:pk>/edit/": row("partner", GET="L+++FF++", POST="L+++FF++"),
    "requests/": row(GET="L+++++++", POST="L+++++++"),
    "requests/<int:pk>/": row("request", GET="L++HH+++", POST="L++HH+++"),
    "requests/<int:pk>/edit/": row("request", GET="L+FHHF++", POST="L+FHHF++"),
    "requests/<int:pk>/move/": row("request", POST="L+RHHR++"),
    "requests/<int:pk>/handover/": row("request", GET="L+FHHF++", POST="L+FHHF++"),
    "handovers/<int:pk>/status/": row("handover", POST="L+RHHR++"),
    "search/": row(GET="L+++++++"),
    "pipeline/": row(GET="L+++++++"),
    "contracts/": row(GET="L+++++++"),
    "contracts/export.csv": row(GET="L+++++++"),
    "contracts/new/": row(GET="L++++F++", POST="LVVVVFVV"),
    "contracts/expiring/": row(GET="L+++++++"),
    "contracts/<int:pk>/": row("contract", GET="L++HH+++"),
    "contracts/<int:pk>/edit/": row("contract", GET="L+FHHF++", POST="LVFHHFVV"),
    "contracts/<int:pk>/move/": row("contract", GET="L+FHHF++", POST="LVFHHFVV"),
    "contracts/<int:pk>/rounds/new/": row("contract", POST="LVFHHFVV"),
    "contracts/<int:pk>/phases/new/": row("contract", POST="LVFHHFVV"),
    "phases/<int:pk>/edit/": row("phase", GET="L+FHHF++", POST="L+FHHF++"),
    "phases/<int:pk>/send-report/": row("phase", POST="LRFHHFRR"),
    "contracts/<int:pk>/costs/new/": row("contract", POST="LVFHHFVV"),
    "contracts/<int:pk>/renew/": row("contract", POST="L+FHHF++"),
    "contracts/<int:pk>/history/": row("contract", GET="L++HH+++"),
    "invoices/<int:pk>/history/": row("invoice", GET="L++HH+++"),
    "invoices/": row(GET="L+++++++"),
    "invoices/export.csv": row(GET="L+++++++"),
    "contracts/<int:pk>/invoices/new/": row("contract", GET="LFFHH+++", POST="LFFHHVVV"),
    "invoices/<int:pk>/": row("invoice", GET="L++HH+++"),
    "invoices/<int:pk>/edit/": row("draft_invoice", GET="LFFHH+++", POST="LFFHHVVV"),
    "invoices/<int:pk>/issue/": row("draft_invoice", POST="LFFHH+++"),
    "invoices/<int:pk>/delete/": row("draft_invoice", POST="LFFHH+++"),
    "invoices/<int:pk>/payments/new/": row("invoice", POST="LFFHH+++"),
    "invoices/<int:pk>/void/": row("invoice", POST="LFFHH+++"),
    "invoices/<int:pk>/write-off/": row("invoice", POST="LFFHHVVV"),
    "write-offs/<int:pk>/decide/": row("write_off", POST="LFFHHF++"),
    "invoices/<int:pk>/dispute/": row("invoice", POST="L+FHH+++"),
    "invoices/<int:pk>/promise/": row("invoice", POST="L+FHH+++"),
    "invoices/<int:pk>/pause/": row("invoice", POST="L+FHH+++"),
    "receivables/": row(GET="L+++++++"),
    "receivables/export.csv": row(GET="L+++++++"),
    "collections/": row(GET="LFFFF+++"),
    "collections/cards/<int:pk>/payment-form/": row("invoice", GET="LFFFF+++"),
    "statements/<int:client_pk>/": row("client", GET="L++HH+++", POST="L++HH+++"),
    "statements/<int:client_pk>/pause/": row("client", POST="L+FHH+++"),
    "statements/<int:client_pk>/pdf/": row("client", POST="L++HH+++"),
    "statement-documents/<int:pk>/": row("statement_document", GET="L++HH+++", POST="LMMMMMMM"),
    "statement-documents/<int:pk>/download/": row("statement_document", GET="LHHHHHHH", POST="LMMMMMMM"),
    "proposals/": row(GET="L+++++++"),
    "proposals/new/": row(GET="L++++F++", POST="L++++F++"),
    "proposals/<int:pk>/": row("proposal", GET="L++HH+++", POST="L++HH+++"),
    "proposals/<int:pk>/edit/": row("proposal", POST="LVFHHFVV"),
    "proposals/<int:pk>/lines/": row("proposal", POST="LVFHHFVV"),
    "proposals/<int:pk>/lines/rate-card/": row("proposal", POST="LVFHHFVV"),
    "proposals/lines/<int:pk>/": row("line", POST="LVFHHFVV"),
    "proposals/lines/<int:pk>/remove/": row("line", POST="LVFHHFVV"),
    "proposals/lines/<int:pk>/move/": row("line", POST="LVFHHFVV"),
    "proposals/<int:pk>/submit/": row("proposal", POST="LVFHHFVV"),
    "proposals/<int:pk>/approve/": row("proposal", POST="LFFHHFVV"),
    "proposals/<int:pk>/return/": row("proposal", POST="LFFHHFVV"),
    "proposals/<int:pk>/send/": row("proposal", POST="LVFHHFVV"),
    "proposals/<int:pk>/new-version/": row("proposal", POST="LRFHHFRR"),
    "proposals/<int:pk>/pdf/": row("proposal", GET="L++HH+++", POST="L++HH+++"),
    "proposals/<int:pk>/pdf/status/": row("proposal", GET="L++HH+++", POST="LMMMMMMM"),
    "proposals/<int:pk>/pdf/request/": row("proposal", POST="L++HH+++"),
    "proposals/<int:pk>/history/": row("proposal", GET="L++HH+++"),
    "p/<str:token>/": row(GET="++++++++"),
    "p/<str:token>/accept/": row(POST="VVVVVVVV"),
    "p/<str:token>/decline/": row(POST="VVVVVVVV"),
    "p/<str:token>/pdf/": row(GET="HHHHHHHH"),
    "kpis/": row(GET="LFFFF+++"),
    "kpis/am/": row(GET="L+++H+++"),
    "kpis/sales/": row(GET="LFFF+F++"),
    "kpis/records/": row(GET="LHHHHHHH"),
    "kpis/export.csv": row(GET="LHHHHHHH"),
    "kpis/targets/": row(GET="L+++++++"),
    "kpis/targets/set/": row(GET="LFFFFF++", POST="LFFFFFVV"),
    "kpis/targets/<int:pk>/delete/": row("kpi_target", GET="LFFFFFMM", POST="LFFFFF++"),
    "kpis/targets/grid/": row(GET="LFFFFF++", POST="LFFFFF++"),
    "kpis/targets/copy/": row(GET="LFFFFFMM", POST="LFFFFFHH"),
    "kpis/targets/history/": row(GET="L+++++++"),
    "settings/webhooks/": row(GET="LFFFFFF+"),
    "settings/webhooks/new/": row(GET="LFFFFFF+", POST="LFFFFFF+"),
    "settings/webhooks/<int:pk>/": row("endpoint", GET="LFFFFFF+", POST="LFFFFFF+"),
    "settings/webhooks/<int:pk>/edit/": row("endpoint", GET="LFFFFFF+", POST="LFFFFFF+"),
    "settings/webhooks/<int:pk>/rotate-secret/": row("endpoint", GET="LFFFFFFM", POST="LFFFFFF+"),
    "settings/webhooks/<int:pk>/ping/": row("endpoint", GET="LFFFFFFM", POST="LFFFFFF+"),
    "settings/webhooks/<int:pk>/delete/": row("endpoint", GET="LFFFFFFM", POST="LFFFFFF+"),
    "settings/webhooks/deliveries/<int:pk>/": row("delivery", GET="LFFFFFF+", POST="LFFFFFF+"),
    "settings/webhooks/deliveries/<int:pk>/redeliver/": row("delivery", GET="LFFFFFFM", POST="LFFFFFF+"),
    "healthz": row(GET="++++++++"),
    "favicon.ico": row(GET="++++++++"),
    # Any other path under the API: its JSON 404, to everyone.
    "api/v1/": row(GET="HHHHHHHH"),
    "api/v1/me": row(GET="L+++++++", PATCH="L+++++++"),
    "api/v1/receivables/aging": row(GET="L+++++++"),
    "api/v1/statements/<int:client_id>": row("client", GET="L++HH+++"),
    "api/v1/statements/<int:client_id>/pdf": row("client", POST="L++HH+++"),
    "api/v1/statement-documents/<int:pk>": row("statement_document", GET="L++HH+++"),
    "api/v1/kpis/metrics": row(GET="LVVVVVVV"),
    "api/v1/users": row(GET="L+++++++"),
    "api/v1/users/<pk>": row("user", GET="L+++++++"),
    "api/v1/notifications": row(GET="L+++++++"),
    "api/v1/notifications/<pk>": row("notification", GET="L+HHHHHH"),
    "api/v1/notifications/<pk>/read": row("notification", POST="L+HHHHHH"),
    "api/v1/clients": row(GET="L+++++++", POST="LVVVVVVV"),
    "api/v1/clients/<pk>": row("client", GET="L++H++++", PATCH="L+FHFF++"),
    "api/v1/clients/<pk>/reassign": row("client", POST="LFFHFFVV"),
    # The history shows the client's details: for those who may open them (sales: its own clients only).
    "api/v1/clients/<pk>/history": row("client", GET="L++HH+++"),
    "api/v1/contacts": row(GET="L+++++++", POST="LVVVVVVV"),
    "api/v1/contacts/<pk>": row("contact", GET="L++HH+++", PATCH="L+FHHF++", DELETE="L+FHHF++"),
    "api/v1/partners": row(GET="L+++++++", POST="LVVVVVVV"),
    "api/v1/partners/<pk>": row("partner", GET="L+++++++", PATCH="L+++FF++"),
    "api/v1/partner-relationships": row(GET="L+++++++", POST="LVVVVVVV"),
    "api/v1/partner-relationships/<pk>": row("relationship", GET="L++HH+++", PATCH="L+FHHF++", DELETE="L+FHHF++"),
    "api/v1/activities": row(GET="L+++++++", POST="LVVVVVVV"),
    "api/v1/activities/<pk>": row("activity", GET="L++HH+++"),
    "api/v1/activities/<pk>/complete-next-step": row("activity", POST="L+FHHF++"),
    "api/v1/requests": row(GET="L+++++++", POST="LVVVVVVV"),
    "api/v1/requests/<pk>": row("request", GET="L++HH+++", PATCH="L+FHHF++"),
    "api/v1/requests/<pk>/transition": row("request", POST="LVFHHFVV"),
    "api/v1/handovers": row(GET="L+++++++", POST="LVVVVVVV"),
    "api/v1/handovers/<pk>": row("handover", GET="L++HH+++"),
    "api/v1/handovers/<pk>/status": row("handover", POST="L+FHHF++"),
    "api/v1/contracts": row(GET="L+++++++", POST="LVVVVVVV"),
    "api/v1/contracts/pipeline": row(GET="L+++++++"),
    "api/v1/contracts/<pk>": row("contract", GET="L++HH+++", PATCH="L+FHHF++"),
    "api/v1/contracts/<pk>/costs": row("contract", GET="L++HH+++", POST="LVFHHFVV"),
    "api/v1/contracts/<pk>/phases": row("contract", GET="L++HH+++", POST="LVFHHFVV"),
    "api/v1/contracts/<pk>/renew": row("contract", POST="L+FHHF++"),
    "api/v1/contracts/<pk>/history": row("contract", GET="L++HH+++"),
    "api/v1/contracts/<pk>/rounds": row("contract", GET="L++HH+++", POST="LVFHHFVV"),
    "api/v1/contracts/<pk>/transition": row("contract", POST="LVFHHFVV"),
    "api/v1/phases/<pk>": row("phase", GET="L++HH+++", PATCH="L+FHHF++"),
    "api/v1/invoices": row(GET="L+++++++", POST="LFFFFVVV"),
    "api/v1/invoices/totals": row(GET="L+++++++"),
    "api/v1/invoices/<pk>": row("invoice", GET="L++HH+++", PATCH="LFFHHVVV", DELETE="LFFHHVVV"),
    "api/v1/invoices/<pk>/dispute": row("invoice", POST="LVFHHVVV"),
    "api/v1/invoices/<pk>/issue": row("draft_invoice", POST="LFFHH+++"),
    "api/v1/invoices/<pk>/pause": row("invoice", POST="LVFHHVVV"),
    "api/v1/invoices/<pk>/payments": row("invoice", POST="LFFHHVVV"),
    "api/v1/invoices/<pk>/promise": row("invoice", POST="LVFHHVVV"),
    "api/v1/invoices/<pk>/void": row("invoice", POST="LFFHHVVV"),
    "api/v1/invoices/<pk>/write-off": row("invoice", POST="LFFHHVVV"),
    "api/v1/invoices/<pk>/history": row("invoice", GET="L++HH+++"),
    "api/v1/payments": row(GET="L+++++++"),
    "api/v1/payments/<pk>": row("payment", GET="L++HH+++"),
    "api/v1/write-off-requests": row(GET="L+++++++"),
    "api/v1/write-off-requests/<pk>": row("write_off", GET="L++HH+++"),
    "api/v1/write-off-requests/<pk>/decide": row("write_off", POST="LFFHHFVV"),
    "api/v1/kpi-targets": row(GET="L+++++++", POST="LFFFFFVV"),
    "api/v1/kpi-targets/<pk>": row("kpi_target", GET="L+HHH+++", PATCH="LFHHHFVV", DELETE="LFHHHF++"),
    "api/v1/proposals": row(GET="L+++++++", POST="LVVVVVVV"),
    "api/v1/proposals/<pk>": row("proposal", GET="L++HH+++", PATCH="L+FHHF++"),
    "api/v1/proposals/<pk>/approve": row("proposal", POST="LFFHHFVV"),
    "api/v1/proposals/<pk>/new-version": row("proposal", POST="L+FHHF++"),
    "api/v1/proposals/<pk>/pdf": row("proposal", GET="L++HH+++", POST="L++HH+++"),
    "api/v1/proposals/<pk>/history": row("proposal", GET="L++HH+++"),
    "api/v1/proposals/<pk>/return": row("proposal", POST="LFFHHFVV"),
    "api/v1/proposals/<pk>/send": row("proposal", POST="LVFHHFVV"),
    "api/v1/proposals/<pk>/submit": row("proposal", POST="LVFHHFVV"),
    "api/v1/proposal-lines": row(POST="LVVVVVVV"),
    "api/v1/proposal-lines/<pk>": row("line", GET="L++HH+++", PATCH="L+FHHF++", DELETE="L+FHHF++"),
    "api/v1/rate-card": row(GET="L+++++++"),
    "api/v1/webhook-endpoints": row(GET="LFFFFFF+"),
    "api/v1/webhook-endpoints/<pk>": row("endpoint", GET="LFFFFFF+"),
    "api/v1/webhook-deliveries": row(GET="LFFFFFF+"),
    "api/v1/webhook-deliveries/<pk>": row("delivery", GET="LFFFFFF+"),
    # Public: drf-spectacular serves the same schema to anyone (SERVE_PUBLIC, AllowAny); asked as anonymous and admin.
    "api/schema/": row(GET="++++++++", public=True),
    "api/docs/": row(GET="++++++++", public=True),
}


def _version(record: str):
    return lambda world: world.records[record].version


def _today(days: int = 0):
    return lambda world: (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


# Valid bodies for the forms whose view validates before it asks the service (an empty body would only say V).
# A value may be a callable of the world, for versions and dates.
PAYLOADS = {
    ("invoices/<int:pk>/payments/new/", "POST"): {
        "amount": "1000",
        "received_on": _today(),
        "method": "bank_transfer",
        "version": _version("invoice"),
    },
    ("invoices/<int:pk>/void/", "POST"): {"reason": "Issued twice", "version": _version("invoice")},
    ("invoices/<int:pk>/write-off/", "POST"): {"reason": "Client closed", "version": _version("invoice")},
    ("write-offs/<int:pk>/decide/", "POST"): {"decision": "reject", "note": "Keep collecting"},
    ("invoices/<int:pk>/dispute/", "POST"): {"disputed": "1", "note": "Wrong amount"},
    ("invoices/<int:pk>/promise/", "POST"): {"promise_to_pay": _today(7)},
    ("invoices/<int:pk>/pause/", "POST"): {"paused": "1", "note": "Talking to their CFO"},
    ("statements/<int:client_pk>/pause/", "POST"): {"paused": "1", "note": "Talking to their CFO"},
    ("activities/<int:pk>/done/", "POST"): {},
    ("requests/<int:pk>/move/", "POST"): {"to": "triaged", "note": ""},
    ("handovers/<int:pk>/status/", "POST"): {"to": "in_progress"},
    ("api/v1/handovers/<pk>/status", "POST"): {"to": "in_progress"},
    ("api/v1/proposals/<pk>/return", "POST"): {"note": "Lower the discount"},
}
