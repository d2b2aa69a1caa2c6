from django.urls import path

from kpis import target_views, views

app_name = "kpis"

urlpatterns = [
    # Dashboards (kpis/views/): the agency's, an account manager's, the sales pipeline's, the records behind a
    # figure, and the CSV of any of their tables.
    path("kpis/", views.director, name="director"),
    path("kpis/am/", views.account_manager, name="am"),
    path("kpis/sales/", views.sales, name="sales"),
    path("kpis/records/", views.drilldown, name="drilldown"),
    path("kpis/export.csv", views.export, name="export"),
    path("kpis/targets/", target_views.target_list, name="targets"),
    path("kpis/targets/set/", target_views.target_form, name="target_set"),
    path("kpis/targets/<int:pk>/delete/", target_views.target_delete, name="target_delete"),
    path("kpis/targets/grid/", target_views.target_grid, name="target_grid"),
    path("kpis/targets/copy/", target_views.targets_copy, name="targets_copy"),
    path("kpis/targets/history/", target_views.target_history, name="target_history"),
]
