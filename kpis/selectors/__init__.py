"""Dashboard reads: the director's, the account manager's and the sales dashboard's figures, the lists beside
them, and the records behind each number. Pages, exports and the home panel all start here, so a number and the
list behind it always agree.

- ``board``: every metric for the agency, each team and each account manager from grouped queries;
- ``lists``: renewals due, clients at risk, SLA breaches, overdue invoices, the receivables aging;
- ``sales``: the funnel, the weighted forecast, idle deals and the win rate;
- ``drilldown``: the records behind a figure.
"""

from .board import HEADLINE_METRICS, Board, Cell, Members, attainment, build_board, cells, make_cell
from .drilldown import Section, drilldown_sections
from .lists import at_risk_clients, overdue_invoices, receivables_aging, renewals_due, sla_breaches, with_total
from .sales import forecast, forecast_records, funnel, idle_deals, win_loss

__all__ = [
    "HEADLINE_METRICS",
    "Board",
    "Cell",
    "Members",
    "Section",
    "at_risk_clients",
    "attainment",
    "build_board",
    "cells",
    "drilldown_sections",
    "forecast",
    "forecast_records",
    "funnel",
    "idle_deals",
    "make_cell",
    "overdue_invoices",
    "receivables_aging",
    "renewals_due",
    "sla_breaches",
    "win_loss",
    "with_total",
]
