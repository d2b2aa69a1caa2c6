"""The weekly KPI digest: one e-mail per active director, every Monday, in their language.

It shows the agency's headline figures for the month the past week ended in (signed revenue, invoiced revenue,
cash collected, overdue receivables, win rate, weighted pipeline) against their targets, and the account managers
furthest behind their signed-revenue target, with a link to the director's dashboard. The figures come from the
dashboard's own ``Board``, so the e-mail and the page agree.

At most once per director and ISO week, without a table of its own: the digest also lands in the director's inbox
as a Notification whose link ends in ``digest=<year>-W<week>``. Sending locks the director's row, looks for that
notification, queues the mail (core/mail.py) and writes the notification in one transaction: a concurrent or
redelivered task waits for the lock and then finds it. The mail queue delivers the e-mail after the commit and
retries a mail server that refuses; one that never accepts leaves the e-mail failed in the admin, not lost.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.models import NotificationLevel, Role, User
from accounts.services import notify

from .metrics import Scope
from .models import Metric
from .periods import Period, PeriodKind
from .scorecard import format_attainment, format_figure
from .selectors import Board, Cell, build_board, cells

DIGEST_METRICS = (
    Metric.SIGNED_REVENUE,
    Metric.INVOICED_REVENUE,
    Metric.CASH_COLLECTED,
    Metric.OVERDUE_RECEIVABLES,
    Metric.WIN_RATE,
    Metric.PIPELINE_WEIGHTED,
)
BEHIND_SHOWN = 5
TEMPLATES = "kpis/email"


def week_of(day: date) -> date:
    """The Monday of ``day``'s ISO week: the digest's key."""
    return day - timedelta(days=day.weekday())


def week_key(monday: date) -> str:
    year, week, _weekday = monday.isocalendar()
    return f"{year}-W{week:02d}"


def digest_period(monday: date) -> Period:
    """The month the past week ended in (the Sunday before ``monday``): on Monday 1 December, all of November."""
    return Period.containing(PeriodKind.MONTH, monday - timedelta(days=1))


def digest_recipients() -> QuerySet[User]:
    return User.objects.filter(role=Role.DIRECTOR, is_active=True).exclude(email="").order_by("pk")


def digest_url(period: Period, monday: date) -> str:
    """The dashboard for the period; ``digest=`` marks the inbox entry that records the week's e-mail as sent."""
    return f"{reverse('kpis:director')}?period={period.key}&digest={week_key(monday)}"


# --- Content ------------------------------------------------------------------------------------------------


@dataclass
class Behind:
    """An account manager behind their signed-revenue target: their worst currency."""

    name: str
    team: str
    cell: Cell


@dataclass
class Digest:
    monday: date
    period: Period
    headline: list[tuple[str, list[Cell]]]  # (metric, cells)
    behind: list[Behind]
    with_targets: int  # account managers with a signed-revenue target this month


def build_digest(monday: date) -> Digest:
    """The week's figures: the agency's headline cells and the account managers furthest behind."""
    period = digest_period(monday)
    board = build_board(Scope.agency(), period, with_retention=False)
    headline = [(metric, cells(board, metric, Scope.agency())) for metric in DIGEST_METRICS]
    ranked, with_targets = furthest_behind(board)
    return Digest(monday, period, headline, ranked[:BEHIND_SHOWN], with_targets)


def furthest_behind(board: Board) -> tuple[list[Behind], int]:
    """Active account managers below 100 % of a signed-revenue target, lowest attainment first (each at their
    worst currency), and how many had a target at all."""
    behind, with_targets = [], 0
    for person in board.members.account_managers():
        scope = Scope.of_user(User(pk=person.id, full_name=person.full_name, team_id=person.team_id))
        targeted = [cell for cell in cells(board, Metric.SIGNED_REVENUE, scope) if cell.attainment is not None]
        if not targeted:
            continue
        with_targets += 1
        worst = min(targeted, key=lambda cell: cell.attainment)
        if worst.attainment < Decimal("100"):
            behind.append(Behind(person.full_name, person.team_name, worst))
    behind.sort(key=lambda row: (row.cell.attainment, row.name))
    return behind, with_targets


def _cell_text(metric: str, cell: Cell) -> dict:
    return {
        "currency": cell.currency,
        "target": format_figure(cell.target, metric, cell.currency),
        "actual": format_figure(cell.actual, metric, cell.currency),
        "attainment": format_attainment(cell),
        "met": cell.met,
    }


def _context(digest: Digest, director: User) -> dict:
    """The template's context, formatted in the active language."""
    headline = []
    for metric, metric_cells in digest.headline:
        rows = [_cell_text(metric, cell) for cell in metric_cells] or [
            {"currency": "", "target": "—", "actual": str(_("none")), "attainment": "—", "met": None}
        ]
        headline.append({"label": Metric(metric).label, "rows": rows})
    return {
        "director": director,
        "agency_name": settings.ACCORD_AGENCY_NAME,
        "period": digest.period,
        "week": week_key(digest.monday),
        "until": digest.monday - timedelta(days=1),
        "headline": headline,
        "behind": [
            {"name": row.name, "team": row.team, **_cell_text(Metric.SIGNED_REVENUE, row.cell)} for row in digest.behind
        ],
        "with_targets": digest.with_targets,
        "dashboard_url": f"{settings.ACCORD_SITE_URL}{digest_url(digest.period, digest.monday)}",
    }


def digest_message(digest: Digest, director: User) -> EmailMultiAlternatives:
    """The director's copy, text and HTML, in their language."""
    with translation.override(director.preferred_language):
        context = _context(digest, director)
        subject = " ".join(render_to_string(f"{TEMPLATES}/digest_subject.txt", context).split())
        context["subject"] = subject
        text = render_to_string(f"{TEMPLATES}/digest.txt", context)
        html = render_to_string(f"{TEMPLATES}/digest.html", context)
    message = EmailMultiAlternatives(
        subject=f"[Accord] {subject}",
        body=text,
        to=[director.email],
        headers={"Content-Language": director.preferred_language},
    )
    message.attach_alternative(html, "text/html")
    return message


# --- Sending ------------------------------------------------------------------------------------------------


def digest_send(*, director_id: int, monday: date) -> bool:
    """E-mail the week of ``monday``'s digest to one active director, at most once (see the module's docstring).

    False when already sent this week, or when the user is no longer an active director with an e-mail address.
    The e-mail is queued in the same transaction (core/mail.py delivers it and retries a refusing mail server).
    """
    with transaction.atomic():
        director = digest_recipients().select_for_update().filter(pk=director_id).first()
        if director is None:
            return False
        marker = f"digest={week_key(monday)}"
        if director.notifications.filter(url__endswith=marker).exists():
            return False
        digest = build_digest(monday)
        digest_message(digest, director).send()
        with translation.override(director.preferred_language):
            period_label = digest.period.label
        notify(
            user=director,
            title=_("Weekly KPI digest: %(period)s"),
            body=_("The agency's figures for %(period)s and the account managers furthest behind their target."),
            params={"period": period_label},
            url=digest_url(digest.period, monday),
            level=NotificationLevel.INFO,
            email=False,
        )
    return True
