"""Step 4 of a build (the last): assemble the rows (``recsys.build.assembling``), run the engine's
postprocess hook, build the ANN index above ``RECSYS_ANN_MIN_ITEMS`` paintings
(``recsys.algorithms.ann``), write the manifest, delete the scratch, publish the folder with one
rename and activate it in one transaction, then prune old versions.

Resumable at every point a process can die: the manifest is written last of the artefact files
and *before* the scratch is deleted, so a retry finds the scratch to build from, or a built
staging folder (manifest present) to publish, or a published folder to activate.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recsys.artefacts import files, store
from recsys.build import progress
from recsys.build.assembling import assemble
from recsys.build.pairing import read_pair_scores
from recsys.build.planning import SCRATCH, read_plan
from recsys.build.runs import jsonable, keep_alive, log_line
from recsys.engines.base import PaintingInput
from recsys.engines.registry import get_engine
from recsys.models import Artefact
from recsys.serving import status_cache

MANIFEST_SKIPPED_IN_ROW = 100  # the row keeps the first skipped items; the file keeps all


def finalize(artefact_id: int) -> Artefact | None:
    """Write, publish and activate the artefact; returns the ready row (None: nothing to do).

    Resumable at every point a process can die: the manifest is written last of the artefact
    files and before the scratch (plan, batches) is deleted, so a retry finds either the scratch
    to build from, or a built staging folder (manifest present) to publish, or a published
    folder to activate; a finished run is never lost."""
    row = Artefact.objects.filter(pk=artefact_id).first()
    if row is None or row.status == Artefact.Status.READY:
        return row
    if row.status != Artefact.Status.RUNNING:
        return None
    with keep_alive(artefact_id):
        return _finalize(row)


def built(row: Artefact) -> bool:
    """Whether the run's artefact is complete (built in local staging, or published)."""
    staging = files.staging_dir(row.engine, row.version)
    final = files.final_dir(row.engine, row.version)
    return (staging / files.MANIFEST).exists() or store.published(final)


def _finalize(row: Artefact) -> Artefact | None:
    artefact_id = row.pk
    progress.begin_step(artefact_id, progress.FINALIZE)
    staging = files.staging_dir(row.engine, row.version)
    final = files.final_dir(row.engine, row.version)
    if not store.published(final):  # else: published by an attempt that died before activating it
        if not (staging / files.MANIFEST).exists():  # else: built by an attempt that died after
            store.pull_tree(staging / files.STATE_DIR)  # the fitted state, if this machine lacks it
            _build(row, staging)
        drop_scratch(staging)
        store.publish(staging, final)
    manifest = store.load_json(final / files.MANIFEST)
    row = _activate(artefact_id, manifest)
    if row is not None and row.is_active:
        log_line(artefact_id, f"active: {manifest['counts']['items']} paintings")
        prune(engine=row.engine)
    return row


def _build(row: Artefact, staging: Path) -> None:
    engine = get_engine(row.engine)
    plan = read_plan(staging)
    facts = assemble(row, staging)
    order, timings, notes = facts["order"], dict(facts["timings"]), facts["notes"]
    skipped = {int(pk): reason for pk, reason in facts["skipped"].items()}
    external = plan["external_ids"]
    m = len(order)
    tick = time.perf_counter()
    items = [PaintingInput(**plan["items"][str(pk)]) for pk in order]
    embeddings = np.load(staging / files.EMBEDDINGS, mmap_mode="r") if m else None
    pairs = read_pair_scores(staging, m) if m and engine.scores_pairs else None
    extra = engine.postprocess(items=items, embeddings=embeddings, out_dir=staging, pairs=pairs) if m else {}
    timings["postprocess_s"] = time.perf_counter() - tick
    ann_index = _ann_index(embeddings, staging)
    scan_codes = _scan_codes(embeddings, staging) if m and not facts["dense"] else None

    manifest = {
        "engine": row.engine,
        "version": row.version,
        "kind": engine.kind,
        "model_id": row.model_id,
        "params": row.params,
        "catalogue_hash": plan["catalogue_hash"],
        "created": timezone.now().isoformat(),
        "mode": plan["mode"],
        "previous_version": plan["previous_version"],
        "counts": {
            "catalogue": plan["catalogue_size"],
            "items": m,
            "skipped": len(skipped),
            "encoded": len(plan["encode"]),
            "reused": len(plan["reused_pks"]),
        },
        "dim": facts["dim"],
        "dtype": "float32",
        "neighbour_structure": "dense" if facts["dense"] else "top_k",
        "neighbours_k": facts["neighbours_k"],
        "skipped": [
            {"pk": pk, "external_id": external[str(pk)], "reason": reason}
            for pk, reason in sorted(skipped.items())
        ],
        "notes": notes,
        "fit": plan["fit"],
        "postprocess": jsonable(extra),
        "ann_index": ann_index,
        "scan_codes": scan_codes,
        "timings": timings,
    }
    files.save_local_json(staging / files.MANIFEST, manifest)  # written last: its presence means "built"


