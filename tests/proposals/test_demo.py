"""The demo proposals: a rate card for every department, proposals in every status in both languages, built
through the services, and seeding twice adds nothing."""

import random

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from contracts.models import Stage
from proposals.demo import PROPOSALS, RATE_CARD, reset_proposals, seed_proposals
from proposals.models import LineItem, Proposal, ProposalEvent, ProposalStatus, RateCardItem
from tests.conftest import FAST_PASSWORD_HASHERS, restore_migration_departments, tasks_run_in_process

pytestmark = pytest.mark.django_db


def seed() -> dict[str, int]:
    return seed_proposals(rng=random.Random("demo"), today=timezone.localdate(), quiet=True)


@pytest.fixture(scope="module")
def demo_agency(module_transaction, django_db_blocker):
    """The demo agency without its proposals and rate card (seed_demo seeds them too): each test seeds them.

    Built once for the module; each test's changes are rolled back after it (``module_transaction``)."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS),
        tasks_run_in_process(),
    ):
        restore_migration_departments()
        call_command("seed_demo", "--quiet")
        reset_proposals()
        RateCardItem.objects.all().delete()


def test_the_demo_has_proposals_in_every_status_in_vietnamese_and_english(demo_agency):
    counts = seed()

    proposals = Proposal.objects.select_related("contract")
    assert set(proposals.values_list("status", flat=True)) == set(ProposalStatus.values)
    assert set(proposals.values_list("language", flat=True)) == {"vi", "en"}
    assert counts == {"rate_card": len(RATE_CARD), "proposals": len(PROPOSALS) + 1, "lines": LineItem.objects.count()}
    assert proposals.filter(status=ProposalStatus.SENT).count() <= 3
    pending = proposals.get(status=ProposalStatus.PENDING_APPROVAL)
    assert pending.discount_percent == 20
    accepted = proposals.get(status=ProposalStatus.ACCEPTED)
    assert accepted.contract.stage == Stage.AWAITING_SIGNATURE and accepted.decided_by_name
    assert proposals.get(status=ProposalStatus.DECLINED).decline_reason
    assert proposals.filter(status=ProposalStatus.SENT, first_viewed_at__isnull=False).exists()
    superseded = proposals.get(status=ProposalStatus.SUPERSEDED)
    assert superseded.next_version.version == 2 and superseded.next_version.status == ProposalStatus.DRAFT
    assert not proposals.filter(lines__isnull=True).exists()
    assert proposals.filter(currency="USD").exists()


def test_every_department_has_a_rate_card_some_of_it_in_dollars(demo_agency):
    seed()

    items = RateCardItem.objects.select_related("department")
    assert {item.department.name for item in items} == {"Creative", "Planning", "Production house", "Media", "Digital"}
    assert items.filter(currency="USD").count() >= 3 and items.filter(currency="VND").count() >= 10


def test_seeding_twice_adds_nothing(demo_agency):
    seed()
    before = (Proposal.objects.count(), LineItem.objects.count(), RateCardItem.objects.count())
    events = ProposalEvent.objects.count()

    counts = seed()

    assert counts == {"rate_card": 0, "proposals": 0, "lines": 0}
    assert (Proposal.objects.count(), LineItem.objects.count(), RateCardItem.objects.count()) == before
    assert ProposalEvent.objects.count() == events


def test_reset_deletes_the_demo_proposals_and_seeding_rebuilds_them(demo_agency):
    seed()
    count = Proposal.objects.count()

    assert reset_proposals() == count
    assert not Proposal.objects.exists() and RateCardItem.objects.count() == len(RATE_CARD)
    assert seed()["proposals"] == count
