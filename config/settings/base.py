"""Settings shared by every environment. Everything configurable is read from the environment.

With no environment at all the project runs on the embedded default: SQLite under ``var/``, a
Celery broker and result store on files under ``var/celery/`` (``make run`` starts the worker),
a file cache, media and artefacts under ``var/``. ``DATABASE_URL`` and ``REDIS_URL`` switch to
PostgreSQL and Redis; no code path differs beyond that. The recommender's own settings live in
``config/settings/recommender.py``.
Every setting is documented in README.md ("Settings").
"""

import json

import dj_database_url

from config.settings.env import env_bool, env_float, env_int, env_list, env_path, env_str
from config.settings.paths import BASE_DIR, VAR_DIR

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-dev-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # before django.contrib.admin: their registration/*.html (sign in, password reset) replace the
    # admin-styled ones Django ships, and base.html is the site's own
    "users",
    "web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI / Redoc assets served locally (no CDN)
    "catalog",
    "recsys",
    "experiments",
    "clients",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.RateLimitHeadersMiddleware",  # RateLimit-* of the API's throttles
    "config.middleware.ApiJsonErrorsMiddleware",  # sees every error under /api/
    "config.middleware.DatabaseOutageMiddleware",  # a database outage: 503 + Retry-After, logged once
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],  # every template lives in its app (web/templates/, users/templates/, ...)
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# A database outage answers 503 with this Retry-After (config/db_outage.py).
DATABASE_OUTAGE_RETRY_AFTER_S = env_int("DATABASE_OUTAGE_RETRY_AFTER_S", 10)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # an unreachable server fails a request within seconds instead of hanging it
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DATABASE_CONNECT_TIMEOUT", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL + a busy timeout so the web process and an in-process task can share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# `manage.py ensure_demo_admin` (run by `make run`) creates or resets this superuser for the local
# demo and prints the credentials; prod settings switch it off (DEMO_ADMIN_ALLOWED = False).
DEMO_ADMIN_ALLOWED = True
DEMO_ADMIN_USERNAME = env_str("DEMO_ADMIN_USERNAME", "admin")
DEMO_ADMIN_PASSWORD = env_str("DEMO_ADMIN_PASSWORD", "paintings-demo")
# Create it even when the server listens on a non-loopback address (make run HOST=0.0.0.0).
DEMO_ADMIN_ON_PUBLIC_HOST = env_bool("DEMO_ADMIN_ON_PUBLIC_HOST", False)
# Every password check goes through the login lockout (users/lockout.py), counted per window of
# LOGIN_FAILURE_WINDOW_S: LOGIN_FAILURES_PER_ACCOUNT_CLIENT failures lock that client out of that
# account; past LOGIN_FAILURES_PER_ACCOUNT failures an account refuses the clients it has not
# signed in from in LOGIN_KNOWN_CLIENT_DAYS (never its usual ones); past LOGIN_FAILURES_PER_CLIENT
# failures (plus LOGIN_FAILURES_PER_SUCCESS per success from it) a client may sign in only to the
# accounts that know it.
AUTHENTICATION_BACKENDS = ["users.authentication.LockoutModelBackend"]
LOGIN_FAILURES_PER_ACCOUNT_CLIENT = env_int("LOGIN_FAILURES_PER_ACCOUNT_CLIENT", 10)
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 20)
LOGIN_FAILURES_PER_CLIENT = env_int("LOGIN_FAILURES_PER_CLIENT", 30)
LOGIN_FAILURES_PER_SUCCESS = env_int("LOGIN_FAILURES_PER_SUCCESS", 3)
LOGIN_FAILURE_WINDOW_S = env_int("LOGIN_FAILURE_WINDOW_S", 15 * 60)
LOGIN_KNOWN_CLIENT_DAYS = env_int("LOGIN_KNOWN_CLIENT_DAYS", 30)
# Trusted reverse proxies in front of the app: the client address is the X-Forwarded-For entry
# written by the outermost of them. 0 (default): X-Forwarded-For is ignored, REMOTE_ADDR counts.
NUM_PROXIES = env_int("NUM_PROXIES", 0)
# Rate limits of non-API views (config.ratelimit.rate_limited), per client address; the password
# reset mail is also limited per recipient (users.forms.PasswordResetForm).
RATE_LIMITS = {
    "signup": env_str("SIGNUP_RATE_LIMIT", "5/hour"),
    "password_reset": env_str("PASSWORD_RESET_RATE_LIMIT", "10/hour"),  # reset requests per address
    "password_reset_mail": env_str("PASSWORD_RESET_MAIL_RATE_LIMIT", "3/hour"),  # mails per recipient
    "web_search": env_str("WEB_SEARCH_RATE_LIMIT", "60/min"),  # /search/ (encodes the words)
    "web_image_search": env_str("WEB_IMAGE_SEARCH_RATE_LIMIT", "10/min"),  # /search/image/ uploads
    "web_recommendations": env_str("WEB_RECOMMENDATIONS_RATE_LIMIT", "60/min"),  # /recommendations/
}
# After a cache error, rate limits fail open without asking the cache for this many seconds.
RATELIMIT_FAILURE_BACKOFF_S = env_float("RATELIMIT_FAILURE_BACKOFF_S", 5.0)
# API tokens (POST /api/v1/auth/token/) expire after this many seconds (0: never).
TOKEN_TTL = env_int("TOKEN_TTL", 30 * 24 * 3600)
# Content-Security-Policy of every response (config.middleware); the API docs page (Swagger UI
# with its inline start-up script) gets CSP_DOCS instead.
CSP = env_str(
    "CSP",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
CSP_DOCS = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "static")
MEDIA_URL = env_str("MEDIA_URL", "/media/")
MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media")
# Let Django serve MEDIA_URL itself (dev default; a small deployment without a media proxy).
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)
# Artefacts (recsys.artefacts.store): by default a FileSystemStorage on RECSYS_ARTEFACT_ROOT, a
# folder every worker and web machine mounts. RECSYS_ARTEFACT_STORAGE (a JSON object with BACKEND
# and OPTIONS, e.g. django-storages' S3Storage) replaces it; a storage without local paths makes
# each machine copy what it needs into RECSYS_ARTEFACT_CACHE (README: "Several machines").
ARTEFACT_STORAGE_DEFAULT = {"BACKEND": "recsys.artefacts.files.ArtefactRootStorage"}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    "artefacts": json.loads(env_str("RECSYS_ARTEFACT_STORAGE", "null")) or ARTEFACT_STORAGE_DEFAULT,
}

