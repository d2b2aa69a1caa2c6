import datetime
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Notification, Role, Team, User
from clients.sla import sla_deadlines

TEST_PASSWORD = "pass-for-tests-1"


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@agency.test")
    full_name = factory.Faker("name", locale="vi_VN")
    role = Role.ACCOUNT_MANAGER
    preferred_language = "en"
    is_superuser = factory.LazyAttribute(lambda user: user.role == Role.ADMIN)
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save_password(self, create, extracted, **kwargs):
        if create:
            self.save(update_fields=["password"])


class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Hand-over {n} is due")
    body = "Creative needs the brief by Friday."
    url = "/people/"
    send_email = False


class ClientFactory(DjangoModelFactory):
    """A client owned by an account manager, in the owner's team."""

    class Meta:
        model = "clients.Client"

    name = factory.Sequence(lambda n: f"Công ty Khách hàng {n}")
    legal_name = factory.LazyAttribute(lambda client: f"{client.name} JSC")
    tax_code = factory.Sequence(lambda n: f"{n + 100000000:010d}")
    industry = "fmcg"
    tier = "B"
    status = "active"
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda client: client.owner.team)


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = "clients.Contact"

    client = factory.SubFactory(ClientFactory)
    full_name = factory.Faker("name", locale="vi_VN")
    title = "Marketing Manager"
    email = factory.Sequence(lambda n: f"contact{n}@client.test")
    phone = "+84 90 000 0000"


class PartnerFactory(DjangoModelFactory):
    class Meta:
        model = "clients.Partner"

    name = factory.Sequence(lambda n: f"Partner Studio {n}")
    kind = "production_house"


class PartnerRelationshipFactory(DjangoModelFactory):
    class Meta:
        model = "clients.PartnerRelationship"

    partner = factory.SubFactory(PartnerFactory)
    client = factory.SubFactory(ClientFactory)
    role = "TVC production"


class ActivityFactory(DjangoModelFactory):
    class Meta:
        model = "clients.Activity"

    client = factory.SubFactory(ClientFactory)
    author = factory.LazyAttribute(lambda activity: activity.client.owner)
    kind = "call"
    subject = factory.Sequence(lambda n: f"Weekly call {n}")


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = "clients.Department"
        django_get_or_create = ["name"]

    name = "Creative"


class RequestFactory(DjangoModelFactory):
    """A request whose SLA times follow from its priority and received_at, as the service computes them."""

    class Meta:
        model = "clients.Request"

    client = factory.SubFactory(ClientFactory)
    owner = factory.LazyAttribute(lambda request: request.client.owner)
    title = factory.Sequence(lambda n: f"Brief {n}: Tết campaign key visual")
    kind = "brief"
    priority = "normal"
    received_at = factory.LazyFunction(timezone.now)
    sla_warning_at = factory.LazyAttribute(lambda request: sla_deadlines(request.received_at, request.priority)[0])
    sla_due_at = factory.LazyAttribute(lambda request: sla_deadlines(request.received_at, request.priority)[1])


class HandoverFactory(DjangoModelFactory):
    class Meta:
        model = "clients.Handover"

    request = factory.SubFactory(RequestFactory)
    department = factory.SubFactory(DepartmentFactory)
    assignee = factory.SubFactory(UserFactory)
    created_by = factory.LazyAttribute(lambda handover: handover.request.owner)
    brief = "Key visual for Tết, three directions."
    due_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=3))


class ContractFactory(DjangoModelFactory):
    """A deal in draft for a client, owned by the client's owner."""

    class Meta:
        model = "contracts.Contract"

    client = factory.SubFactory(ClientFactory)
    owner = factory.LazyAttribute(lambda contract: contract.client.owner)
    number = factory.Sequence(lambda n: f"HD-1999-{n + 1:05d}")  # a year the services never number in
    title = factory.Sequence(lambda n: f"Chiến dịch Tết {n}")
    kind = "new_business"
    stage = "draft"
    probability = 10
    value = Decimal("250000000")
    currency = "VND"
    budget = Decimal("150000000")
    expected_close = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    notice_days = 30


class ActiveContractFactory(ContractFactory):
    """A signed, running contract: a year from the start, notice deadline computed as the service does."""

    stage = "active"
    probability = 100
    signed_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=200))
    start_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=180))
    end_date = factory.LazyAttribute(lambda contract: contract.start_date + datetime.timedelta(days=364))
    notice_deadline = factory.LazyAttribute(
        lambda contract: contract.end_date - datetime.timedelta(days=contract.notice_days)
    )


class InvoiceFactory(DjangoModelFactory):
    """An issued invoice on an active contract: 10 % VAT, due 30 days after issue, nothing paid yet.

    Numbers use 1999, a year the services never number in; amounts follow ``net_amount`` and ``vat_rate``.
    """

    class Meta:
        model = "contracts.Invoice"

    contract = factory.SubFactory(ActiveContractFactory)
    client = factory.LazyAttribute(lambda invoice: invoice.contract.client)
    number = factory.Sequence(lambda n: f"INV-1999-{n + 1:05d}")
    description = factory.Sequence(lambda n: f"Phí dịch vụ tháng {n % 12 + 1}")
    issue_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=10))
    due_date = factory.LazyAttribute(lambda invoice: invoice.issue_date + datetime.timedelta(days=30))
    currency = factory.LazyAttribute(lambda invoice: invoice.contract.currency)
    net_amount = Decimal("100000000")
    vat_rate = 10
    vat_amount = factory.LazyAttribute(lambda invoice: invoice.net_amount * invoice.vat_rate / 100)
    gross_amount = factory.LazyAttribute(lambda invoice: invoice.net_amount + invoice.vat_amount)
    paid_amount = Decimal("0")
    status = "issued"
    issued_at = factory.LazyAttribute(
        lambda invoice: timezone.make_aware(datetime.datetime.combine(invoice.issue_date, datetime.time(9)))
    )


class PaymentFactory(DjangoModelFactory):
    """A payment row only: use ``contracts.billing.services.payment_record`` when the invoice must follow."""

    class Meta:
        model = "contracts.Payment"

    invoice = factory.SubFactory(InvoiceFactory)
    amount = Decimal("10000000")
    received_on = factory.LazyFunction(timezone.localdate)
    method = "bank_transfer"
    recorded_by = factory.SubFactory(UserFactory, role=Role.FINANCE)
