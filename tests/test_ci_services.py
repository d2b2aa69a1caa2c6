"""Under REQUIRE_SERVICES=1 (CI) the suite must really run on PostgreSQL and Redis, not fall back quietly."""

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import REQUIRE_SERVICES, redis_answers, require


@pytest.mark.django_db
def test_the_database_is_postgresql_when_services_are_required():
    if not REQUIRE_SERVICES:
        pytest.skip("runs on whatever DATABASE_URL says; REQUIRE_SERVICES=1 demands PostgreSQL")
    require(connection.vendor == "postgresql", f"the database is {connection.vendor}, not PostgreSQL")


def test_the_broker_is_redis_when_services_are_required():
    if not REQUIRE_SERVICES:
        pytest.skip("runs with whatever REDIS_URL says; REQUIRE_SERVICES=1 demands Redis")
    require(bool(settings.REDIS_URL) and redis_answers(settings.REDIS_URL), "Redis does not answer at REDIS_URL")
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
