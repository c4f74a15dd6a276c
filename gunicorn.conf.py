"""gunicorn's configuration file, read from the working directory (the repository root here and
in the image): gunicorn's own error answers (414, 431, 400) carry the API's JSON error body
(``config/gunicorn_errors.py``). Command-line options still apply on top of this file."""

from config.gunicorn_errors import install

install()
