"""A URLconf for the error-page tests: the project's URLs plus views that fail on purpose."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def fail(request):
    raise RuntimeError("boom")


def forbid(request):
    raise PermissionDenied


urlpatterns = [
    # Before the app's own: its catch-all under api/v1/ answers every path there with the JSON 404.
    path("api/v1/boom", fail),
    *urlpatterns,
    path("boom/", fail),
    path("forbidden/", forbid),
]
