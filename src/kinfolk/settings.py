"""Django settings for Kinfolk, read from environment variables with safe defaults.

Variables: KINFOLK_DATA_DIR, DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG, ALLOWED_HOSTS,
CSRF_TRUSTED_ORIGINS, EMAIL_HOST/EMAIL_PORT/EMAIL_HOST_USER/EMAIL_HOST_PASSWORD/EMAIL_USE_TLS,
DEFAULT_FROM_EMAIL, KINFOLK_BASE_URL, TESTPAY_SECRET, DROPS_RESERVE_RATE_PER_IP and
DROPS_RESERVE_RATE_PER_EMAIL (reserve attempts allowed per visitor's IP address and per e-mail
address, "<count>/<period>" as django-ratelimit reads it: "30/m" and "6/m" by default).
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("KINFOLK_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _persistent_secret(filename: str) -> str:
    """Return a secret kept in the data folder, generating it on first use."""
    path = DATA_DIR / filename
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        value = secrets.token_urlsafe(50)
        # O_EXCL: two processes starting together must end up with the same secret.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        return value


SECRET_KEY = os.environ.get("SECRET_KEY") or _persistent_secret("secret_key")
DEBUG = _env_bool("DEBUG")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
BASE_URL = os.environ.get("KINFOLK_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "huey.contrib.djhuey",
    "kinfolk.core",
    "kinfolk.shops",
    "kinfolk.accounts",
    "kinfolk.crm",
    "kinfolk.catalog",
    "kinfolk.orders",
    "kinfolk.drops",
    "kinfolk.releases",
    "kinfolk.referrals",
    "kinfolk.gallery",
    "kinfolk.testpay",
    "kinfolk.storefront",
    "kinfolk.dashboard",
    "kinfolk.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kinfolk.referrals.middleware.ShareVisitMiddleware",
]

ROOT_URLCONF = "kinfolk.urls"
WSGI_APPLICATION = "kinfolk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'kinfolk.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend plus a file lock that hands the write lock over promptly (core/sqlite).
    DATABASES["default"]["ENGINE"] = "kinfolk.core.sqlite"
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so a
    # transaction never fails half-way with "database is locked" when it upgrades from read to write.
    DATABASES["default"]["CONN_MAX_AGE"] = (
        0 if ":memory:" in str(DATABASES["default"]["NAME"]) else 60
    )
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA busy_timeout=20000;"
            "PRAGMA foreign_keys=ON;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and background work ---------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CACHES["ratelimit"] = CACHES["default"]
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "kinfolk",
        "immediate": False,
        "connection": {"url": REDIS_URL},
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Rate limits must hold across every worker process, which an in-memory cache does not
        # share: without Redis they are counted in files under the data folder. Two processes
        # counting the same key at the same instant may lose one count; a limit against abuse
        # tolerates that, and the cost is a small file read and write per limited request.
        "ratelimit": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache" / "ratelimit"),
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        },
    }
    HUEY = {
        "huey_class": "kinfolk.core.task_queue.NormalSyncSqliteHuey",
        "name": "kinfolk",
        "immediate": False,
        "connection": {"filename": str(DATA_DIR / "tasks.sqlite3")},
        "consumer": {"workers": 2, "worker_type": "thread"},
    }

# --- Accounts ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "storefront:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = _env_bool("SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Languages and time -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files -------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
SERVE_MEDIA = _env_bool("KINFOLK_SERVE_MEDIA", True)
PRIVATE_ROOT = DATA_DIR / "private"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # Release files and fans' uploads: never under MEDIA_ROOT, only handed out by views that
    # check who asks (kinfolk.core.storage).
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_ROOT, "base_url": None},
    },
}
if os.environ.get("KINFOLK_PRIVATE_S3_BUCKET"):
    # An S3-compatible bucket (AWS, MinIO, R2, ...) through django-storages: install the
    # ``s3`` extra (pip install 'kinfolk[s3]'); credentials come from the usual AWS_* variables.
    STORAGES["private"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["KINFOLK_PRIVATE_S3_BUCKET"],
            "endpoint_url": os.environ.get("KINFOLK_PRIVATE_S3_ENDPOINT") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- E-mail -----------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Kinfolk <no-reply@kinfolk.local>")
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS")
    EMAIL_TIMEOUT = 20
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "mail"

# --- Drops ------------------------------------------------------------------------------------
# Reserve attempts per visitor (kinfolk.storefront.views.drops): a bot past them gets a 429 page.
# django-ratelimit counts in a cache every worker process shares (see CACHES).
RATELIMIT_USE_CACHE = "ratelimit"
DROPS_RESERVE_RATE_PER_IP = os.environ.get("DROPS_RESERVE_RATE_PER_IP", "30/m")
DROPS_RESERVE_RATE_PER_EMAIL = os.environ.get("DROPS_RESERVE_RATE_PER_EMAIL", "6/m")

# --- Payments ---------------------------------------------------------------------------------
TESTPAY_SECRET = os.environ.get("TESTPAY_SECRET") or _persistent_secret("testpay_secret")
# Where the simulated processor posts its callbacks; the running server's own address by default.
TESTPAY_CALLBACK_BASE = os.environ.get("TESTPAY_CALLBACK_BASE", BASE_URL)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"huey": {"level": "INFO", "handlers": ["console"], "propagate": False}},
}
