"""Who may see and do what: the one module every app asks.

The convention (DOMAIN.md, Roles): each domain model's manager is built from a ``VisibleQuerySet`` subclass
that implements ``visible_to(user)``. Pages, the API, exports and search all start from
``Model.objects.visible_to(user)``; a record outside it does not exist for that user (404, never 403).
Role checks for *actions* (terminate, approve, write off) use the helpers below.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db import models
from django.shortcuts import get_object_or_404
from rest_framework.permissions import BasePermission

DIRECTOR_ROLES = frozenset({"director", "admin"})


class VisibleQuerySet(models.QuerySet):
    """Base queryset of every model whose rows are not visible to everyone."""

    def visible_to(self, user) -> "VisibleQuerySet":
        raise NotImplementedError(f"{self.model.__name__} must define visible_to(user)")


def get_visible_or_404(model: type[models.Model], user, **lookup) -> models.Model:
    """The record if ``user`` may see it; Http404 otherwise, so its existence does not leak."""
    return get_object_or_404(model._default_manager.visible_to(user), **lookup)


def has_role(user, *roles: str) -> bool:
    return bool(user.is_authenticated and user.is_active and user.role in roles)


def sees_everything(user) -> bool:
    """Directors and administrators see every record of every kind."""
    return has_role(user, *DIRECTOR_ROLES)


def is_director(user) -> bool:
    """Approvals that need a director (terminations, large discounts, write-offs) accept an admin too."""
    return has_role(user, *DIRECTOR_ROLES)


def role_required(*roles: str):
    """View decorator: the page exists for these roles only (403 for other signed-in users)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


class HasRole(BasePermission):
    """DRF permission: ``permission_classes = [HasRole.of("director", "admin")]``."""

    roles: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *roles: str) -> type["HasRole"]:
        return type(f"HasRole_{'_'.join(roles)}", (cls,), {"roles": frozenset(roles)})

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, *self.roles)
