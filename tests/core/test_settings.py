"""Settings come from the environment; production settings pass Django's deployment checklist."""

import os
import secrets
import subprocess
import sys

from tests.conftest import BASE_DIR

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "accord.example",
    "DATABASE_URL": "sqlite:////tmp/accord-check.sqlite3",
}


def run(code_or_args: list[str], **environment) -> subprocess.CompletedProcess:
    dropped = ("DEBUG", "SECRET_KEY", "REDIS_URL", "DATABASE_URL", "EMAIL_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(environment)
    return subprocess.run(
        [sys.executable, *code_or_args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def settings_value(name: str, **environment) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    result = run(["-c", code], DJANGO_SETTINGS_MODULE="config.settings", **environment)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_secret_key_is_required_when_debug_is_off():
    result = run(["manage.py", "check"], DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_deploy_check_is_clean_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_redis_tasks_run_in_process_and_with_it_on_the_broker():
    assert settings_value("CELERY_TASK_ALWAYS_EAGER") == "True"
    assert settings_value("CELERY_TASK_ALWAYS_EAGER", REDIS_URL="redis://127.0.0.1:6379/3") == "False"
    assert settings_value("CELERY_BROKER_URL", REDIS_URL="redis://127.0.0.1:6379/3") == "redis://127.0.0.1:6379/3"


def test_embedded_defaults():
    assert settings_value("DATABASES['default']['ENGINE']") == "django.db.backends.sqlite3"
    assert settings_value("TIME_ZONE") == "Asia/Ho_Chi_Minh"
    assert settings_value("ACCORD_DEFAULT_CURRENCY") == "VND"
    assert settings_value("EMAIL_BACKEND") == "core.mail.QueuedEmailBackend"  # every e-mail through the queue ...
    assert settings_value("ACCORD_EMAIL_DELIVERY_BACKEND") == "django.core.mail.backends.console.EmailBackend"
    smtp = "django.core.mail.backends.smtp.EmailBackend"  # ... to the backend EMAIL_URL names
    assert settings_value("ACCORD_EMAIL_DELIVERY_BACKEND", EMAIL_URL="smtp+tls://u:p@smtp.example.com:587") == smtp


def test_worker_settings_for_reliable_delivery():
    from django.conf import settings

    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] >= 2 * 3600
    assert settings.CELERY_TASK_TIME_LIMIT > settings.CELERY_TASK_SOFT_TIME_LIMIT > 0
    assert settings.CELERY_ACCEPT_CONTENT == ["json"]
    assert "prune-read-notifications" in settings.CELERY_BEAT_SCHEDULE


def test_security_headers_on_every_page(client):
    response = client.get("/login/")

    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
