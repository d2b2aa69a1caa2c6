"""Brute-force guard helpers for django-axes."""


def lockout_username(request, credentials: dict | None) -> str | None:
    """The e-mail a sign-in attempt was for, lower-cased, so 'Ha@…' and 'ha@…' count as one account."""
    username = (credentials or {}).get("username") or (credentials or {}).get("email")
    if not username and request is not None:
        username = getattr(request, "data", request.POST).get("username")
    return username.strip().lower() if username else None
