import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from accounts.models import Notification, Role
from accounts.permissions import HasRole, get_visible_or_404, is_director, role_required, sees_everything
from tests.factories import NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_record_outside_visible_to_is_a_404():
    mine, theirs = NotificationFactory(), NotificationFactory()

    assert get_visible_or_404(Notification, mine.recipient, pk=mine.pk) == mine
    with pytest.raises(Http404):
        get_visible_or_404(Notification, mine.recipient, pk=theirs.pk)


@pytest.mark.parametrize(
    ("role", "everything"),
    [
        (Role.DIRECTOR, True),
        (Role.ADMIN, True),
        (Role.FINANCE, False),
        (Role.SALES, False),
        (Role.ACCOUNT_MANAGER, False),
    ],
)
def test_who_sees_everything_and_approves(role, everything):
    user = UserFactory.build(role=role)

    assert sees_everything(user) is everything
    assert is_director(user) is everything


def test_an_inactive_director_has_no_powers():
    assert sees_everything(UserFactory.build(role=Role.DIRECTOR, is_active=False)) is False


def test_role_required_forbids_other_roles():
    @role_required(Role.FINANCE, Role.DIRECTOR)
    def view(request):
        return HttpResponse("ok")

    request = RequestFactory().get("/")
    request.user = UserFactory.build(role=Role.FINANCE)
    assert view(request).status_code == 200
    request.user = UserFactory.build(role=Role.SALES)
    with pytest.raises(PermissionDenied):
        view(request)


def test_has_role_for_the_api():
    permission = HasRole.of(Role.DIRECTOR)()
    request = RequestFactory().get("/")

    request.user = UserFactory.build(role=Role.DIRECTOR)
    assert permission.has_permission(request, None) is True
    request.user = UserFactory.build(role=Role.ACCOUNT_MANAGER)
    assert permission.has_permission(request, None) is False
