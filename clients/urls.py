from django.urls import path

from clients import import_views, views

app_name = "clients"

urlpatterns = [
    path("clients/", views.client_list, name="list"),
    path("clients/export.csv", views.client_export, name="export"),
    path("clients/import/", import_views.client_import, name="import"),
    path("clients/import/example.csv", import_views.client_import_example, name="import_example"),
    path("clients/new/", views.client_create, name="create"),
    path("clients/<int:pk>/", views.client_detail, name="detail"),
    path("clients/<int:pk>/edit/", views.client_edit, name="edit"),
    path("clients/<int:pk>/reassign/", views.client_reassign, name="reassign"),
    path("clients/<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("clients/<int:pk>/partners/new/", views.relationship_create, name="relationship_create"),
    path("clients/<int:pk>/activities/new/", views.activity_create, name="activity_create"),
    path("clients/<int:pk>/requests/new/", views.request_create, name="request_create"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("relationships/<int:pk>/delete/", views.relationship_delete, name="relationship_delete"),
    path("activities/<int:pk>/done/", views.next_step_done, name="next_step_done"),
    path("partners/", views.partner_list, name="partners"),
    path("partners/new/", views.partner_form, name="partner_create"),
    path("partners/<int:pk>/", views.partner_detail, name="partner"),
    path("partners/<int:pk>/edit/", views.partner_form, name="partner_edit"),
    path("requests/", views.request_list, name="requests"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/edit/", views.request_edit, name="request_edit"),
    path("requests/<int:pk>/move/", views.request_transition, name="request_transition"),
    path("requests/<int:pk>/handover/", views.handover_create, name="handover_create"),
    path("handovers/<int:pk>/status/", views.handover_status, name="handover_status"),
    path("search/", views.search, name="search"),
]
