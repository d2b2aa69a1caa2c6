"""Under pytest-xdist each worker keeps to its own test database, Redis database and media folder, and so do the
processes it starts (they read them from the environment)."""

import os

import pytest
from django.conf import settings
from django.db import connection

from proposals.models import Proposal
from tests.conftest import XDIST_WORKER, redis_url_of_worker


def test_the_redis_database_moves_up_by_the_worker_index():
    assert redis_url_of_worker("redis://127.0.0.1:6379/8", 0) == "redis://127.0.0.1:6379/8"
    assert redis_url_of_worker("redis://127.0.0.1:6379/8", 1) == "redis://127.0.0.1:6379/9"
    assert redis_url_of_worker("redis://:secret@cache.internal:6380", 2) == "redis://:secret@cache.internal:6380/2"


def test_a_worker_past_the_last_redis_database_stops_the_run():
    with pytest.raises(pytest.UsageError, match="database 16"):
        redis_url_of_worker("redis://127.0.0.1:6379/15", 1)


@pytest.mark.django_db
def test_an_xdist_worker_has_its_own_database_redis_database_and_media_folder():
    if not XDIST_WORKER:
        pytest.skip("runs under pytest-xdist (make test)")
    assert connection.settings_dict["NAME"].endswith(f"_{XDIST_WORKER}")
    if settings.REDIS_URL:
        assert os.environ["REDIS_URL"] == settings.REDIS_URL == settings.CELERY_BROKER_URL
    if "DOCUMENT_STORAGE_OPTIONS" not in os.environ:
        assert os.environ["MEDIA_ROOT"] == str(settings.MEDIA_ROOT)
        assert XDIST_WORKER in os.environ["MEDIA_ROOT"]
        documents = Proposal._meta.get_field("pdf").storage  # the storage a model's FileField kept from import
        assert documents.location.startswith(os.environ["MEDIA_ROOT"])
