"""Kehu settings. Every value comes from an environment variable with a working default.

KEHU_ENV=production switches on the secure defaults (HTTPS cookies, HSTS, no DEBUG) and
requires KEHU_SECRET_KEY.
"""

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("KEHU_VAR_DIR", Path.cwd() / "var")).resolve()

ENV = os.environ.get("KEHU_ENV", "development")
PRODUCTION = ENV == "production"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Off unless asked for (KEHU_DEBUG=1): a default install must not show tracebacks to its users.
DEBUG = env_bool("KEHU_DEBUG", False)
SECRET_KEY = os.environ.get("KEHU_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("KEHU_SECRET_KEY must be set when KEHU_ENV=production")
    SECRET_KEY = "kehu-development-key-not-for-production-" + "x" * 30

ALLOWED_HOSTS = env_list("KEHU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("KEHU_CSRF_TRUSTED_ORIGINS", "")


def database_from_url(url: str) -> dict:
    """Parse DATABASE_URL (sqlite:///path or postgres://user:pass@host:port/name?opt=v)."""
    parsed = urlparse(url)
    if parsed.scheme in ("sqlite", "sqlite3"):
        # sqlite:/// -> default file; sqlite:///rel/path; sqlite:////abs/path
        path = unquote(parsed.path)
        name = path[1:] if path.startswith("//") else path.lstrip("/")
        return sqlite_database(name or str(VAR_DIR / "kehu.sqlite3"))
    if parsed.scheme in ("postgres", "postgresql", "pgsql"):
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        # Kehu's lists are read from indexes and its servers have SSDs: a random page costs about
        # what a sequential one does (PostgreSQL's default of 4 assumes spinning disks and made the
        # planner walk the primary key past 27,000 rows instead of entering a (status, id) index:
        # docs/decisions.md). Sent at connection start (no round trip); "" leaves the server's value
        # (behind a pooler that refuses startup options, set it on the server instead).
        page_cost = os.environ.get("KEHU_PG_RANDOM_PAGE_COST", "1.1").strip()
        if page_cost:
            options["options"] = f"{options.get('options', '')} -c random_page_cost={float(page_cost):g}".strip()
        # JIT compilation pays off for long analytical queries; Kehu's are short, and a plan whose
        # estimate is inflated (a probe with sequential scans discouraged, a misjudged join) spent
        # 39-78 ms compiling before a query of a few ms (docs/decisions.md). "" leaves the server's.
        jit = os.environ.get("KEHU_PG_JIT", "off").strip().lower()
        if jit:
            if jit not in ("on", "off"):
                raise ImproperlyConfigured(f"KEHU_PG_JIT must be on, off or empty, not {jit!r}")
            options["options"] = f"{options.get('options', '')} -c jit={jit}".strip()
        db = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "kehu",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": env_int("KEHU_DB_CONN_MAX_AGE", 60),
            # a `SELECT 1` round trip before every request (0.6-1 ms) if true; off, a connection the
            # database dropped fails one request per worker and is then replaced (Django's default)
            "CONN_HEALTH_CHECKS": env_bool("KEHU_DB_HEALTH_CHECKS", False),
            "OPTIONS": options,
        }
        return db
    raise ImproperlyConfigured(f"Unsupported DATABASE_URL scheme: {parsed.scheme!r}")


# PostgreSQL: the API's record read by id runs as a prepared statement of its connection
# (kehu/core/reads.py). Off for a pooler that hands a connection to another client between
# transactions (PgBouncer in transaction mode), where a prepared statement does not follow.
KEHU_PREPARED_READS = env_bool("KEHU_DB_PREPARED_READS", True)


def sqlite_database(name: str) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        # a connection per worker kept across requests: opening one and running the PRAGMAs
        # cost ~0.5 ms of every request (docs/benchmarks.md)
        "CONN_MAX_AGE": env_int("KEHU_DB_CONN_MAX_AGE", 60),
        "OPTIONS": {
            # WAL lets readers and one writer work at once; IMMEDIATE avoids
            # "database is locked" upgrades from read to write transactions. A 32 MB page cache
            # and no memory-mapped I/O: the mapped pages counted in each worker's resident memory
            # (198-203 MB at 1M customers; the budget is 200), the OS page cache serves reads.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
                " PRAGMA cache_size=-32768; PRAGMA mmap_size=0; PRAGMA temp_store=MEMORY;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        "TEST": {"NAME": os.environ.get("KEHU_SQLITE_TEST_NAME") or None},
    }


# the database work of one web request stops after this long (kehu/core/deadline.py); 0 = no limit
KEHU_STATEMENT_TIMEOUT_MS = env_int("KEHU_STATEMENT_TIMEOUT_MS", 15000)
DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL", "sqlite:///"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_filters",
    "auditlog",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "kehu.core",
    "kehu.accounts",
    "kehu.customers",
    "kehu.sales",
    "kehu.activities",
    "kehu.catalog",
    "kehu.orders",
    "kehu.surveys",
    "kehu.service",
    "kehu.knowledge",
    "kehu.campaigns",
    "kehu.ui",
]

