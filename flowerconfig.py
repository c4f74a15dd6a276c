"""Flower's configuration file (``celery -A config flower`` reads ``flowerconfig.py`` from the
working directory, the repository root here and in the image).

Flower without authentication shows every task's arguments and can revoke tasks and shut workers
down, so it refuses to start without ``FLOWER_BASIC_AUTH`` / ``--basic-auth`` (or OAuth, ``--auth``)
unless it listens on the loopback interface only (``--address=127.0.0.1``).
"""

from tornado.options import options

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}

if not (options.basic_auth or options.auth) and options.address not in _LOOPBACK:
    raise SystemExit(
        "Refusing to start Flower without authentication on every interface: set "
        "FLOWER_BASIC_AUTH=user:password (or --basic-auth=user:password), or listen on this machine "
        "only with --address=127.0.0.1."
    )
