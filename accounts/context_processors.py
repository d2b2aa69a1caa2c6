from functools import cache, partial

from django.conf import settings

from accounts.navigation import navigation_for
from accounts.selectors import unread_notification_count


def navigation(request) -> dict:
    """The header's role-aware menu, unread count and agency name on every page (one query when signed in)."""
    user = getattr(request, "user", None)
    # Languages are named in themselves, never translated (Django's get_available_languages would).
    context = {"agency_name": settings.ACCORD_AGENCY_NAME, "interface_languages": settings.LANGUAGES}
    if user is not None and user.is_authenticated:
        context["nav_items"] = navigation_for(user)
        # Counted when the page shows it, once: a page that already knows the count passes its own.
        context["unread_notifications"] = cache(partial(unread_notification_count, user=user))
    return context
