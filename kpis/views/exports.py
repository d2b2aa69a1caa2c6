"""CSV of any dashboard table: /kpis/export/?dashboard=director&table=leaderboard (with the page's own query
string: period, currency, person). The export rebuilds the page's context with the same selectors and the same
visibility, so the file holds exactly the table the page shows. UTF-8 with a BOM (Excel reads Vietnamese) and
no cell that a spreadsheet would run as a formula (the helper the clients and contracts exports use)."""

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.utils.text import slugify

from accounts.permissions import has_role
from clients.views import _cell, _Echo
from core.replica import reads_from_replica

from .account_manager import account_manager_context, subject_from
from .director import director_context
from .drilldown import drilldown_from, records_table
from .sales import sales_context
from .shared import DIRECTOR_DASHBOARD_ROLES, SALES_DASHBOARD_ROLES, Table, period_from


def _tables(request: HttpRequest, dashboard: str) -> dict[str, Table]:
    """The dashboard's tables, after the same checks as its page (403 for a role's page, 404 for a person)."""
    if dashboard == "director":
        if not has_role(request.user, *DIRECTOR_DASHBOARD_ROLES):
            raise PermissionDenied
        return director_context(request)["tables"]
    if dashboard == "am":
        subject = subject_from(request)
        if subject is None:
            raise Http404
        return account_manager_context(request, subject)["tables"]
    if dashboard == "sales":
        if not has_role(request.user, *SALES_DASHBOARD_ROLES):
            raise PermissionDenied
        return sales_context(request)["tables"]
    if dashboard == "records":
        return {"records": records_table(drilldown_from(request))}
    raise Http404


@login_required
@reads_from_replica
def export(request: HttpRequest) -> StreamingHttpResponse:
    dashboard = request.GET.get("dashboard", "")
    table = _tables(request, dashboard).get(request.GET.get("table", ""))
    if table is None:
        raise Http404
    writer = csv.writer(_Echo())

    def rows():
        yield "\ufeff" + writer.writerow([str(label) for label in table.header])
        for row in table.rows:
            yield writer.writerow([_cell(value) for value in row])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    name = slugify(f"accord-kpis-{dashboard}-{table.key}-{period_from(request).key}")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response["Cache-Control"] = "no-store"
    return response
