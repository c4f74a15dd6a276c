"""Step 3 of a build: assemble rows in painting-id order, L2-normalise, build the neighbour
structure, run the engine's postprocess hook, build the ANN index above
``RECSYS_ANN_MIN_ITEMS`` paintings (``recsys.ann``), write the manifest, delete the scratch, publish
the folder with one rename and activate it in one transaction, then prune old versions.

Resumable at every point a process can die: the manifest is written last of the artefact files
and *before* the scratch is deleted, so a retry finds the scratch to build from, or a built
staging folder (manifest present) to publish, or a published folder to activate.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recsys import artefact_store as store
from recsys import artefacts as files
from recsys import status_cache
from recsys.build import progress
from recsys.engines.base import PaintingInput
from recsys.engines.registry import get_engine
from recsys.models import Artefact
from recsys.pipeline.planning import (
    ASSEMBLED,
    CONTENT_HASHES,
    REUSED,
    SCRATCH,
    batch_paths,
    read_plan,
)
from recsys.runs import jsonable, keep_alive, log_line
from recsys.similarity import dense_similarity, l2_normalise, top_k_neighbours

MANIFEST_SKIPPED_IN_ROW = 100  # the row keeps the first skipped items; the file keeps all


def _assemble(
    staging: Path, plan: dict[str, Any]
) -> tuple[list[int], np.ndarray, dict[int, str], dict, float]:
    """Rows of every painting with a vector, in pk order, plus skipped reasons and note counts."""
    parts: list[tuple[list[int], np.ndarray]] = []
    if plan["reused_pks"]:
        parts.append((plan["reused_pks"], store.load_array(staging / REUSED)))
    skipped = {int(pk): r for pk, r in plan["skipped"].items()}
    notes: Counter[str] = Counter()
    encode_seconds = 0.0
    for batch_no in range(plan["n_batches"]):
        vectors_path, meta_path = batch_paths(staging, batch_no)
        if not store.exists(meta_path):
            raise RuntimeError(f"Batch {batch_no} of {plan['n_batches']} is missing; cannot finalize.")
        meta = store.load_json(meta_path)
        parts.append((meta["pks"], store.load_array(vectors_path)))
        skipped.update({int(pk): r for pk, r in meta["skipped"].items()})
        notes.update(meta["notes"].values())
        encode_seconds += meta["seconds"]
    dims = {v.shape[1] for _, v in parts if v.shape[0]}
    if len(dims) > 1:
        raise ValueError(f"Vectors of different dimensions in one artefact: {sorted(dims)}.")
    row_of = {pk: (p, r) for p, (pks, _) in enumerate(parts) for r, pk in enumerate(pks)}
    order = sorted(row_of)
    dim = dims.pop() if dims else 0
    matrix = np.zeros((len(order), dim), dtype=np.float32)
    for i, pk in enumerate(order):
        p, r = row_of[pk]
        matrix[i] = parts[p][1][r]
    return order, matrix, skipped, dict(notes), encode_seconds


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


def assemble(row: Artefact, staging: Path) -> dict[str, Any]:
    """Write the rows (ids, external ids, unit embeddings, content hashes) and the neighbour
    structure into staging; returns what the manifest needs (``ASSEMBLED``, kept as scratch).

    Idempotent: the pair-scoring step (``recsys.pipeline.pairing``) assembles before it plans
    and finalize finds the work done."""
    if (staging / ASSEMBLED).exists():
        return json.loads((staging / ASSEMBLED).read_text())
    plan = read_plan(staging)
    tick = time.perf_counter()
    timings = dict(plan["timings"])
    order, raw, skipped, notes, timings["encode_s"] = _assemble(staging, plan)
    # reused rows are unit vectors already: normalising again would change their last bits
    fresh = ~np.isin(np.asarray(order, dtype=np.int64), np.asarray(plan["reused_pks"], dtype=np.int64))
    embeddings, ok = raw, np.ones(len(order), dtype=bool)
    embeddings[fresh], ok[fresh] = l2_normalise(raw[fresh])
    for i in np.flatnonzero(~ok):
        skipped[order[i]] = "the engine returned a zero or non-finite vector"
    order = [pk for pk, good in zip(order, ok, strict=True) if good]
    if not order:
        raise ValueError(
            f"No painting could be encoded ({dict(Counter(skipped.values()))}); nothing to activate."
        )
    embeddings = np.ascontiguousarray(embeddings[ok])
    external = plan["external_ids"]
    files.save_array(staging / files.PAINTING_IDS, np.asarray(order, dtype=np.int64))
    files.save_json(staging / files.EXTERNAL_IDS, [external[str(pk)] for pk in order])
    files.save_array(staging / files.EMBEDDINGS, embeddings)
    files.save_json(staging / CONTENT_HASHES, plan["hashes"])
    timings["assemble_s"] = time.perf_counter() - tick

    tick = time.perf_counter()
    m = len(order)
    dense = m <= settings.RECSYS_DENSE_MAX_ITEMS
    similarity = dense_similarity(embeddings) if dense else None
    if similarity is not None:
        files.save_array(staging / files.SIMILARITY, similarity)
    neighbours_idx, neighbours_sim = top_k_neighbours(
        embeddings, settings.RECSYS_NEIGHBOURS_K, similarity=similarity
    )
    files.save_array(staging / files.NEIGHBOURS_IDX, neighbours_idx)
    files.save_array(staging / files.NEIGHBOURS_SIM, neighbours_sim)
    del similarity
    timings["neighbours_s"] = time.perf_counter() - tick
    facts = {
        "order": order,
        "skipped": {str(pk): reason for pk, reason in skipped.items()},
        "notes": notes,
        "timings": timings,
        "dim": int(embeddings.shape[1]) if m else 0,
        "dense": dense,
        "neighbours_k": int(neighbours_idx.shape[1]),
    }
    files.save_json(staging / ASSEMBLED, facts)  # written last: its presence means "assembled"
    return facts


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
    from recsys.pipeline.pairing import read_pair_scores  # pairing assembles through this module

    pairs = read_pair_scores(staging, m) if m and engine.scores_pairs else None
    extra = engine.postprocess(items=items, embeddings=embeddings, out_dir=staging, pairs=pairs) if m else {}
    timings["postprocess_s"] = time.perf_counter() - tick
    ann_index = _ann_index(embeddings, staging)

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
        "timings": timings,
    }
    files.save_json(staging / files.MANIFEST, manifest)  # written last: its presence means "built"


def _ann_index(embeddings: np.ndarray, staging: Path) -> dict[str, Any] | None:
    """Above ``RECSYS_ANN_MIN_ITEMS`` rows, build the approximate index into the artefact (written
    like its other files, published with them); the manifest's facts about it, else None."""
    if embeddings.shape[0] <= settings.RECSYS_ANN_MIN_ITEMS:
        return None
    from recsys import ann  # faiss only where an index is built

    return ann.build_into(embeddings, staging)


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
