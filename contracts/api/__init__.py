"""The contracts API: /api/v1/contracts with its stage transitions, renewal, negotiation rounds, phases and costs,
the pipeline summary, and /api/v1/phases; billing: invoices, payments, write-off requests, receivables aging,
statements of account and their PDFs."""

from contracts.api.billing import (
    AgingView,
    InvoiceViewSet,
    PaymentViewSet,
    StatementDocumentView,
    StatementPdfView,
    StatementView,
    WriteOffRequestViewSet,
)
from contracts.api.contracts import ContractViewSet
from contracts.api.delivery import PhaseViewSet

__all__ = [
    "AgingView",
    "ContractViewSet",
    "InvoiceViewSet",
    "PaymentViewSet",
    "PhaseViewSet",
    "StatementDocumentView",
    "StatementPdfView",
    "StatementView",
    "WriteOffRequestViewSet",
]
