"""Billing on other apps' pages: the finance and director panels of the home page and the client page's links
(registered in ``ContractsConfig.ready()``), and the collection counts the panels and the board share."""

from datetime import date
from functools import partial

from django.db.models import Count, Q, QuerySet, Window
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from contracts.billing import selectors
from contracts.billing import totals as summed
from contracts.billing.cache import cached, revision
from contracts.models import Invoice, WriteOffRequest, WriteOffStatus

HOME_WRITE_OFFS = 5


def pending_write_off() -> Q:
    """Invoices with a write-off request waiting for a director: a few, so one hashed look-up rather than a probe
    per open invoice."""
    return Q(pk__in=WriteOffRequest.objects.filter(status=WriteOffStatus.PENDING).values("invoice_id"))


def collection_counts(invoices: QuerySet[Invoice], today: date, *, revision_now: str | None = None) -> dict:
    """How many open invoices have a promise to pay due today, are disputed, or wait for a write-off decision.
    From the billing cache while no invoice changes; else one query (and the revision's, unless given)."""
    return cached(invoices.open(), partial(_count_collection_work, today=today), revision_now=revision_now)


def _count_collection_work(open_invoices: QuerySet[Invoice], today: date) -> dict:
    return open_invoices.aggregate(
        promises_today=Count("pk", filter=Q(promise_to_pay=today)),
        disputes=Count("pk", filter=Q(disputed=True)),
        write_offs=Count("pk", filter=pending_write_off()),
    )


def invoices_url(**params) -> str:
    return f"{reverse('contracts:invoices')}?{urlencode(params)}"


def finance_panel(user) -> dict:
    """Overdue outstanding per currency and the day's collection work, for finance."""
    today = timezone.localdate()
    invoices = selectors.invoice_list(user=user)
    revision_now = revision()
    return {
        "billing_finance": {
            "overdue": summed.totals_by_currency(
                user, {"overdue": True}, invoices.overdue(today), today=today, revision_now=revision_now
            ),
            "counts": collection_counts(invoices, today, revision_now=revision_now),
            "overdue_url": invoices_url(overdue=1),
            "promises_url": invoices_url(promise_due=today.isoformat()),
            "disputes_url": invoices_url(disputed=1),
            "write_offs_url": invoices_url(write_off=WriteOffStatus.PENDING),
        }
    }


def director_panel(user) -> dict:
    """The write-offs waiting for a director's decision, oldest first, and how many there are. One query: each row
    carries the count of them all."""
    pending = (
        WriteOffRequest.objects.filter(
            status=WriteOffStatus.PENDING, invoice__in=Invoice.objects.visible_to(user).values("pk")
        )
        .select_related("invoice__client", "requested_by")
        .annotate(waiting=Window(Count("pk")))
        .order_by("created_at", "id")
    )
    write_offs = list(pending[:HOME_WRITE_OFFS])
    return {
        "billing_director": {
            "write_offs": write_offs,
            "count": write_offs[0].waiting if write_offs else 0,
            "list_url": invoices_url(write_off=WriteOffStatus.PENDING),
        }
    }


def register_billing_home_panels() -> None:
    from accounts.home import register_home_panel

    register_home_panel(
        template="contracts/billing/home/finance.html", roles={Role.FINANCE}, context=finance_panel, order=5
    )
    register_home_panel(
        template="contracts/billing/home/director.html",
        roles={Role.DIRECTOR, Role.ADMIN},
        context=director_panel,
        order=5,
    )


def register_billing_client_links() -> None:
    """ "Statement of account" and "Invoices" on the client page (whoever may open the client may open both)."""
    from clients.links import ClientLink, register_client_link

    register_client_link(
        ClientLink(
            label=_("Statement of account"),
            icon="journal-text",
            url=lambda client: reverse("contracts:statement", args=[client.pk]),
            test_id="client-statement-link",
        )
    )
    register_client_link(
        ClientLink(
            label=_("Invoices"),
            icon="receipt",
            url=lambda client: f"{reverse('contracts:invoices')}?{urlencode({'client': client.pk})}",
            test_id="client-invoices-link",
        )
    )
