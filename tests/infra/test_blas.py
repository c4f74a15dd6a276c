"""Web processes use one BLAS thread unless told otherwise (config/blas.py, issue 21)."""

from __future__ import annotations

import pytest

from config.blas import VARIABLES, limit_web_blas_threads


@pytest.fixture
def clean_env(monkeypatch):
    for name in (*VARIABLES, "WEB_BLAS_THREADS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_one_thread_by_default(clean_env):
    limit_web_blas_threads()

    import os

    assert {name: os.environ[name] for name in VARIABLES} == dict.fromkeys(VARIABLES, "1")


def test_web_blas_threads_sets_them_and_an_explicit_variable_wins(clean_env):
    clean_env.setenv("WEB_BLAS_THREADS", "2")
    clean_env.setenv("OMP_NUM_THREADS", "4")

    limit_web_blas_threads()

    import os

    assert (os.environ["OPENBLAS_NUM_THREADS"], os.environ["MKL_NUM_THREADS"]) == ("2", "2")
    assert os.environ["OMP_NUM_THREADS"] == "4"


def test_a_bad_value_stops_the_process_naming_the_variable(clean_env):
    clean_env.setenv("WEB_BLAS_THREADS", "many")

    with pytest.raises(SystemExit, match="WEB_BLAS_THREADS='many'"):
        limit_web_blas_threads()
