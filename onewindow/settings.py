"""The one settings module, driven by the environment.

ONEWINDOW_HOME      folder for data (default: ./var under the current folder)
DATABASE_URL        e.g. postgres://user@localhost/onewindow; default: SQLite in $ONEWINDOW_HOME
SECRET_KEY          required unless ONEWINDOW_DEMO=True (demo mode keeps a generated key in
                    $ONEWINDOW_HOME/secret_key); SECRET_KEY_FILE is read when set
DEBUG               "True" or "False" (default False)
ALLOWED_HOSTS       comma-separated (default: localhost,127.0.0.1,[::1])
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent


def envbool(name: str, default: str) -> bool:
    v = os.getenv(name, default=default)
    if v not in ("", "True", "False", "true", "false", "1", "0"):
        raise ImproperlyConfigured(f"Unexpected value {name}={v}, use 'True' or 'False'")
    return v in ("True", "true", "1")


def envint(name: str, default: str) -> int:
    v = os.getenv(name, default=default)
    try:
        return int(v)
    except ValueError as exc:
        raise ImproperlyConfigured(f"Unexpected value {name}={v}, expected an integer") from exc


def envsecret(name: str) -> str | None:
    """Reads NAME, or the file named by NAME_FILE (for container secrets)."""
    path = os.getenv(name + "_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return os.getenv(name) or None


HOME = Path(os.getenv("ONEWINDOW_HOME", "") or Path.cwd() / "var").resolve()
HOME.mkdir(parents=True, exist_ok=True)

DEMO = envbool("ONEWINDOW_DEMO", "False")
DEBUG = envbool("DEBUG", "False")
# Under pytest the suite needs no SECRET_KEY and uses a fast password hasher.
TESTING = envbool("ONEWINDOW_TESTING", "False") or "pytest" in sys.modules
# Once every app is ready, what the process holds for its lifetime leaves the cyclic garbage
# collector's view (onewindow/startup/apps.py). False: Python's default.
GC_FREEZE_AT_STARTUP = envbool("GC_FREEZE_AT_STARTUP", "True")


def _secret_key() -> str:
    key = envsecret("SECRET_KEY")
    if key:
        return key
    path = HOME / "secret_key"
    if DEMO or DEBUG or TESTING or path.exists():
        # Demo mode generates a key once and keeps it (mode 0600) in $ONEWINDOW_HOME, so sessions
        # survive restarts and a later `onewindow serve` of the same home finds it.
        if not path.exists():
            path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE), or run `onewindow demo`."
    )


SECRET_KEY = _secret_key()
# A separate key for encrypting private signing keys at rest (licences); defaults to SECRET_KEY.
ONEWINDOW_KEY_ENCRYPTION_KEY = envsecret("ONEWINDOW_KEY_ENCRYPTION_KEY") or SECRET_KEY

ALLOWED_HOSTS = [h.strip() for h in os.getenv("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.getenv("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "onewindow.core",
    "onewindow.org",
    "onewindow.audit",
    "onewindow.catalog",
    "onewindow.registry",
    "onewindow.workcal",
    "onewindow.cases",
    "onewindow.exchange",
    "onewindow.licences",
    "onewindow.startup",  # last: runs once every other app is ready
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "onewindow.core.middleware.RejectNulMiddleware",
    "onewindow.core.middleware.ApiErrorShapeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "onewindow.urls"
WSGI_APPLICATION = "onewindow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "onewindow.core.context_processors.onewindow",
            ],
        },
    },
]

# The embedded database's connection options (also what tests of a file database use).
SQLITE_OPTIONS: dict[str, Any] = {
    # Writers wait for each other instead of failing with "database is locked", and
    # IMMEDIATE transactions take the write lock up front so that a read-then-write
    # inside one transaction cannot deadlock against another writer.
    "timeout": 20,
    # Values come back as SQLite stores them (text, integers) and Django's own
    # converters make times, dates and flags of them: with Django's default the
    # sqlite3 module also looks up a converter for every column's declared type on
    # every execution and parses the times a second time (~25 % of a bundle's time).
    "detect_types": 0,
    # WAL checkpoints in a thread every half second, not inside the commit that
    # fills the log (see onewindow/core/sqlite/base.py).
    "checkpoint_interval": 0.5,
    "transaction_mode": "IMMEDIATE",
    # 2 KiB pages (SQLite's default is 4 KiB): a transition changes a few small rows
    # and index entries on many pages, and each changed page is written whole to
    # the write-ahead log at commit and again at the checkpoint, so smaller pages
    # halve those writes (a 企业开办 bundle: 3.0 → 1.2 MB written, ~7 % faster).
    # A page size applies to a new database file only: see README, "SQLite".
    "init_command": (
        "PRAGMA page_size=2048; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
    ),
}

_sqlite_path = HOME / "onewindow.sqlite3"
DATABASE_URL = os.getenv("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", "60"))}
    if envbool("DB_SERVER_SIDE_BINDING", "True"):
        # PostgreSQL prepared statements (psycopg server-side binding): a transition's statements
        # are planned once per connection (~1.6x the lifecycles per second in
        # benchmarks/intake.py). Behind PgBouncer in transaction mode it needs
        # max_prepared_statements (PgBouncer >= 1.21); else set DB_SERVER_SIDE_BINDING=False.
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": 2}
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "onewindow.core.sqlite",  # Django's, converting each statement once
            "NAME": _sqlite_path,
            "OPTIONS": dict(SQLITE_OPTIONS),
            "TEST": {"NAME": os.getenv("ONEWINDOW_TEST_SQLITE", "") or None},
        }
    }

# The cache holds rate-limit counters (core.ratelimit), so it must be shared by every worker
# process: Redis when REDIS_URL is set (atomic counts), else files under $ONEWINDOW_HOME (one
# machine; a count may be lost under a race, which a coarse limit tolerates).
REDIS_URL = os.getenv("REDIS_URL", "")
if TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": HOME / "cache",
            # Enough room that culling never forgets a limited client within its window.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
# Requests per client IP to the public verification page and API.
ONEWINDOW_PUBLIC_RATE = os.getenv("ONEWINDOW_PUBLIC_RATE", "120/m")
RATELIMIT_IP_META_KEY = os.getenv("RATELIMIT_IP_META_KEY", "") or None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work (DESIGN §3): django-tasks with the database backend; `onewindow worker` runs the
# queue and the periodic sweeps. Tests that need a task run inline override this with
# django_tasks.backends.immediate.ImmediateBackend.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing folder before collectstatic
MEDIA_URL = "media/"
MEDIA_ROOT = HOME / "media"
STORAGES = {
    # Django's FileSystemStorage, writing a new upload in fewer system calls.
    "default": {"BACKEND": "onewindow.core.storage.UploadStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING or DEMO)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "False")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "False")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0")
# Only when every subdomain is served over HTTPS, and when the domain goes on the preload list.
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "False")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "False")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
}

# Uploaded materials: the largest file accepted (bytes).
ONEWINDOW_UPLOAD_MAX_BYTES = envint("ONEWINDOW_UPLOAD_MAX_BYTES", str(10 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# Catalogue import limit: rows above this are refused to keep imports bounded in memory.
ONEWINDOW_IMPORT_MAX_ROWS = envint("ONEWINDOW_IMPORT_MAX_ROWS", "200000")
