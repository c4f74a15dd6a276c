"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

# Production unless told otherwise: manage.py and `make run`/`make worker` choose the dev settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

application = get_asgi_application()