def _ann_index(embeddings: np.ndarray, staging: Path) -> dict[str, Any] | None:
    """Above ``RECSYS_ANN_MIN_ITEMS`` rows, build the approximate index into the artefact (written
    like its other files, published with them); the manifest's facts about it, else None."""
    if embeddings.shape[0] <= settings.RECSYS_ANN_MIN_ITEMS:
        return None
    from recsys.algorithms import ann  # faiss only where an index is built

    return ann.build_into(embeddings, staging)


def _scan_codes(embeddings: np.ndarray, staging: Path) -> dict[str, Any] | None:
    """The 8-bit codes demote's bound scans (``recsys.algorithms.scan_codes``), written like
    the artefact's other files; the manifest's facts about them, else None (small embeddings)."""
    from recsys.algorithms import scan_codes  # faiss only where codes are written

    return scan_codes.build_into(embeddings, staging)


def drop_scratch(staging: Path) -> None:
    """Delete the run's scratch (plan, reused rows, batches) from a built staging folder."""
    for name in SCRATCH:
        path = staging / name
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


def _activate(artefact_id: int, manifest: dict[str, Any]) -> Artefact | None:
    """Make the run the engine's active artefact, replacing the previous one, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        row = Artefact.objects.select_for_update().filter(pk=artefact_id).first()
        if row is None or row.status != Artefact.Status.RUNNING:
            return row
        Artefact.objects.filter(engine=row.engine, is_active=True).update(is_active=False)
        row_manifest = {**manifest, "skipped": manifest["skipped"][:MANIFEST_SKIPPED_IN_ROW]}
        row.status = Artefact.Status.READY
        row.is_active = True
        row.manifest = row_manifest
        row.catalogue_hash = manifest["catalogue_hash"]
        row.n_items = manifest["counts"]["items"]
        row.n_skipped = manifest["counts"]["skipped"]
        row.processed = row.total
        row.finished_at = now
        row.activated_at = now
        row.save()
        transaction.on_commit(status_cache.invalidate)  # every process reads the new state at once
    return row


def prune(*, engine: str) -> list[str]:
    """Delete the files of ready versions beyond ``RECSYS_ARTEFACT_KEEP`` (never the active one)
    and any folder no ready version or open run owns (staging of dead runs, a folder published
    by a run that failed before activating it); returns the pruned versions."""
    keep = max(1, settings.RECSYS_ARTEFACT_KEEP)
    ready = list(
        Artefact.objects.filter(engine=engine, status=Artefact.Status.READY).order_by("-is_active", "-id")
    )
    pruned = []
    for row in ready[keep:]:
        store.remove_tree(files.final_dir(engine, row.version))
        Artefact.objects.filter(pk=row.pk, is_active=False).update(status=Artefact.Status.PRUNED)
        log_line(row.pk, "pruned: files deleted")
        pruned.append(row.version)
    owned = {row.version for row in ready[:keep]} | set(
        Artefact.objects.filter(engine=engine, status__in=Artefact.OPEN_STATUSES).values_list(
            "version", flat=True
        )
    )
    prefix = files.staging_dir(engine, "").name
    folder = files.engine_dir(engine)
    for name in store.children(folder):
        if name.removeprefix(prefix) not in owned:
            store.remove_tree(folder / name)
    return pruned
