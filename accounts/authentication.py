"""The API's token authentication: ``Authorization: Token <key>`` (or ``Bearer <key>``) with an Accord API token.

The token's scope is enforced here too, so it holds for every endpoint whatever its permission classes: a
read-only token gets 403 ``token_read_only`` on anything but GET, HEAD and OPTIONS.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS

from accounts import tokens

KEYWORDS = (b"token", b"bearer")
# The result is kept on the Django request: the idempotency middleware authenticates before the view does.
CACHE_ATTRIBUTE = "_accord_token_authentication"


class TokenReadOnly(exceptions.PermissionDenied):
    default_detail = _("This token is read-only: it cannot change anything.")
    default_code = "token_read_only"


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() not in KEYWORDS:
            return None
        django_request = request._request
        if not hasattr(django_request, CACHE_ATTRIBUTE):
            setattr(django_request, CACHE_ATTRIBUTE, self._authenticate_key(header))
        user, token = getattr(django_request, CACHE_ATTRIBUTE)
        if request.method not in SAFE_METHODS and not token.can_write:
            raise TokenReadOnly()
        return user, token

    def _authenticate_key(self, header: list[bytes]):
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header: send `Token <key>`."))
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = tokens.token_for_key(key)
        if token is None or not token.is_active or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        tokens.token_touch(token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "An API token created on the *API tokens* page: `Authorization: Token acc_…` "
                "(`Bearer acc_…` works too). A read-only token gets 403 `token_read_only` on POST, PUT, PATCH "
                "and DELETE."
            ),
        }
