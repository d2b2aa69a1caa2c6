from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from clients.health import AT_RISK_BELOW

register = template.Library()

STATUS_CLASSES = {
    "prospect": "text-bg-light border",
    "active": "text-bg-success",
    "at_risk": "text-bg-warning",
    "churned": "text-bg-secondary",
}
PRIORITY_CLASSES = {
    "urgent": "text-bg-danger",
    "high": "text-bg-warning",
    "normal": "text-bg-light border",
    "low": "text-bg-light border",
}


@register.simple_tag
def health_badge(score) -> str:
    """The score with a word as well as a colour, so it reads without colour vision."""
    if score is None:
        return ""
    if score < AT_RISK_BELOW:
        css, word = "health-bad", _("at risk")
    elif score < 75:
        css, word = "health-fair", _("fair")
    else:
        css, word = "health-good", _("healthy")
    return format_html('<span class="health {}" title="{}">{} <small>{}</small></span>', css, word, score, word)


@register.simple_tag
def client_status_badge(client) -> str:
    return format_html(
        '<span class="badge {}">{}</span>',
        STATUS_CLASSES.get(client.status, "text-bg-light"),
        client.get_status_display(),
    )


@register.simple_tag
def priority_badge(item) -> str:
    return format_html(
        '<span class="badge {}">{}</span>',
        PRIORITY_CLASSES.get(item.priority, "text-bg-light"),
        item.get_priority_display(),
    )


@register.simple_tag
def sla_badge(item, now=None) -> str:
    """Breached, warning (past 75 % of the allowed time) or on time, with the due time."""
    state = item.sla_state(now or timezone.now())
    due = timezone.localtime(item.sla_due_at).strftime("%d/%m %H:%M")
    if state == "breached":
        return format_html(
            '<span class="sla sla-breached"><i class="bi bi-alarm" aria-hidden="true"></i> {} · {}</span>',
            _("SLA breached"),
            due,
        )
    if state == "warning":
        return format_html(
            '<span class="sla sla-warning"><i class="bi bi-hourglass-split" aria-hidden="true"></i> {} · {}</span>',
            _("Due soon"),
            due,
        )
    if not item.is_open:
        return format_html(
            '<span class="sla sla-ok"><i class="bi bi-check2" aria-hidden="true"></i> {}</span>', _("Met")
        )
    return format_html(
        '<span class="sla sla-ok"><i class="bi bi-clock" aria-hidden="true"></i> {} · {}</span>', _("Due"), due
    )


@register.filter
def initial(name: str) -> str:
    """The first letter of a person's given name (the last word of a Vietnamese full name)."""
    return (name.split()[-1][:1] if name else "").upper()
