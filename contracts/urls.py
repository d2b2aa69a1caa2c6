from django.urls import path

from contracts.billing import document_urls as billing_document_urls
from contracts.billing import urls as billing_urls
from contracts.views import detail, history, pipeline

app_name = "contracts"

urlpatterns = [
    path("pipeline/", pipeline.board, name="pipeline"),
    path("contracts/", pipeline.contract_list, name="list"),
    path("contracts/export.csv", pipeline.export, name="export"),
    path("contracts/new/", pipeline.create, name="create"),
    path("contracts/expiring/", detail.expiring, name="expiring"),
    path("contracts/<int:pk>/", detail.detail, name="detail"),
    path("contracts/<int:pk>/edit/", pipeline.edit, name="edit"),
    path("contracts/<int:pk>/move/", pipeline.move, name="move"),
    path("contracts/<int:pk>/rounds/new/", detail.round_create, name="round_create"),
    path("contracts/<int:pk>/phases/new/", detail.phase_create, name="phase_create"),
    path("phases/<int:pk>/edit/", detail.phase_edit, name="phase_edit"),
    path("phases/<int:pk>/send-report/", detail.phase_send_report, name="phase_send_report"),
    path("contracts/<int:pk>/costs/new/", detail.cost_create, name="cost_create"),
    path("contracts/<int:pk>/renew/", detail.renew, name="renew"),
    path("contracts/<int:pk>/history/", history.contract_history, name="history"),
    path("invoices/<int:pk>/history/", history.invoice_history, name="invoice_history"),
]
urlpatterns += billing_urls.urlpatterns + billing_document_urls.urlpatterns
