"""Proposal pages: the list and creation (pages), the page and its inline editor (editor), approval, sending,
versions and the PDF (workflow), and the client's page behind the signed link (public)."""
