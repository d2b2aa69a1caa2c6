"""Pages for API tokens: everyone's personal tokens; administrators' service tokens.

A new key is shown once, in the answer to the POST that created it (nothing keeps it: only its hash is stored).
With htmx the form and the list are swapped in place; without it the whole page is rendered.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import selectors, tokens
from accounts.forms import PersonalTokenForm, ServiceTokenForm
from accounts.models import ApiTokenKind, Role
from accounts.permissions import role_required


def _render_tokens(request: HttpRequest, context: dict) -> HttpResponse:
    template = "accounts/tokens/_panel.html" if request.htmx else "accounts/tokens/page.html"
    return render(request, template, context)


@never_cache  # the answer may hold a new key: no browser or proxy keeps a copy
@login_required
def personal_tokens(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own tokens: create one (its key shown once), see when each was last used, revoke."""
    form, issued = PersonalTokenForm(request.POST or None), None
    if request.method == "POST" and form.is_valid():
        issued = tokens.personal_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            expires_at=form.expires_at(),
        )
        form = PersonalTokenForm()
    context = {
        "kind": ApiTokenKind.PERSONAL,
        "form": form,
        "issued": issued,
        "tokens": selectors.personal_token_list(user=request.user),
    }
    return _render_tokens(request, context)


@never_cache
@login_required
@role_required(Role.ADMIN)
def service_tokens(request: HttpRequest) -> HttpResponse:
    """Administrators' tokens for other tools, each acting as its own service account with a role."""
    form, issued = ServiceTokenForm(request.POST or None), None
    if request.method == "POST" and form.is_valid():
        issued = tokens.service_token_create(
            actor=request.user,
            name=form.cleaned_data["name"],
            role=form.cleaned_data["role"],
            team=form.cleaned_data["team"],
            scope=form.cleaned_data["scope"],
            expires_at=form.expires_at(),
        )
        form = ServiceTokenForm()
    context = {"kind": ApiTokenKind.SERVICE, "form": form, "issued": issued, "tokens": selectors.service_token_list()}
    return _render_tokens(request, context)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one token (404 for a token this person may not revoke: its existence does not leak)."""
    token = get_object_or_404(selectors.revocable_tokens(user=request.user), pk=pk)
    token = tokens.token_revoke(token=token, actor=request.user)
    if request.htmx:
        return render(request, "accounts/tokens/_row.html", {"token": token, "kind": token.kind})
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("accounts:service_tokens" if token.kind == ApiTokenKind.SERVICE else "accounts:api_tokens")
