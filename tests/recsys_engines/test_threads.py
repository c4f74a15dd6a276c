"""torch threads fit the machine: cores shared by the worker's processes (issue 21, item 3)."""

from __future__ import annotations

import os

from recsys.engines.torch_runtime import WORKER_PROCESSES_ENV, torch_threads


def test_the_setting_wins(settings, monkeypatch):
    settings.RECSYS_TORCH_THREADS = 3
    monkeypatch.setenv(WORKER_PROCESSES_ENV, "8")
    assert torch_threads() == 3


def test_cores_are_shared_among_the_worker_processes(settings, monkeypatch):
    settings.RECSYS_TORCH_THREADS = 0
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setenv(WORKER_PROCESSES_ENV, "2")
    assert torch_threads() == 4
    monkeypatch.setenv(WORKER_PROCESSES_ENV, "16")
    assert torch_threads() == 1  # never 0
    monkeypatch.delenv(WORKER_PROCESSES_ENV)
    assert torch_threads() == 8  # outside a worker: every core


def test_the_worker_tells_its_pool_its_size(monkeypatch):
    from config.celery import share_pool_size

    monkeypatch.delenv(WORKER_PROCESSES_ENV, raising=False)
    share_pool_size(sender=type("Worker", (), {"concurrency": 2})())
    assert os.environ[WORKER_PROCESSES_ENV] == "2"
    monkeypatch.delenv(WORKER_PROCESSES_ENV)
