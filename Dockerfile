# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint's libraries (Pango, HarfBuzz), gettext for the translation catalogue, and pg_dump/pg_restore 15 (the
# compose file's PostgreSQL) for `manage.py backup` and `restore`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 gettext \
       postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
RUN pip install -e . \
    && python manage.py compilemessages -l vi --ignore=.venv \
    && DEBUG=false SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput -v0 \
    && useradd --create-home --uid 1000 accord \
    && mkdir -p /app/media && chown accord /app/media
USER accord

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--forwarded-allow-ips", "*"]