MIDDLEWARE = [
    # outermost: request id, JSON errors under /api/, 503 while the database is away, 413 (kehu/core/middleware.py)
    "kehu.core.middleware.ErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kehu.accounts.middleware.UserLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # before the session timeout, which tells the user why they were logged out
    "django.contrib.messages.middleware.MessageMiddleware",
    "kehu.accounts.middleware.SessionTimeoutMiddleware",
    "kehu.accounts.middleware.ForcePasswordChangeMiddleware",
    "kehu.accounts.middleware.UserTimezoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kehu.core.audit.ActorMiddleware",  # django-auditlog's, without a signal connected per request
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kehu.urls"
WSGI_APPLICATION = "kehu.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# SQLite cannot create a unique constraint whose NULLs are not distinct (service.SlaPolicy: one
# policy per type and priority, "any" being NULL). The model's validation, which every form, the
# API and imports run, enforces it there (kehu/service/tests/test_sla.py); PostgreSQL has the index.
# W040: the ticket and feedback lists' covering indexes carry extra columns (INCLUDE) on PostgreSQL,
# where they spare a heap visit per row; SQLite builds the same index without them, which is all it
# needs. The warning was printed by every `make run` on the embedded default.
SILENCED_SYSTEM_CHECKS = ["models.W047", "models.W040"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kehu.ui.context_processors.kehu",
            ],
        },
    }
]
# Django's form renderer with <select> written in Python (kehu/core/widgets.py)
FORM_RENDERER = "kehu.core.widgets.FormRenderer"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "kehu.accounts.validators.CharacterClassValidator"},
]

