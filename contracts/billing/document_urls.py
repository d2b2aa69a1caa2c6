"""Statement PDFs: ask the worker for one, watch its progress, download it."""

from django.urls import path

from contracts.billing import document_views

urlpatterns = [
    path("statements/<int:client_pk>/pdf/", document_views.statement_pdf, name="statement_pdf"),
    path("statement-documents/<int:pk>/", document_views.statement_document, name="statement_document"),
    path(
        "statement-documents/<int:pk>/download/",
        document_views.statement_document_download,
        name="statement_document_download",
    ),
]
