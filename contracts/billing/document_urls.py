"""Statement PDFs: ask the worker for one, watch its progress, download it."""

urlpatterns = []
