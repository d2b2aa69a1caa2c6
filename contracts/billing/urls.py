"""Billing pages: invoices, payments, receivables, collections and statements (names under ``contracts:``)."""

from django.urls import path

from contracts.billing.views import actions, board, invoices, receivables, statements

urlpatterns = [
    path("invoices/", invoices.invoice_list, name="invoices"),
    path("invoices/export.csv", invoices.invoice_export, name="invoice_export"),
    path("contracts/<int:pk>/invoices/new/", invoices.invoice_create, name="invoice_create"),
    path("invoices/<int:pk>/", invoices.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/edit/", invoices.invoice_edit, name="invoice_edit"),
    path("invoices/<int:pk>/issue/", actions.invoice_issue, name="invoice_issue"),
    path("invoices/<int:pk>/delete/", actions.invoice_delete, name="invoice_delete"),
    path("invoices/<int:pk>/payments/new/", actions.payment_create, name="payment_create"),
    path("invoices/<int:pk>/void/", actions.invoice_void, name="invoice_void"),
    path("invoices/<int:pk>/write-off/", actions.write_off_request, name="write_off_request"),
    path("write-offs/<int:pk>/decide/", actions.write_off_decide, name="write_off_decide"),
    path("invoices/<int:pk>/dispute/", actions.invoice_dispute, name="invoice_dispute"),
    path("invoices/<int:pk>/promise/", actions.invoice_promise, name="invoice_promise"),
    path("invoices/<int:pk>/pause/", actions.invoice_pause, name="invoice_pause"),
    path("receivables/", receivables.receivables, name="receivables"),
    path("receivables/export.csv", receivables.receivables_export, name="receivables_export"),
    path("collections/", board.collections, name="collections"),
    path("collections/cards/<int:pk>/payment-form/", board.card_payment_form, name="card_payment_form"),
    path("statements/<int:client_pk>/", statements.statement, name="statement"),
    path("statements/<int:client_pk>/pause/", statements.client_followups_pause, name="client_followups_pause"),
]
