from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import EmailAuthenticationForm, LanguageForm
from accounts.home import panels_for
from accounts.models import Notification, Role
from accounts.permissions import get_visible_or_404
from accounts.security import password_reset_limit
from core.read_once import read_once


def _set_language_cookie(response: HttpResponse, language: str) -> HttpResponse:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        return _set_language_cookie(response, form.get_user().preferred_language)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's start page; what it shows depends on the role. The panels only read, so the data's
    revisions behind their cached figures are read once for the page (``core.read_once``)."""
    user = request.user
    recent, unread = selectors.recent_unread(user=user)
    context = {"recent_notifications": recent, "unread_notifications": unread}
    if user.role in (Role.DIRECTOR, Role.ADMIN):
        teams, unassigned = selectors.people_by_team(user=user)
        context.update(teams=teams, unassigned=unassigned)
        team = next((team for team in teams if team.pk == user.team_id), None)
        context.update(team=team, teammates=[mate for mate in team.active_members if mate != user] if team else [])
        if user.role == Role.ADMIN:
            people = [person for team in teams for person in team.active_members] + unassigned
            context["role_counts"] = [(Role(role).label, n) for role, n in selectors.role_head_counts(people).items()]
            context["locked_out"] = selectors.locked_out_attempts()[:10]
    else:
        context["team"], context["teammates"] = selectors.team_and_teammates(user=user)
    if context["team"] is not None:
        user.team = context["team"]  # the header shows it: no second look-up
    with read_once():
        context["panels"], panel_context = panels_for(user)
    context.update(panel_context)
    return render(request, "accounts/home.html", context)


@login_required
def people(request: HttpRequest) -> HttpResponse:
    """Everyone at the agency, by team, with their role and how to reach them."""
    return render(
        request,
        "accounts/people.html",
        dict(zip(("teams", "unassigned"), selectors.people_by_team(user=request.user), strict=True)),
    )


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = selectors.notification_list(user=request.user)
    if request.GET.get("filter") == "unread":
        notifications = notifications.unread()
    page = Paginator(notifications, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/notifications.html",
        {"page": page, "only_unread": request.GET.get("filter") == "unread"},
    )


@login_required
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read and follow its link (or come back to the inbox)."""
    notification = get_visible_or_404(Notification, request.user, pk=pk)
    services.notification_mark_read(notification=notification)
    if request.htmx:
        return render(request, "accounts/_notification.html", {"notification": notification})
    if notification.url and url_has_allowed_host_and_scheme(notification.url, allowed_hosts=None):
        return redirect(notification.url)
    return redirect("accounts:notifications")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    text = ngettext("%(count)d notification marked as read.", "%(count)d notifications marked as read.", count)
    messages.success(request, text % {"count": count})
    return redirect("accounts:notifications")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; a signed-in user's choice is remembered on their profile."""
    form = LanguageForm(request.POST)
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    response = redirect(next_url)
    if not form.is_valid():
        return response
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        services.user_set_language(user=request.user, language=language)
    return _set_language_cookie(response, language)


password_change = auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("accounts:password_change_done"))


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form (the same "check your e-mail" page whether or not an account uses the address), limited
    per e-mail address and per client address: beyond ``ACCORD_PASSWORD_RESET_RATES``, a 429 page and no e-mail.

    A 429 page rather than a silent "sent" page: the limits count every address alike, so the answer reveals no
    account, and someone who asked too often learns to wait for the link instead of asking again (as the sign-in
    lockout and the API's limits answer).
    """

    success_url = reverse_lazy("accounts:password_reset_done")
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        limited = password_reset_limit(self.request, form.cleaned_data["email"])
        if limited is None:
            return super().form_valid(form)
        minutes = -(-limited.retry_after // 60)
        response = render(self.request, "registration/password_reset_limited.html", {"minutes": minutes}, status=429)
        response["Retry-After"] = str(limited.retry_after)
        return response


password_reset = PasswordResetView.as_view()
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    success_url=reverse_lazy("accounts:password_reset_complete")
)
