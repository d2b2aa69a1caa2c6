"""Billing pages: invoices, payments, receivables, collections and statements."""
