"""Invoices pre-summed per account manager, team, contract owner, currency, status and due date.

The invoice list and the invoice API add up every invoice the user may see, per currency (its totals row and its
count). Over 300k invoices that sum takes a few hundred milliseconds on every first request after a change; over
this table, which has one row per (client's owner, client's team, contract's owner, currency, status, due date),
it reads a few thousand rows instead. The grouping keeps what the lists filter by: who may see an invoice (the
client's owner or team, the contract's owner), status, currency and the due date (overdue, aging bucket, due
range). Lists filtered by anything else (a search, one client, disputes) add up their invoices directly.

PostgreSQL triggers keep the table in step with every write (services, imports, ``QuerySet.update``, COPY), in
the writing transaction (migration ``contracts.0007``): on an invoice's insert, delete or change of status,
amounts, currency, due date, client or contract; on a client's change of owner or team; on a contract's change
of owner. An invoice's trigger takes a share lock on its client and contract, so a reassignment committed at the
same time cannot leave it under the previous owner. ``manage.py rebuild_invoice_totals`` recomputes the table
(``--check`` compares it with the invoices). On SQLite (the embedded default, small data) nothing keeps it and
the lists add up their invoices directly (``contracts.billing.totals``).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from accounts.permissions import has_role, sees_everything
from core.money import Currency


class InvoiceTotalQuerySet(models.QuerySet):
    def visible_to(self, user) -> "InvoiceTotalQuerySet":
        """The rows of the invoices ``Invoice.objects.visible_to(user)`` returns: the clients the user may open
        (``Client.objects.detailed_for``) and the contracts the user owns."""
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if sees_everything(user) or has_role(user, "finance"):
            return self.all()
        clients = Q(client_owner=user)
        if user.team_id and not has_role(user, "sales"):
            clients |= Q(client_team_id=user.team_id)
        return self.filter(clients | Q(contract_owner=user))


class InvoiceTotal(models.Model):
    # No database foreign keys: the triggers write these rows, and a team deleted (its clients' team set to null)
    # moves its rows before the team goes.
    client_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    client_team = models.ForeignKey(
        "accounts.Team", null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    contract_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    currency = models.CharField(max_length=3, choices=Currency.choices)
    status = models.CharField(max_length=20)
    due_date = models.DateField()
    invoices = models.IntegerField(default=0)
    # Sums of many invoices: wider than one invoice's amount.
    gross = models.DecimalField(max_digits=22, decimal_places=2, default=0)
    paid = models.DecimalField(max_digits=22, decimal_places=2, default=0)

    objects = InvoiceTotalQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client_owner", "client_team", "contract_owner", "currency", "status", "due_date"],
                nulls_distinct=False,
                name="invoice_total_key",
            )
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="invoice_total_status_due")]

    def __str__(self) -> str:
        return f"{self.currency} {self.status} {self.due_date}: {self.invoices}"
