"""The contract page: rounds, phases and reports, costs and budget, renewal; the expiring list (being written)."""

from django.http import Http404


def _todo(*args, **kwargs):
    raise Http404


detail = expiring = round_create = phase_create = phase_edit = phase_send_report = cost_create = renew = _todo
