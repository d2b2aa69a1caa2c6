"""Build a believable Vietnamese agency to explore Accord with: people and teams (later issues add more)."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, Team, User
from accounts.services import notify, team_create, user_create

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


class Command(BaseCommand):
    help = "Create the demo agency (idempotent). --reset deletes the demo data first."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Delete the demo users and teams, then rebuild.")
        parser.add_argument("--quiet", action="store_true", help="Do not print the demo logins.")

    def handle(self, *args, reset: bool = False, quiet: bool = False, **options):
        with transaction.atomic():
            if reset:
                self.reset()
            created = self.seed_people()
        if created:
            self.stdout.write(self.style.SUCCESS(f"Demo agency created: {created} users."))
        else:
            self.stdout.write("Demo agency already present; nothing to add.")
        if not quiet:
            self.print_logins()

    def reset(self) -> None:
        Team.objects.filter(name__in=TEAM_LEADS).delete()
        User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").delete()

    def seed_people(self) -> int:
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
        return created

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