# Request size limits: an oversized body is answered with 413 by the API error handler.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)

# --- Email --------------------------------------------------------------------------------
# Password reset mails. The embedded default prints them on the console (no EMAIL_* variable
# set); with EMAIL_HOST set they go out over SMTP unless EMAIL_BACKEND says otherwise.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # implicit TLS (port 465)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)  # STARTTLS (port 587)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "webmaster@localhost")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# --- Cache -------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
# Short socket timeouts: a down or frozen Redis costs at most this much, and its users (throttles,
# the refresh debounce) fail open with a logged warning instead of failing the request.
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 0.5)
REDIS_SOCKET_CONNECT_TIMEOUT = env_float("REDIS_SOCKET_CONNECT_TIMEOUT", 0.25)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("REDIS_CACHE_URL", REDIS_URL),
            "OPTIONS": {
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT,
            },
        }
    }
else:
    # The embedded default: files under var/cache/, shared by the web process and the background
    # worker (the recommender statuses' version key must reach both; locmem is per process).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(env_path("CACHE_DIR", VAR_DIR / "cache")),
        }
    }

# --- Celery --------------------------------------------------------------------------------
# Without REDIS_URL (the embedded default) the broker is kombu's filesystem transport and results
# are files, both under CELERY_DIR (var/celery/): `make run` starts a worker process beside the
# web server, so engine refreshes never run inside a request. CELERY_TASK_ALWAYS_EAGER=1 runs
# tasks in the caller instead (no worker; the old embedded behaviour).
CELERY_DIR = env_path("CELERY_DIR", VAR_DIR / "celery")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL or f"file://{CELERY_DIR / 'results'}")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXTENDED = True
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 6 * 3600)
# With acks_late, Redis hands an unacknowledged task to another worker after the visibility
# timeout (default 1 h): keep it above the longest task (an LDA fit) so none runs twice at once.
# Short socket timeouts and one quick publish retry: with the broker down, queueing fails within
# about a second (the caller records what was not queued, e.g. recsys.RefreshRequest).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 3600,
    "socket_timeout": env_float("CELERY_BROKER_SOCKET_TIMEOUT", 2.0),
    "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT,
}
# The filesystem transport's folders (other transports ignore these options).
CELERY_BROKER_TRANSPORT_OPTIONS |= {
    "data_folder_in": str(CELERY_DIR / "queue"),
    "data_folder_out": str(CELERY_DIR / "queue"),
    "control_folder": str(CELERY_DIR / "control"),
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("queue", "control", "results"):
        (CELERY_DIR / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_SOCKET_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = env_float("CELERY_BROKER_SOCKET_TIMEOUT", 2.0)
# Periodic tasks (`celery -A config beat`, the `beat` service of docker-compose.yml).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- REST framework ------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header turns "not signed in" into 401 rather than 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.ApiTokenAuthentication",
        "clients.authentication.ApiKeyAuthentication",  # museum apps: `Authorization: Api-Key <key>`
        # any other Authorization header (Basic, ApiKey, a bare key) is a 401, never anonymous
        "config.api.authentication.UnsupportedCredentialsAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.api.parsers.SizeLimitedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "config.api.pagination.Pagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 24),
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "config.api.throttles.AnonRateThrottle",
        "config.api.throttles.UserRateThrottle",
        "config.api.throttles.ApiKeyRateThrottle",  # per museum-app key, at the key's own rate
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "120/min"),
        "user": env_str("API_THROTTLE_USER", "600/min"),
        # POST /api/v1/recommendations/ (no account), per client address
        "recommend_anon": env_str("API_THROTTLE_RECOMMEND_ANON", "60/min"),
        # POST /api/v1/auth/token/ (each one hashes a password), per client address
        "auth": env_str("API_THROTTLE_AUTH", "20/min"),
        # POST /api/v1/search/image/ (each one runs an image model), per client address
        "search_image": env_str("API_THROTTLE_SEARCH_IMAGE", "30/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Painting recommender API",
    "DESCRIPTION": "Recommend paintings from a handful of 1-5 ratings (Yilma & Leiva, UMAP 2023).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Catalogue -----------------------------------------------------------------------------
# Where `import_catalog --sample` and `make run` look for the bundled sample data.
CATALOG_SAMPLE_DIR = env_path("CATALOG_SAMPLE_DIR", BASE_DIR.parent / "shared" / "data")
CATALOG_IMAGE_MAX_BYTES = env_int("CATALOG_IMAGE_MAX_BYTES", 20 * 1024 * 1024)
CATALOG_IMAGE_MAX_SIDE = env_int("CATALOG_IMAGE_MAX_SIDE", 1024)
# Images with more pixels are refused from their header, before decoding (up to 4 bytes a pixel).
CATALOG_IMAGE_MAX_PIXELS = env_int("CATALOG_IMAGE_MAX_PIXELS", 50_000_000)
CATALOG_FETCH_REMOTE_IMAGES = env_bool("CATALOG_FETCH_REMOTE_IMAGES", False)
CATALOG_FETCH_TIMEOUT = env_float("CATALOG_FETCH_TIMEOUT", 10.0)
# Longest side of the JPEG thumbnails the API creates on first use under MEDIA_ROOT/thumbnails/.
CATALOG_THUMBNAIL_SIDE = env_int("CATALOG_THUMBNAIL_SIDE", 320)

# --- Recommender: config/settings/recommender.py ------------------------------------------
from config.settings.recommender import *  # noqa: E402, F403

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # gensim logs every LDA pass at INFO; its progress is reported by the precompute job instead.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "gensim": {"level": "WARNING"}},
}
