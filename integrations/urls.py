from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("settings/webhooks/", views.endpoint_list, name="endpoints"),
    path("settings/webhooks/new/", views.endpoint_form, name="endpoint_create"),
    path("settings/webhooks/<int:pk>/", views.endpoint_detail, name="endpoint"),
    path("settings/webhooks/<int:pk>/edit/", views.endpoint_form, name="endpoint_edit"),
    path("settings/webhooks/<int:pk>/rotate-secret/", views.endpoint_rotate, name="endpoint_rotate"),
    path("settings/webhooks/<int:pk>/ping/", views.endpoint_ping, name="endpoint_ping"),
    path("settings/webhooks/<int:pk>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("settings/webhooks/deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("settings/webhooks/deliveries/<int:pk>/redeliver/", views.delivery_redeliver, name="redeliver"),
]
