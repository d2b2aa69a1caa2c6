"""Sortable list tables: the headings of a list page and its sort choices, shared by the list pages.

``columns`` is a sequence of ``(key, label, css)``; ``sorts`` maps a sortable key to ``(label, ordering)``; ``sort``
is the current one, ``key`` or ``-key``.
"""

from collections.abc import Mapping, Sequence

from django.http import HttpRequest


def table_columns(request: HttpRequest, columns: Sequence[tuple], sorts: Mapping, sort: str) -> list[dict]:
    """The list's headings; a sortable one links to sorting by it (flipping the direction when already so)."""
    headings = []
    for key, label, css in columns:
        heading = {"label": label, "css": css, "sort": None}
        if key in sorts:
            params = request.GET.copy()
            params.pop("page", None)
            params["sort"] = f"-{key}" if sort == key else key
            direction = "ascending" if sort == key else ("descending" if sort == f"-{key}" else "none")
            heading["sort"] = {"url": f"?{params.urlencode()}", "direction": direction}
        headings.append(heading)
    return headings


def sort_choices(sorts: Mapping) -> list[tuple[str, str]]:
    """Each sortable key ascending and descending, for the sort menu (phones, where headings are hidden)."""
    choices = []
    for key, (label, _ordering) in sorts.items():
        choices += [(key, f"{label} ↑"), (f"-{key}", f"{label} ↓")]
    return choices
