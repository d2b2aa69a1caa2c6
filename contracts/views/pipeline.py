"""Pipeline board, contract list, export, create, edit and stage moves (being written)."""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404


board = contract_list = export = create = edit = move = _todo
