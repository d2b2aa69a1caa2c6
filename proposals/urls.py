"""Proposal pages (names under ``proposals:``); the client's public link lives here too, outside the login."""

app_name = "proposals"

urlpatterns = []
