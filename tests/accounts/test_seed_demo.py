import pytest
from django.core.management import call_command

from accounts.models import Role, Team, User

pytestmark = pytest.mark.django_db


def seed(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_builds_the_agency_and_prints_the_logins():
    output = seed()

    assert User.objects.count() == 11
    roles = list(User.objects.values_list("role", flat=True))
    assert {role: roles.count(role) for role in Role.values} == {
        "account_manager": 6,
        "sales": 2,
        "finance": 1,
        "director": 1,
        "admin": 1,
    }
    assert set(Team.objects.values_list("name", flat=True)) == {"Hà Nội", "Sài Gòn"}
    assert all(team.members.filter(role=Role.ACCOUNT_MANAGER).count() == 3 for team in Team.objects.all())
    assert "director@agency.example" in output and "accord-demo-2026" in output
    assert User.objects.get(email="am.nhung@agency.example").full_name == "Đặng Thị Hồng Nhung"
    assert User.objects.get(email="director@agency.example").check_password("accord-demo-2026")


def test_seed_demo_is_idempotent():
    seed()
    output = seed()

    assert User.objects.count() == 11
    assert Team.objects.count() == 2
    assert "nothing to add" in output


def test_reset_rebuilds_from_scratch():
    seed()
    User.objects.filter(email="am.tung@agency.example").update(full_name="Changed")

    seed("--reset")

    assert User.objects.count() == 11
    assert User.objects.get(email="am.tung@agency.example").full_name == "Phan Thanh Tùng"
