"""Production: secrets and hosts must come from the environment (no defaults), HTTPS enforced.

``python manage.py check --deploy`` with these settings is clean apart from the warnings that
README.md ("check --deploy") explains.
"""

from django.core.exceptions import ImproperlyConfigured

from config.settings import secret_key as _secret_key
from config.settings.base import *  # noqa: F403
from config.settings.env import env_bool, env_int, env_list, env_str

DEBUG = False
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
_weakness = _secret_key.secret_key_problem(SECRET_KEY)
if _weakness is not None:
    raise ImproperlyConfigured(
        f"DJANGO_SECRET_KEY is a placeholder or too weak ({_weakness}): set it to a random string "
        f"of at least {_secret_key.MIN_LENGTH} characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    # Without an allowed host every request would be answered 400; fail at start instead.
    raise ImproperlyConfigured("Set the environment variable DJANGO_ALLOWED_HOSTS (comma-separated).")
DEMO_ADMIN_ALLOWED = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
