"""Assembling a build's rows, the first part of finalizing: the encoded batches (and the rows
reused from the previous artefact) in painting-id order, L2-normalised, with the neighbour
structure, written into the staging folder. Both the pair-scoring step (``recsys.build.pairing``,
before it plans the pairs) and ``recsys.build.finalizing`` call ``assemble``; the second call
finds the work done (``assembled.json``).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from recsys.algorithms.similarity import dense_similarity, l2_normalise, top_k_neighbours
from recsys.artefacts import files, store
from recsys.build.planning import ASSEMBLED, CONTENT_HASHES, REUSED, batch_paths, read_plan
from recsys.models import Artefact


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


def assemble(row: Artefact, staging: Path) -> dict[str, Any]:
    """Write the rows (ids, external ids, unit embeddings, content hashes) and the neighbour
    structure into staging; returns what the manifest needs (``ASSEMBLED``, kept as scratch).

    Idempotent: the pair-scoring step (``recsys.build.pairing``) assembles before it plans
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
    files.save_local_array(staging / files.PAINTING_IDS, np.asarray(order, dtype=np.int64))
    files.save_local_json(staging / files.EXTERNAL_IDS, [external[str(pk)] for pk in order])
    files.save_local_array(staging / files.EMBEDDINGS, embeddings)
    files.save_local_json(staging / CONTENT_HASHES, plan["hashes"])
    timings["assemble_s"] = time.perf_counter() - tick

    tick = time.perf_counter()
    m = len(order)
    dense = m <= settings.RECSYS_DENSE_MAX_ITEMS
    similarity = dense_similarity(embeddings) if dense else None
    if similarity is not None:
        files.save_local_array(staging / files.SIMILARITY, similarity)
    neighbours_idx, neighbours_sim = top_k_neighbours(
        embeddings, settings.RECSYS_NEIGHBOURS_K, similarity=similarity
    )
    files.save_local_array(staging / files.NEIGHBOURS_IDX, neighbours_idx)
    files.save_local_array(staging / files.NEIGHBOURS_SIM, neighbours_sim)
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
    files.save_local_json(staging / ASSEMBLED, facts)  # written last: its presence means "assembled"
    return facts
