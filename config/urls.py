from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from accounts import views as accounts_views
from clients import api as clients_api
from contracts import api as contracts_api
from core import views as core_views
from integrations import api as integrations_api
from kpis import api as kpis_api
from proposals import api as proposals_api

router = DefaultRouter(trailing_slash=False)
router.include_root_view = False
router.register("users", accounts_api.UserViewSet, basename="user")
router.register("notifications", accounts_api.NotificationViewSet, basename="notification")
router.register("clients", clients_api.ClientViewSet, basename="client")
router.register("contacts", clients_api.ContactViewSet, basename="contact")
router.register("partners", clients_api.PartnerViewSet, basename="partner")
router.register("partner-relationships", clients_api.PartnerRelationshipViewSet, basename="partner-relationship")
router.register("activities", clients_api.ActivityViewSet, basename="activity")
router.register("requests", clients_api.RequestViewSet, basename="request")
router.register("handovers", clients_api.HandoverViewSet, basename="handover")
router.register("contracts", contracts_api.ContractViewSet, basename="contract")
router.register("phases", contracts_api.PhaseViewSet, basename="phase")
router.register("invoices", contracts_api.InvoiceViewSet, basename="invoice")
router.register("payments", contracts_api.PaymentViewSet, basename="payment")
router.register("write-off-requests", contracts_api.WriteOffRequestViewSet, basename="write-off-request")
router.register("kpi-targets", kpis_api.KpiTargetViewSet, basename="kpi-target")
router.register("proposals", proposals_api.ProposalViewSet, basename="proposal")
router.register("proposal-lines", proposals_api.ProposalLineViewSet, basename="proposal-line")
router.register("rate-card", proposals_api.RateCardViewSet, basename="rate-card")
router.register("webhook-endpoints", integrations_api.WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", integrations_api.WebhookDeliveryViewSet, basename="webhook-delivery")

api_v1 = [
    path("me", accounts_api.me, name="me"),
    path("receivables/aging", contracts_api.AgingView.as_view(), name="receivables-aging"),
    path("statements/<int:client_id>", contracts_api.StatementView.as_view(), name="statement"),
    path("statements/<int:client_id>/pdf", contracts_api.StatementPdfView.as_view(), name="statement-pdf"),
    path("statement-documents/<int:pk>", contracts_api.StatementDocumentView.as_view(), name="statement-document"),
    path("kpis/metrics", kpis_api.MetricView.as_view(), name="kpi-metrics"),
    *router.urls,
]

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("", include("accounts.urls")),
    path("", include("clients.urls")),
    path("", include("contracts.urls")),
    path("", include("proposals.urls")),
    path("", include("kpis.urls")),
    path("", include("integrations.urls")),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    # Anything else under the API is its JSON 404, also with DEBUG on (whose 404 page is HTML), and also for a
    # POST with a session cookie (CSRF is checked on views that exist: its refusal would be an HTML 403).
    re_path(r"^api/v1/", csrf_exempt(core_views.page_not_found)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"

admin.site.site_header = "Accord"
admin.site.site_title = "Accord"
