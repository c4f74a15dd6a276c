# Image for the web (gunicorn), worker (celery) and flower services of docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.prod \
    VAR_DIR=/app/var \
    HF_HOME=/app/var/hf-cache

WORKDIR /app

# torch from the CPU wheel index first: PyPI's default Linux wheel is the multi-GB CUDA build.
# requirements/base.txt pins torch==2.13.0, which the CPU build (2.13.0+cpu) satisfies.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
COPY requirements/ requirements/
RUN pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0 \
    && pip install -r requirements/prod.txt

COPY . .

# Static files are collected at build time (whitenoise serves them); settings need a key and a
# host to load, neither of which is used by collectstatic nor kept in the image.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
    && useradd --create-home --uid 1000 app \
    && mkdir -p /app/var/media /app/var/artefacts /app/var/hf-cache \
    && chown -R app:app /app/var

USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