# i18n: Chinese first, English complete.
LANGUAGE_CODE = os.environ.get("KEHU_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("KEHU_TIME_ZONE", "Asia/Shanghai")

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = Path(os.environ.get("KEHU_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"  # never served directly: attachments go through a permission-checked view
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production whitenoise serves straight from the apps' static folders (also under `runserver`,
# which serves nothing itself with DEBUG off); with KEHU_DEBUG=1 it also picks up files added since start.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
# a body over this is answered 413 (JSON under /api/) by kehu.core.middleware, before it is read
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("KEHU_MAX_BODY_BYTES", 2621440)

# Sessions and login security
SESSION_COOKIE_AGE = env_int("KEHU_SESSION_ABSOLUTE_HOURS", 12) * 3600  # absolute timeout
KEHU_IDLE_TIMEOUT_MINUTES = env_int("KEHU_IDLE_TIMEOUT_MINUTES", 30)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # HTMX reads the token from the page, not the cookie
AXES_FAILURE_LIMIT = env_int("KEHU_LOGIN_FAILURE_LIMIT", 5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = env_int("KEHU_LOGIN_COOLOFF_MINUTES", 30) / 60
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLED = env_bool("KEHU_AXES_ENABLED", True)

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("KEHU_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("KEHU_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Mail
# With an SMTP host, mail is sent; without one (a fresh install, development) it is kept in the outbox
# that administrators read in the UI (kehu/core/mail.py), instead of failing against 127.0.0.1:25.
EMAIL_BACKEND = os.environ.get("KEHU_EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend" if os.environ.get("KEHU_EMAIL_HOST") else "kehu.core.mail.OutboxBackend"
)
EMAIL_HOST = os.environ.get("KEHU_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("KEHU_EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("KEHU_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("KEHU_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("KEHU_EMAIL_TLS", False)
EMAIL_TIMEOUT = env_int("KEHU_EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("KEHU_FROM_EMAIL", "Kehu <kehu@localhost>")

# Background work: django-tasks with its database backend; no extra service.
TASKS = {"default": {"BACKEND": os.environ.get("KEHU_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

# Audit log
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False

# Kehu's own settings
KEHU_ATTACHMENT_MAX_BYTES = env_int("KEHU_ATTACHMENT_MAX_MB", 20) * 1024 * 1024
KEHU_ATTACHMENT_EXTENSIONS = env_list(
    "KEHU_ATTACHMENT_EXTENSIONS",
    "pdf,png,jpg,jpeg,gif,webp,txt,csv,xlsx,xls,docx,doc,pptx,ppt,zip,eml,msg,odt,ods",
)
KEHU_POOL_CLAIM_LIMIT = env_int("KEHU_POOL_CLAIM_LIMIT", 20)  # pool claims per user per day
KEHU_POOL_IDLE_DAYS = env_int("KEHU_POOL_IDLE_DAYS", 30)  # no follow-up for this long -> back to the pool
KEHU_POOL_WARN_DAYS = env_int("KEHU_POOL_WARN_DAYS", 3)  # the owner is warned this many days before
KEHU_CONTRACT_EXPIRY_DAYS = env_int("KEHU_CONTRACT_EXPIRY_DAYS", 30)  # contract owners are reminded this many days before the end
KEHU_PHONE_REGION = os.environ.get("KEHU_PHONE_REGION", "CN")
# the company's base currency (ISO 4217): every amount is in it, shown with its symbol (kehu/core/money.py)
KEHU_CURRENCY = os.environ.get("KEHU_CURRENCY", "CNY").strip().upper() or "CNY"
# The company whose documents Kehu prints (the header of quotations, orders, contracts: kehu/core/pdf.py)
KEHU_COMPANY_NAME = os.environ.get("KEHU_COMPANY_NAME", "").strip() or "Kehu"
KEHU_PAGE_SIZE = env_int("KEHU_PAGE_SIZE", 50)
# how long a server process remembers a token's user and a user's rights/scope (kehu/accounts/authcache.py)
KEHU_AUTH_CACHE_SECONDS = env_int("KEHU_AUTH_CACHE_SECONDS", 5)
KEHU_BASE_URL = os.environ.get("KEHU_BASE_URL", "http://127.0.0.1:8000")
# behind this many reverse proxies the client's address is read from X-Forwarded-For (kehu/core/ratelimit.py)
KEHU_PROXY_COUNT = env_int("KEHU_PROXY_COUNT", 0)
# satisfaction surveys (kehu/surveys): the link is valid this many days; unanswered after this many
# days the account manager gets a follow-up task; the public page answers 429 above these requests
# per window (seconds) from one address / for one link
KEHU_SURVEY_DAYS = env_int("KEHU_SURVEY_DAYS", 14)
KEHU_SURVEY_FOLLOW_UP_DAYS = env_int("KEHU_SURVEY_FOLLOW_UP_DAYS", 3)
KEHU_SURVEY_RATE_PER_IP = env_int("KEHU_SURVEY_RATE_PER_IP", 60)
KEHU_SURVEY_RATE_PER_LINK = env_int("KEHU_SURVEY_RATE_PER_LINK", 12)
KEHU_SURVEY_RATE_WINDOW = env_int("KEHU_SURVEY_RATE_WINDOW", 600)
# orders dated up to this many days after a campaign's end count as its revenue (kehu/campaigns/effect.py)
KEHU_CAMPAIGN_ATTRIBUTION_DAYS = env_int("KEHU_CAMPAIGN_ATTRIBUTION_DAYS", 90)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # every line names the request it was written in (the X-Request-ID header, and request_id in API errors)
    "filters": {"request_id": {"()": "kehu.core.middleware.RequestIdFilter"}},
    "formatters": {"kehu": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "kehu"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KEHU_LOG_LEVEL", "WARNING")},
}

NINJA_PAGINATION_PER_PAGE = KEHU_PAGE_SIZE
AUDITLOG_USE_BASE_MANAGER = True  # soft-deleted rows must still be diffed on restore
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_USE_FK_STRING_REPRESENTATION = True  # history shows "王芳", not "17"
