"""fangkong settings: one module, every deployment choice read from the environment.

FANGKONG_DATABASE_URL   database (default: SQLite file var/fangkong.sqlite3)
FANGKONG_SECRET_KEY     signing key (default: generated once into var/secret_key)
FANGKONG_DEBUG          "1" for development pages and errors (default off)
FANGKONG_ALLOWED_HOSTS  comma-separated host names (default: localhost names)
FANGKONG_VAR_DIR        where the SQLite file, secret key and uploads live (default: ./var)
FANGKONG_HTTPS          "1" behind TLS: secure cookies, HSTS and HTTPS redirect
FANGKONG_SMS_SENDER     dotted path of the one-time-code sender (default: server log)
FANGKONG_PERSONAL_CODE_DAYS  days a printed personal code stays valid (default 90)
FANGKONG_TASKS_EAGER    "1" runs background tasks at once where they are queued, without a worker (default off)
"""

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("FANGKONG_VAR_DIR", Path.cwd() / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """Use FANGKONG_SECRET_KEY, else a key generated on first run and kept under var/."""
    if os.environ.get("FANGKONG_SECRET_KEY"):
        return os.environ["FANGKONG_SECRET_KEY"]
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_flag("FANGKONG_DEBUG")
_ALLOWED_HOSTS = os.environ.get("FANGKONG_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
ALLOWED_HOSTS = [host.strip() for host in _ALLOWED_HOSTS.split(",") if host.strip()]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "fangkong.core",
    "fangkong.accounts",
    "fangkong.places",
    "fangkong.people",
    "fangkong.screening",
    "fangkong.health",
    "fangkong.zones",
    "fangkong.volunteers",
    "fangkong.testing",
    "fangkong.access",
    "fangkong.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "fangkong.core.middleware.ConsoleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "fangkong.urls"
WSGI_APPLICATION = "fangkong.wsgi.application"

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
                "fangkong.web.context.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("FANGKONG_DATABASE_URL", f"sqlite:///{VAR_DIR / 'fangkong.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Prepared on first use: only core.rawsql's few hot statements, whose cursors bind server-side.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction begins, so two concurrent
    # imports serialise instead of failing on a stale snapshot.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"
FANGKONG_PERSONAL_CODE_DAYS = int(os.environ.get("FANGKONG_PERSONAL_CODE_DAYS", "90"))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
LEDGER_MAX_BYTES = 20 * 1024 * 1024
# Background work (fangkong.core.tasks): queued in the database and run by `fangkong worker`;
# FANGKONG_TASKS_EAGER runs each task at once in the process that queues it (tests, one-off scripts).
TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]},
    "immediate": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]},
}
FANGKONG_TASKS_EAGER = _env_flag("FANGKONG_TASKS_EAGER")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if _env_flag("FANGKONG_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# The layers below name no app above them (docs/architecture.md); settings, at the top, wire them.
# Whose function works out an account's scope for core.scope:
SCOPE_OF_ACCOUNT = "fangkong.accounts.scope.account_scope"
# Who follows a lower app's write, in order, inside its transaction (core.followers):
FOLLOWERS = {
    # Nobody in a sealed unit is forgotten: the daily checks inside zones follow the registry.
    "people.households_changed": ["fangkong.zones.services.care_tasks_follow_people"],
    "people.community_imported": ["fangkong.zones.services.care_tasks_follow_community"],
    # Accepting a zone with 24-hour guard opens its post; lifting it closes the post.
    "zones.status_changed": ["fangkong.volunteers.services.posts_follow_zone"],
}

FANGKONG_SMS_SENDER = os.environ.get("FANGKONG_SMS_SENDER", "fangkong.accounts.sms.LogSender")
LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
FULL_ID_SEARCH_LIMIT = 20
FULL_ID_SEARCH_WINDOW_SECONDS = 3600
ONE_TIME_CODE_TTL_SECONDS = 300

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"fangkong": {"handlers": ["console"], "level": "INFO"},
                # A server error's traceback, in production too (Django prints it only with DEBUG on).
                "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False}},
}
