"""Proposal factories. Numbers use 1999, a year the services never number in; stored totals are left at zero:
tests that need them build proposals through the services (``proposal_with_lines``) so totals are the real ones."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from tests.factories import ClientFactory, DepartmentFactory


class ProposalFactory(DjangoModelFactory):
    """A draft for a client, owned by the client's owner, valid for 30 days."""

    class Meta:
        model = "proposals.Proposal"

    client = factory.SubFactory(ClientFactory)
    owner = factory.LazyAttribute(lambda proposal: proposal.client.owner)
    number = factory.Sequence(lambda n: f"BG-1999-{n + 1:05d}")
    version = 1
    title = factory.Sequence(lambda n: f"Đề xuất chiến dịch Tết {n}")
    language = "en"
    currency = "VND"
    vat_rate = 10
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    objectives = "Grow awareness before Tết."
    scope = "Key visual, TVC 30s, social always-on."
    terms = "50 % on signature, 50 % on delivery."


class LineItemFactory(DjangoModelFactory):
    class Meta:
        model = "proposals.LineItem"

    proposal = factory.SubFactory(ProposalFactory)
    order = factory.Sequence(lambda n: n + 1)
    description = factory.Sequence(lambda n: f"Service {n}")
    department = factory.SubFactory(DepartmentFactory)
    quantity = Decimal("1")
    unit = "item"
    unit_price = Decimal("10000000")
    discount_percent = Decimal("0")


class RateCardItemFactory(DjangoModelFactory):
    class Meta:
        model = "proposals.RateCardItem"

    department = factory.SubFactory(DepartmentFactory)
    service = factory.Sequence(lambda n: f"Rate card service {n}")
    unit = "day"
    currency = "VND"
    price = Decimal("5000000")


def proposal_with_lines(owner, *, lines=(), client=None, **header):
    """A draft created by the services (real number and totals) with ``lines`` as dicts of line fields."""
    from proposals import services

    client = client or ClientFactory(owner=owner)
    header.setdefault("title", "Chiến dịch Tết 2027")
    header.setdefault("language", "en")
    return services.proposal_create(client=client, actor=owner, lines=list(lines), **header)


def line(description="Key visual", price="10000000", quantity="1", discount="0", **fields) -> dict:
    return {
        "description": description,
        "unit_price": Decimal(price),
        "quantity": Decimal(quantity),
        "discount_percent": Decimal(discount),
        **fields,
    }
