"""Where the transformer engines run: the torch device (``RECSYS_DEVICE``) and torch's CPU threads.

``RECSYS_TORCH_THREADS`` caps torch's CPU threads: several worker processes on few cores
otherwise oversubscribe them, and spinning threads then run several times slower. Only
``resolve_device`` imports torch (a process that only reports engine statuses never holds it).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from django.conf import settings

from config.exceptions import ModelNotAvailable

if TYPE_CHECKING:
    import torch

#: set by a Celery worker (``config.celery``) to its pool size, inherited by its pool processes
WORKER_PROCESSES_ENV = "RECSYS_WORKER_PROCESSES"


def torch_threads() -> int:
    """CPU threads for torch in this process: ``RECSYS_TORCH_THREADS`` when set, else this
    machine's usable cores shared among the worker's processes (cores // processes, at least
    1). torch's own default, one thread per core in every process, oversubscribes a worker of
    several processes: spinning threads then run several times slower."""
    if settings.RECSYS_TORCH_THREADS > 0:
        return settings.RECSYS_TORCH_THREADS
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    try:
        processes = max(1, int(os.environ.get(WORKER_PROCESSES_ENV, "1")))
    except ValueError:
        processes = 1
    return max(1, cores // processes)


def check_device(value: str) -> None:
    """``resolve_device``'s checks, without importing torch for "cpu" and "auto" (never wrong):
    a process that only asks whether engines are available (the web) stays free of torch."""
    if value.strip().lower() not in ("cpu", "auto"):
        resolve_device(value)


def resolve_device(value: str) -> torch.device:
    """``RECSYS_DEVICE``: "cpu", "cuda", "cuda:<n>" or "auto" (CUDA when available)."""
    import torch

    wanted = value.strip().lower()
    if wanted == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(wanted)
    except RuntimeError as exc:
        raise ModelNotAvailable(
            f"RECSYS_DEVICE={value!r} is not a device ('cpu', 'cuda', 'cuda:<n>' or 'auto')."
        ) from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ModelNotAvailable(
            f"RECSYS_DEVICE={value!r} but this machine has no usable CUDA device; use 'cpu' or 'auto'."
        )
    return device
