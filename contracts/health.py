"""The contracts' part of the client health score: a renewal due within 60 days with no renewal deal."""

from datetime import timedelta

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.health import Factor, HealthRule
from contracts.models import PIPELINE_STAGES, Contract, Stage

RENEWAL_WINDOW_DAYS = 60
RENEWAL_POINTS = 20


def _annotations(now) -> dict:
    today = timezone.localdate(now)
    renewal_deal = Contract.objects.filter(renewal_of=OuterRef("pk"), stage__in=[*PIPELINE_STAGES, Stage.ACTIVE])
    due = Contract.objects.filter(
        client=OuterRef("pk"),
        stage=Stage.ACTIVE,
        notice_deadline__gte=today,
        notice_deadline__lte=today + timedelta(days=RENEWAL_WINDOW_DAYS),
    ).filter(~Q(Exists(renewal_deal)))
    return {"renewal_due_without_deal": Exists(due)}


def _penalty(now):
    # The annotation is an EXISTS over the contracts due: PostgreSQL computes it once, as a set, for a whole list.
    return Case(
        When(renewal_due_without_deal=True, then=Value(RENEWAL_POINTS)), default=Value(0), output_field=IntegerField()
    )


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
