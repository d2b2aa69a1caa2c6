"""Proposal pages (names under ``proposals:``); the client's public link lives here too, outside the login."""

from django.urls import path

from proposals import pdf_views
from proposals.views import editor, history, pages, public, workflow

app_name = "proposals"

urlpatterns = [
    path("proposals/", pages.proposal_list, name="list"),
    path("proposals/new/", pages.create, name="create"),
    path("proposals/<int:pk>/", editor.detail, name="detail"),
    path("proposals/<int:pk>/edit/", editor.update, name="update"),
    path("proposals/<int:pk>/lines/", editor.line_add, name="line_add"),
    path("proposals/<int:pk>/lines/rate-card/", editor.rate_card_add, name="rate_card_add"),
    path("proposals/lines/<int:pk>/", editor.line_update, name="line_update"),
    path("proposals/lines/<int:pk>/remove/", editor.line_remove, name="line_remove"),
    path("proposals/lines/<int:pk>/move/", editor.line_move, name="line_move"),
    path("proposals/<int:pk>/submit/", workflow.submit, name="submit"),
    path("proposals/<int:pk>/approve/", workflow.approve, name="approve"),
    path("proposals/<int:pk>/return/", workflow.return_to_owner, name="return"),
    path("proposals/<int:pk>/send/", workflow.send, name="send"),
    path("proposals/<int:pk>/new-version/", workflow.new_version, name="new_version"),
    path("proposals/<int:pk>/pdf/", pdf_views.pdf_download, name="pdf"),
    path("proposals/<int:pk>/pdf/status/", pdf_views.pdf_status, name="pdf_status"),
    path("proposals/<int:pk>/pdf/request/", pdf_views.pdf_request, name="pdf_request"),
    path("proposals/<int:pk>/history/", history.proposal_history, name="history"),
    path("p/<str:token>/", public.public, name="public"),
    path("p/<str:token>/accept/", public.public_accept, name="public_accept"),
    path("p/<str:token>/decline/", public.public_decline, name="public_decline"),
    path("p/<str:token>/pdf/", public.public_pdf, name="public_pdf"),
]
