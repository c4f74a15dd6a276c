"""WSGI entry point (gunicorn config.wsgi)."""

import os

from config.blas import limit_web_blas_threads

limit_web_blas_threads()  # before numpy is imported: one BLAS thread per web process (config/blas.py)

from django.core.wsgi import get_wsgi_application  # noqa: E402

# Production unless told otherwise: manage.py and `make run`/`make worker` choose the dev settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

application = get_wsgi_application()
