"""CSV import pages (being written)."""


def client_import(request):  # replaced by the import helper
    raise NotImplementedError
