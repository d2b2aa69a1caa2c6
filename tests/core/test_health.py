import pytest

pytestmark = pytest.mark.django_db


def test_healthz_reports_the_database_and_in_process_broker(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["broker"] == {"status": "ok", "mode": "in-process"}


def test_healthz_is_503_when_the_broker_is_down(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "error"
    assert response.json()["checks"]["database"]["status"] == "ok"


def test_healthz_needs_no_login_and_is_not_cached(client):
    response = client.get("/healthz")

    assert "no-cache" in response["Cache-Control"]


def test_favicon_points_at_the_static_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response.url.endswith("img/favicon.svg")
