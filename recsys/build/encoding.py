"""Step 2 of a build: encode one slice of the plan into ``batches/<n>.npy`` (skipped if present,
so a retried or duplicated delivery does nothing twice); each finished batch is a heartbeat."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from django.db.models import F
from django.db.models.functions import Least
from django.utils import timezone

from recsys.artefacts import files, store
from recsys.build.planning import PLAN, batch_paths, read_plan
from recsys.build.runs import keep_alive, log_line, open_row
from recsys.engines.base import PaintingInput
from recsys.engines.registry import get_engine
from recsys.models import Artefact


def encode_batch(artefact_id: int, batch_no: int) -> int | None:
    """Encode batch ``batch_no`` of the plan; returns how many paintings it covered (0 if it was
    already done, None if the run is gone or no longer running)."""
    row = open_row(artefact_id, Artefact.Status.RUNNING)
    if row is None:
        return None
    staging = files.staging_dir(row.engine, row.version)
    if store.exists(batch_paths(staging, batch_no)[1]):
        return 0
    with keep_alive(artefact_id):
        return _encode_batch(row, staging, batch_no)


def _encode_batch(row: Artefact, staging: Path, batch_no: int) -> int | None:
    artefact_id = row.pk
    vectors_path, meta_path = batch_paths(staging, batch_no)
    plan = read_plan(staging)
    if not 0 <= batch_no < plan["n_batches"]:
        raise ValueError(f"Batch {batch_no} is outside the plan (0..{plan['n_batches'] - 1}).")
    size = plan["batch_size"]
    items = [
        PaintingInput(**plan["items"][str(pk)])
        for pk in plan["encode"][batch_no * size : (batch_no + 1) * size]
    ]
    wanted = {item.pk for item in items}
    engine = get_engine(row.engine)
    store.pull_tree(staging / files.STATE_DIR)  # the fitted state, if this machine lacks it

    tick = time.perf_counter()
    batch = engine.encode(items, staging / files.STATE_DIR)
    seconds = time.perf_counter() - tick
    vectors = np.asarray(batch.vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(batch.pks):
        raise ValueError(
            f"Engine {row.engine!r} returned {vectors.shape} vectors for {len(batch.pks)} paintings."
        )
    unknown = set(batch.pks) - wanted
    if unknown:
        raise ValueError(f"Engine {row.engine!r} returned paintings it was not given: {sorted(unknown)[:5]}.")
    skipped = {pk: batch.skipped.get(pk, "not returned by the engine") for pk in wanted - set(batch.pks)}

    if not store.exists(staging / PLAN):  # the run was failed or cancelled meanwhile
        return None
    store.save_array(vectors_path, vectors)
    store.save_json(
        meta_path,  # written last: its presence marks the batch done
        {
            "pks": list(batch.pks),
            "skipped": {str(pk): r for pk, r in skipped.items()},
            "notes": {str(pk): n for pk, n in batch.notes.items()},
            "seconds": seconds,
        },
    )
    Artefact.objects.filter(pk=artefact_id).update(
        processed=Least(F("processed") + len(items), F("total")), heartbeat_at=timezone.now()
    )
    log_line(
        artefact_id,
        f"batch {batch_no + 1}/{plan['n_batches']}: {len(batch.pks)} encoded, {len(skipped)} skipped "
        f"({seconds:.1f} s)",
    )
    return len(items)
