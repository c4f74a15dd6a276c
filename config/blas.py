"""BLAS threads of a web process, set before numpy is imported (``config.wsgi``, ``config.asgi``).

A request's maths is one small matrix-vector product (eq. 1 over the active artefact: 11,577 x
384 floats on the sample), which one core does in a fraction of a millisecond. OpenBLAS's
default, one thread per core in every process, makes that product wait for every thread to be
scheduled: with several gunicorn workers on a few cores (or any other load) it took 28 ms at the
median instead of 0.17 ms on the 2-core machine under load (``bench/rest.py``, bench/README.md).
So a web process uses ``WEB_BLAS_THREADS`` (default 1) threads; workers that build artefacts
(Celery, ``manage.py``) keep the library defaults. An explicit ``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` in the environment wins.
"""

import os

VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit_web_blas_threads() -> None:
    threads = os.environ.get("WEB_BLAS_THREADS", "1").strip() or "1"
    if not threads.isdigit() or int(threads) < 1:
        raise SystemExit(f"WEB_BLAS_THREADS={threads!r} is not a positive whole number.")
    for name in VARIABLES:
        os.environ.setdefault(name, threads)
