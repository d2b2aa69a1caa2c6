"""Accord's settings: one module, every deployment choice read from the environment.

With no environment at all Accord runs on a SQLite file with Celery tasks executed in-process, so a newcomer's
first command works. Production sets DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL (see
README, "Configuration").
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Set it to 50 or more random characters, e.g. "
            "export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    SECRET_KEY = "django-insecure-accord-development-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "simple_history",
    "core",
    "accounts",
    "clients",
    "contracts",
    "proposals",
    "kpis",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the audit history records who made a change (DRF sets the user on the same request).
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After sessions, authentication and messages: signs out idle and expired sessions (SESSION_IDLE_TIMEOUT).
    "accounts.security.SessionExpiryMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    # After authentication: replays the first answer to a retried API POST with the same Idempotency-Key.
    "core.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Page queries are short; PostgreSQL's JIT would compile them for 25–35 ms each (more on a busy CPU) because
    # the health score's subqueries push their estimated cost past jit_above_cost. Nothing Accord runs is analytical.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
# A PostgreSQL read replica (streaming replication of the primary) for the KPI dashboards and the metrics endpoint:
# core/replica.py. Unset: everything reads the primary.
if replica_url := env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = {
        **env.db_url_config(replica_url),
        "CONN_MAX_AGE": DATABASES["default"].get("CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
        "TEST": {"MIRROR": "default"},  # tests read the test database through the replica's alias
    }
DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Accounts and authentication --------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    # Accord's user has a full name and an e-mail (no username, first or last name): compare with those.
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
# A sign-in lasts at most SESSION_COOKIE_AGE (a working day), and ends sooner after SESSION_IDLE_TIMEOUT without a
# request (two hours, as Salesforce's default); activity is recorded once per SESSION_ACTIVITY_RESOLUTION, not on
# every request (accounts.security.SessionExpiryMiddleware).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=2 * 3600)
SESSION_ACTIVITY_RESOLUTION = 300
PASSWORD_RESET_TIMEOUT = 3 * 3600
# Password-reset requests allowed per e-mail address and per client address ("<n>/<second|minute|hour|day>");
# beyond them a 429 page and no e-mail. Counted in the cache (CACHE_URL), like the API's rate limits.
ACCORD_PASSWORD_RESET_RATES = {
    "email": env.str("PASSWORD_RESET_RATE_PER_EMAIL", default="5/hour"),
    "ip": env.str("PASSWORD_RESET_RATE_PER_IP", default="20/hour"),
}

# Brute-force lockout: 5 failures for the same e-mail from the same IP lock that pair out for 30 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.security.lockout_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

# --- Internationalisation ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
# Each language is named in itself (an endonym), as language switchers do.
LANGUAGES = [("en", "English"), ("vi", "Tiếng Việt")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Ho_Chi_Minh")
USE_I18N = True
USE_TZ = True

ACCORD_AGENCY_NAME = env.str("AGENCY_NAME", default="Accord Agency")
ACCORD_DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="VND")
# Business hours for request SLAs: opening and closing time, ISO weekdays (1 = Monday), public holidays.
ACCORD_BUSINESS_HOURS = (
    env.str("BUSINESS_HOURS_START", default="08:30"),
    env.str("BUSINESS_HOURS_END", default="17:30"),
)
ACCORD_BUSINESS_DAYS = frozenset(env.list("BUSINESS_DAYS", cast=int, default=[1, 2, 3, 4, 5]))
ACCORD_HOLIDAYS = frozenset(env.list("HOLIDAYS", default=[]))
# A deal untouched in a pipeline stage for longer than this many days is highlighted on the board.
ACCORD_PIPELINE_IDLE_DAYS = {
    "draft": env.int("PIPELINE_IDLE_DAYS_DRAFT", default=14),
    "negotiation": env.int("PIPELINE_IDLE_DAYS_NEGOTIATION", default=14),
    "awaiting_signature": env.int("PIPELINE_IDLE_DAYS_AWAITING_SIGNATURE", default=14),
}
# Billing: the day of the month monthly retainers are invoiced (1-28); no follow-up e-mail for an open balance
# below the minimum of its currency.
ACCORD_RETAINER_INVOICE_DAY = env.int("RETAINER_INVOICE_DAY", default=1)
if not 1 <= ACCORD_RETAINER_INVOICE_DAY <= 28:
    raise ImproperlyConfigured("RETAINER_INVOICE_DAY must be between 1 and 28 (every month has that day).")
ACCORD_COLLECTION_MINIMUM = {
    "VND": env.int("COLLECTION_MINIMUM_VND", default=100_000),
    "USD": env.int("COLLECTION_MINIMUM_USD", default=5),
}
# How clients pay: printed on follow-up e-mails and statements (bank, account number, transfer reference).
ACCORD_PAYMENT_INSTRUCTIONS = env.str(
    "PAYMENT_INSTRUCTIONS",
    default="",
)
# Proposals: a total discount above this share (%) needs a director's approval before sending. Branding of PDFs:
# the logo (a path under static/, PNG or SVG) and the accent colour.
ACCORD_PROPOSAL_APPROVAL_DISCOUNT = env.float("PROPOSAL_APPROVAL_DISCOUNT", default=15.0)
ACCORD_BRAND_LOGO = env.str("BRAND_LOGO", default="img/logo.svg")
ACCORD_BRAND_COLOR = env.str("BRAND_COLOR", default="#4338ca")
# The address people reach Accord at; links in e-mails start with it.
ACCORD_SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Outbound webhooks: URLs that resolve to loopback, private, link-local or reserved addresses are refused (SSRF)
# unless this is on (a receiver on the same machine or network, in development and tests).
ACCORD_WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)

# --- Static and media -------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Generated documents (statement and proposal PDFs): private, served only through permission-checked views.
    # Any Django storage backend works (e.g. django-storages' S3 backend with its OPTIONS).
    "documents": {
        "BACKEND": env.str("DOCUMENT_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env.json("DOCUMENT_STORAGE_OPTIONS", default={"location": str(Path(str(MEDIA_ROOT)) / "documents")}),
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- E-mail -----------------------------------------------------------------------------------------------
# Every e-mail is written to the database first and delivered by the worker through the backend EMAIL_URL names
# (core/mail.py): a mail server that refuses delays an e-mail, retried with backoff, and never loses it.
_email = env.email_url("EMAIL_URL", default="consolemail://")
ACCORD_EMAIL_DELIVERY_BACKEND = _email.pop("EMAIL_BACKEND")
vars().update(_email)
EMAIL_BACKEND = "core.mail.QueuedEmailBackend"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)  # seconds an SMTP connection may hang before the attempt fails
ACCORD_EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=12)  # then "failed", for an administrator
ACCORD_EMAIL_KEEP_SENT_DAYS = env.int("EMAIL_KEEP_SENT_DAYS", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Accord <accord@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security ---------------------------------------------------------------------------------------------
# Behind a TLS-terminating proxy (nginx, a load balancer) that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# The largest client CSV import accepted (bytes); the proxy in front should allow a little more than this.
ACCORD_IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=5 * 1024 * 1024)

# --- API --------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous API call then gets 401 with a WWW-Authenticate header, not 403.
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Per token (or signed-in user) and per client address; rates in ACCORD_API_THROTTLE_RATES below.
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.TokenRateThrottle", "core.throttling.IpRateThrottle"],
    # Proxies in front of Accord that append to X-Forwarded-For (0: the client's address is REMOTE_ADDR).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # A JSON API: bodies are JSON only (415 otherwise), so the schema documents one request content type.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Requests allowed per API token (or signed-in user) and per client address: "<n>/second|minute|hour|day".
# Counted in the cache (CACHE_URL): set it to Redis when several web processes serve the API.
ACCORD_API_THROTTLE_RATES = {
    "token": env.str("API_RATE_PER_TOKEN", default="600/minute"),
    "ip": env.str("API_RATE_PER_IP", default="1200/minute"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Accord API",
    "DESCRIPTION": (
        "REST API of Accord, the account-management CRM.\n\n"
        "**Authentication**: an API token in `Authorization: Token <key>` (or `Bearer <key>`), created on the "
        "*API tokens* page (user menu): a personal token acts as you; a service token, created by an "
        "administrator, acts as a service account with its own role. A token is read-only (403 "
        "`token_read_only` on POST, PUT, PATCH and DELETE) or read-write. In a browser the session works too "
        "(send the CSRF token on writes).\n\n"
        "**Errors**: every 4xx and 5xx answer has the body "
        '`{"error": {"code": ..., "message": ..., "fields": {...}}}`.\n\n'
        "**Rate limits**: per token (or user) and per client address; beyond them 429 `throttled` with a "
        "`Retry-After` header (seconds).\n\n"
        "**Idempotency**: every POST accepts an `Idempotency-Key` header; a retry with the same key within "
        "24 hours returns the first answer (`Idempotent-Replayed: true`) and creates nothing twice.\n\n"
        "Lists are paginated with `page` and `page_size` (at most 200). See docs/api.md for the whole guide."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind" or "status": name each choice set after its own enum.
    "ENUM_NAME_OVERRIDES": {"RequestKindEnum": "clients.models.RequestKind"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema_postprocess",
        "config.api_examples.attach_examples",
    ],
}

# --- Background work --------------------------------------------------------------------------------------
# REDIS_URL unset: tasks run in-process, at once (the embedded default). Set: Redis is the broker.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
# A message taken by a worker that dies is handed to another worker after this long (acks_late).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3 * 3600),
    # A page that hands a task over does not hang on an unreachable broker: the task waits in the outbox.
    "socket_connect_timeout": 2,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "notify-sla-breaches": {
        "task": "clients.tasks.notify_sla_breaches_task",
        "schedule": crontab(minute="*/10"),
    },
    "refresh-client-status": {
        "task": "clients.tasks.refresh_client_status_task",
        "schedule": crontab(hour=6, minute=0),
    },
    "prune-read-notifications": {
        "task": "accounts.tasks.prune_notifications_task",
        "schedule": crontab(hour=3, minute=15),
    },
    # Local times (CELERY_TIMEZONE): successors and expiries first, just after midnight; reminders at office hours.
    "renew-and-expire-contracts": {
        "task": "contracts.tasks.renew_and_expire_contracts_task",
        "schedule": crontab(hour=0, minute=30),
    },
    "send-renewal-reminders": {
        "task": "contracts.tasks.send_renewal_reminders_task",
        "schedule": crontab(hour=8, minute=0),
    },
    "create-scheduled-invoices": {
        "task": "contracts.tasks.create_scheduled_invoices_task",
        "schedule": crontab(hour=7, minute=0),
    },
    "send-collection-follow-ups": {
        "task": "contracts.tasks.send_collection_follow_ups_task",
        "schedule": crontab(hour=9, minute=0),
    },
    "expire-proposals": {
        "task": "proposals.tasks.expire_proposals_task",
        "schedule": crontab(hour=0, minute=15),
    },
    "prune-idempotency-keys": {
        "task": "core.tasks.prune_idempotency_keys_task",
        "schedule": crontab(minute=40),
    },
    # Tasks asked for while the broker was down (core/outbox.py), handed over once it is back.
    "relay-outbox": {
        "task": "core.tasks.relay_outbox_task",
        "schedule": crontab(minute="*"),
    },
    # The mail queue (core/mail.py): attempts that are due (retries, lost tasks); sent e-mails pruned at night.
    "retry-due-emails": {
        "task": "core.tasks.retry_due_emails_task",
        "schedule": crontab(minute="*"),
    },
    "prune-sent-emails": {
        "task": "core.tasks.prune_sent_emails_task",
        "schedule": crontab(hour=3, minute=30),
    },
    "send-kpi-digest": {
        "task": "kpis.tasks.send_kpi_digest_task",
        "schedule": crontab(hour=8, minute=0, day_of_week="mon"),
    },
    # Webhooks: retries and lost first attempts every minute; invoices that became overdue, once, after midnight.
    "send-due-webhooks": {
        "task": "integrations.tasks.send_due_webhooks_task",
        "schedule": crontab(minute="*"),
    },
    "announce-overdue-invoices": {
        "task": "contracts.tasks.announce_overdue_invoices_task",
        "schedule": crontab(hour=0, minute=45),
    },
}

# --- Logging ----------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # WeasyPrint and fontTools log every layout step and font subset at INFO: dozens of lines per PDF.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # In-process (eager) tasks would log a line per task; a real worker keeps its INFO lines.
        "celery.app.trace": {"level": "WARNING" if not REDIS_URL else "INFO"},
    },
}
