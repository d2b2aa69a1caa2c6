"""Billing pages: invoices, payments, receivables, collections and statements (names under ``contracts:``)."""

urlpatterns = []
