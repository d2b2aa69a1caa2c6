"""The contracts' part of the client health score: a renewal due within 60 days with no renewal deal."""

from datetime import timedelta

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.health import Factor, HealthRule
from contracts.models import PIPELINE_STAGES, Contract, Stage

RENEWAL_WINDOW_DAYS = 60
RENEWAL_POINTS = 20


def due_without_deal(now) -> QuerySet:
    """Active contracts whose notice deadline is within the window and that no renewal deal (in the pipeline or
    signed) follows: the partial indexes ``contract_active_notice`` and ``contract_open_renewal`` answer it without
    reading the table, whichever way PostgreSQL joins the two."""
    today = timezone.localdate(now)
    renewal_deal = Contract.objects.filter(renewal_of=OuterRef("pk"), stage__in=[*PIPELINE_STAGES, Stage.ACTIVE])
    return Contract.objects.filter(
        stage=Stage.ACTIVE,
        notice_deadline__gte=today,
        notice_deadline__lte=today + timedelta(days=RENEWAL_WINDOW_DAYS),
    ).filter(~Q(Exists(renewal_deal)))


def _annotations(now) -> dict:
    return {"renewal_due_without_deal": Exists(due_without_deal(now).filter(client=OuterRef("pk")))}


def _penalty(now):
    """The points of ``renewal_due_without_deal`` without a look-up per client: the clients with a contract due, a
    set computed once for a whole list. (An EXISTS per client is costed by PostgreSQL as a look-up per client even
    when it runs it as a set: over a list of thousands that estimate alone switched the JIT compiler on.)"""
    clients_due = due_without_deal(now).order_by().values("client")
    return Case(When(pk__in=clients_due, then=Value(RENEWAL_POINTS)), default=Value(0), output_field=IntegerField())


def _explain(client, now) -> Factor | None:
    if not getattr(client, "renewal_due_without_deal", False):
        return None
    return Factor(
        _("Renewal due without a renewal deal"),
        RENEWAL_POINTS,
        _("A contract's notice deadline is within %(days)d days and no renewal is in the pipeline.")
        % {"days": RENEWAL_WINDOW_DAYS},
    )


RENEWAL_RULE = HealthRule(annotations=_annotations, penalty=_penalty, explain=_explain)
