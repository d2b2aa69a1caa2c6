"""Build a believable Vietnamese agency to explore Accord with: people, teams and their book of clients."""

import logging
import random
from collections import Counter
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import ProtectedError
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, Team, User
from accounts.services import notify, team_create, user_create
from clients.demo import reset_clients, seed_clients
from contracts.billing.demo import reset_billing, seed_billing, seed_billing_contracts
from contracts.demo import reset_contracts, seed_contracts
from proposals.demo import reset_proposals, seed_proposals

DEMO_PASSWORD = "accord-demo-2026"  # noqa: S105 - printed for the demo on purpose
DEMO_DOMAIN = "agency.example"

# (e-mail local part, full name, role, team, preferred language, phone)
PEOPLE = [
    ("admin", "Ngô Gia Huy", Role.ADMIN, None, "en", "+84 24 3936 1001"),
    ("director", "Trần Thị Mai Anh", Role.DIRECTOR, None, "vi", "+84 90 312 4455"),
    ("finance", "Lê Văn Phúc", Role.FINANCE, None, "vi", "+84 91 228 7310"),
    ("sales.nhu", "Phạm Quỳnh Như", Role.SALES, "Hà Nội", "vi", "+84 98 661 2034"),
    ("sales.khoi", "Đỗ Minh Khôi", Role.SALES, "Sài Gòn", "en", "+84 93 870 5521"),
    ("am.ha", "Nguyễn Thu Hà", Role.ACCOUNT_MANAGER, "Hà Nội", "vi", "+84 90 455 1180"),
    ("am.thang", "Vũ Đức Thắng", Role.ACCOUNT_MANAGER, "Hà Nội", "vi", "+84 97 204 6632"),
    ("am.lan", "Hoàng Ngọc Lan", Role.ACCOUNT_MANAGER, "Hà Nội", "en", "+84 94 517 8809"),
    ("am.bao", "Bùi Quốc Bảo", Role.ACCOUNT_MANAGER, "Sài Gòn", "vi", "+84 90 733 2417"),
    ("am.nhung", "Đặng Thị Hồng Nhung", Role.ACCOUNT_MANAGER, "Sài Gòn", "vi", "+84 96 318 4490"),
    ("am.tung", "Phan Thanh Tùng", Role.ACCOUNT_MANAGER, "Sài Gòn", "en", "+84 91 602 7753"),
]
TEAM_LEADS = {"Hà Nội": "am.ha", "Sài Gòn": "am.bao"}


def demo_email(local_part: str) -> str:
    return f"{local_part}@{DEMO_DOMAIN}"


@contextmanager
def quiet_logger(name: str):
    """Raise a logger to WARNING for the block: eager Celery logs one INFO line per task it runs."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class Command(BaseCommand):
    help = "Create the demo agency (idempotent). --reset deletes the demo data first."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo users, teams and clients, then rebuild."
        )
        parser.add_argument("--quiet", action="store_true", help="Do not print the demo logins.")

    def handle(self, *args, reset: bool = False, quiet: bool = False, **options):
        # The services notify people as they would in real use, and each notification is e-mailed after the
        # commit. Dozens of demo e-mails on the console (the default EMAIL_URL) would bury the logins, so this
        # run, and only this run, sends them nowhere; the in-app notifications stay. A separate worker (REDIS_URL
        # set) has its own settings and sends them as configured, to the demo users' .example addresses.
        with (
            override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
            quiet_logger("celery.app.trace"),
            quiet_logger("contracts.billing.collections"),  # replayed reminders since paid or on hold log at INFO
            transaction.atomic(),
        ):
            if reset:
                self.reset()
            people, created = self.seed_people()
            counts = seed_clients(people)
            contract_counts = Counter(seed_contracts(people)) + Counter(seed_billing_contracts(people))
            billing_counts = seed_billing(people)
            proposal_counts = seed_proposals(
                rng=random.Random("accord-demo-2026"), today=timezone.localdate(), quiet=quiet
            )
        self.report(created, counts)
        if contract_counts["contracts"]:
            self.stdout.write(
                self.style.SUCCESS(
                    "Demo contracts created: {contracts} contracts, {rounds} negotiation rounds, {phases} phases, "
                    "{costs} costs.".format_map(contract_counts)
                )
            )
        if billing_counts["invoices"]:
            self.stdout.write(
                self.style.SUCCESS(
                    "Demo billing created: {invoices} invoices, {payments} payments, {follow_ups} follow-ups, "
                    "{write_offs} write-off requests.".format(**billing_counts)
                )
            )
        if proposal_counts["proposals"]:
            self.stdout.write(
                self.style.SUCCESS(
                    "Demo proposals created: {proposals} proposals, {lines} lines, {rate_card} rate-card items.".format(
                        **proposal_counts
                    )
                )
            )
        if not quiet:
            self.print_logins()

    def reset(self) -> None:
        reset_proposals()  # first: proposals protect their clients, deals and owners
        reset_billing()  # then: invoices protect their contracts and clients
        reset_contracts()  # then: contracts protect their clients
        reset_clients()  # then: clients protect their owners, activities their authors
        Team.objects.filter(name__in=TEAM_LEADS).delete()
        try:
            User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").delete()
        except ProtectedError as error:
            owned = sorted({str(record) for record in error.protected_objects})[:5]
            raise CommandError(
                "The demo users still own data created after seeding (" + ", ".join(owned) + "); "
                "delete it first or reassign it. Nothing was reset."
            ) from error

    def report(self, created_users: int, counts: dict[str, int]) -> None:
        if not created_users and not counts["clients"]:
            self.stdout.write("Demo agency already present; nothing to add.")
            return
        if created_users:
            self.stdout.write(self.style.SUCCESS(f"Demo agency created: {created_users} users."))
        if counts["clients"]:
            self.stdout.write(
                self.style.SUCCESS(
                    "Demo clients created: {clients} clients, {contacts} contacts, {partners} partners "
                    "({partner_links} client links), {activities} activities, {requests} requests, "
                    "{handovers} hand-overs.".format(**counts)
                )
            )

    def seed_people(self) -> tuple[dict[str, User], int]:
        existing = set(User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").values_list("email", flat=True))
        people = {}
        for local_part, name, role, _team, language, phone in PEOPLE:
            email = demo_email(local_part)
            if email in existing:
                people[local_part] = User.objects.get(email=email)
                continue
            people[local_part] = user_create(
                email=email,
                full_name=name,
                role=role,
                password=DEMO_PASSWORD,
                preferred_language=language,
                phone=phone,
            )
        for team_name, lead in TEAM_LEADS.items():
            if Team.objects.filter(name=team_name).exists():
                continue
            members = [people[p[0]] for p in PEOPLE if p[3] == team_name]
            team_create(name=team_name, lead=people[lead], members=members)
        created = len(PEOPLE) - len(existing)
        if created:
            self.welcome(people)
        return people, created

    def welcome(self, people: dict[str, User]) -> None:
        for user in people.values():
            notify(
                user=user,
                title=_("Welcome to Accord"),
                body=_(
                    "Accord is where the agency's accounts live, from first brief to renewal. "
                    "Your colleagues and teams are under People."
                ),
                url=reverse("accounts:people"),
                email=False,
            )

    def print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING(f"Demo logins (password for all: {DEMO_PASSWORD})"))
        for local_part, name, role, team, _language, _phone in PEOPLE:
            team_text = f" · {team}" if team else ""
            self.stdout.write(f"  {demo_email(local_part):28} {Role(role).label:16} {name}{team_text}")
