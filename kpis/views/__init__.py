"""The KPI dashboards (director, account manager, sales), the records behind each figure, and CSV exports."""

from .account_manager import account_manager
from .director import director
from .drilldown import drilldown
from .exports import export
from .sales import sales

__all__ = ["account_manager", "director", "drilldown", "export", "sales"]
