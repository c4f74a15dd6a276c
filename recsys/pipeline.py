"""Building an engine's artefact, written once for every engine, in three resumable steps.

``prepare``  snapshot the catalogue, decide what to reuse from the active artefact, fit the engine
             if it learns from the catalogue, and write the plan into the staging folder;
``encode_batch``  encode one slice of the plan into ``batches/<n>.npy`` (skipped if present, so a
             retried or duplicated delivery does nothing twice);
``finalize`` assemble rows in painting-id order, L2-normalise, build the neighbour structure,
             run the engine's postprocess hook, write the manifest, publish the folder with one
             rename and activate it in one transaction, then prune old versions.

The Celery tasks (``recsys.tasks``) run these steps as prepare -> chord(encode batches) ->
finalize across workers; ``run`` runs them in this process. Every step reads the Artefact row
first and returns quietly if it is gone or no longer open, so cancelled or finished runs absorb
late deliveries. Any failure goes through ``mark_failed``: the row records the error and
traceback, the staging folder is removed and the previously active artefact stays active.

Incremental runs: if the active artefact was built with the same engine parameters, rows of
paintings whose content hash is unchanged are copied from it and only new or changed paintings
are encoded. An engine that learns from the catalogue (LDA) keeps the previous fitted state and
only infers, unless ``full`` is asked for or more than ``RECSYS_INCREMENTAL_MAX_CHANGE`` of the
catalogue changed, in which case it refits on everything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import secrets
import shutil
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F, TextField, Value
from django.db.models.functions import Concat, Least
from django.utils import timezone

from catalog.models import Painting
from catalog.text import content_hash as compute_content_hash
from catalog.text import painting_text
from recsys import artefacts as files
from recsys.engines.base import Engine, PaintingInput
from recsys.engines.registry import get_engine
from recsys.models import Artefact

logger = logging.getLogger(__name__)

PLAN = "plan.json"
REUSED = "reused.npy"
BATCHES = "batches"
#: pk -> content hash of every painting the artefact considered; the next incremental run reads it.
CONTENT_HASHES = "content_hashes.json"
MANIFEST_SKIPPED_IN_ROW = 100  # the row keeps the first skipped items; the file keeps all
BLOCK_ELEMENTS = 1 << 24  # similarity block size (rows x catalogue), about 64 MB of float32

Progress = Callable[[int, int], None]


# -- catalogue snapshot ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    items: list[PaintingInput]  # ordered by pk
    hashes: dict[int, str]  # pk -> content hash
    catalogue_hash: str


def painting_input(painting: Painting) -> PaintingInput:
    return PaintingInput(
        pk=painting.pk,
        external_id=painting.external_id,
        text=painting_text(painting),
        image_path=painting.image.path if painting.has_image else None,
    )


def content_hash(painting: Painting, item: PaintingInput) -> str:
    """The painting's ``content_hash``, computed the same way if blank (a row written without
    the catalogue services), so it is still compared by content, never taken as unchanged."""
    return painting.content_hash or compute_content_hash(text=item.text, image_sha256=painting.image_sha256)


def catalogue_hash(hashes: dict[int, str]) -> str:
    """sha256 over the (pk, content hash) pairs in pk order: equal iff the engines' input is."""
    digest = hashlib.sha256()
    for pk in sorted(hashes):
        digest.update(f"{pk}:{hashes[pk]}\n".encode())
    return digest.hexdigest()


def catalogue_snapshot() -> Snapshot:
    items: list[PaintingInput] = []
    hashes: dict[int, str] = {}
    paintings = Painting.objects.select_related("artist", "story_group").order_by("pk")
    for painting in paintings.iterator(chunk_size=2000):
        item = painting_input(painting)
        items.append(item)
        hashes[item.pk] = content_hash(painting, item)
    return Snapshot(items=items, hashes=hashes, catalogue_hash=catalogue_hash(hashes))


def current_catalogue_hash() -> str:
    """The hash ``catalogue_snapshot`` would give, from the stored content hashes alone (one
    narrow query, no text built) unless some painting has none yet."""
    hashes = dict(Painting.objects.order_by().values_list("pk", "content_hash"))
    if all(hashes.values()):
        return catalogue_hash(hashes)
    return catalogue_snapshot().catalogue_hash


def missing_modality(engine: Engine, item: PaintingInput) -> str | None:
    """Why the engine cannot read anything of this painting, or None."""
    has_text = bool(item.text.strip())
    has_image = item.image_path is not None
    wants_text = "text" in engine.modalities
    wants_image = bool({"image", "image_path"} & engine.modalities)
    if (wants_text and has_text) or (wants_image and has_image):
        return None
    wanted = [m for m, w in (("text", wants_text), ("image", wants_image)) if w]
    return f"no {' and no '.join(wanted)}"


# -- vectors and neighbours ------------------------------------------------------------------------
def l2_normalise(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit rows (float32) and the mask of rows that could be normalised (finite, non-zero).

    Rows that are not finite or have zero length have no direction, so no cosine; they are set
    to zero here and the caller drops them (reported as skipped)."""
    out = np.array(vectors, dtype=np.float32, copy=True)
    finite = np.isfinite(out).all(axis=1)
    out[~finite] = 0.0
    norms = np.linalg.norm(out.astype(np.float64), axis=1)
    ok = finite & (norms > 1e-12)
    out[ok] /= norms[ok, None].astype(np.float32)
    return out, ok


def _block_rows(m: int) -> int:
    return max(1, min(m, BLOCK_ELEMENTS // max(m, 1)))


def dense_similarity(embeddings: np.ndarray) -> np.ndarray:
    """A = E E^T for unit rows: clipped to [-1, 1], exactly symmetric, diagonal exactly 1.

    Computed by row blocks of the upper triangle and mirrored, so symmetry holds bit for bit."""
    m = embeddings.shape[0]
    sim = np.empty((m, m), dtype=np.float32)
    step = _block_rows(m)
    for start in range(0, m, step):
        stop = min(m, start + step)
        block = embeddings[start:stop] @ embeddings[start:].T
        width = stop - start
        diag = block[:, :width]
        block[:, :width] = (diag + diag.T) * np.float32(0.5)
        sim[start:stop, start:] = block
        sim[start:, start:stop] = block.T
    np.clip(sim, -1.0, 1.0, out=sim)
    np.fill_diagonal(sim, 1.0)
    return sim


def _top_k_block(sims: np.ndarray, start: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k columns of each row of a block (rows ``start..``), self excluded, best first;
    ties go to the lower row index. ``sims`` is modified."""
    n, m = sims.shape
    idx = np.empty((n, k), dtype=np.int32)
    val = np.empty((n, k), dtype=np.float32)
    if k == 0:
        return idx, val
    sims[np.arange(n), start + np.arange(n)] = -np.inf
    threshold = np.partition(sims, m - k, axis=1)[:, m - k]  # k-th largest value of each row
    for r in range(n):
        candidates = np.flatnonzero(sims[r] >= threshold[r])  # ascending index: stable sort keeps it
        best = candidates[np.argsort(-sims[r, candidates], kind="stable")[:k]]
        idx[r] = best
        val[r] = sims[r, best]
    return idx, val


def top_k_neighbours(
    embeddings: np.ndarray, k: int, *, similarity: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k most similar other rows (int32 indices, float32 similarities), best first.

    Works in row blocks of at most ``BLOCK_ELEMENTS`` similarities, so memory stays bounded
    whatever the catalogue size; reads rows of ``similarity`` instead when it is given."""
    m = embeddings.shape[0]
    k = max(0, min(k, m - 1))
    idx = np.empty((m, k), dtype=np.int32)
    val = np.empty((m, k), dtype=np.float32)
    step = _block_rows(m)
    for start in range(0, m, step):
        stop = min(m, start + step)
        if similarity is not None:
            sims = np.array(similarity[start:stop], dtype=np.float32)
        else:
            sims = np.clip(embeddings[start:stop] @ embeddings.T, -1.0, 1.0)
        idx[start:stop], val[start:stop] = _top_k_block(sims, start, k)
    return idx, val


# -- run rows --------------------------------------------------------------------------------------
def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def new_version(engine: str) -> str:
    return f"{engine}-{timezone.now():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def create_run(*, engine: Engine, celery_task_id: str = "") -> Artefact:
    """A pending row for a new version (the caller holds the open-run constraint)."""
    version = new_version(engine.name)
    return Artefact.objects.create(
        engine=engine.name,
        version=version,
        model_id=engine.model_id or "",
        params=jsonable(engine.params()),
        path=f"{engine.name}/{version}",
        celery_task_id=celery_task_id,
    )


def log_line(artefact_id: int, message: str) -> None:
    """Append to the row's log in one UPDATE (batch tasks log concurrently)."""
    line = f"{timezone.now():%Y-%m-%d %H:%M:%S} {message}\n"
    Artefact.objects.filter(pk=artefact_id).update(
        log=Concat(F("log"), Value(line), output_field=TextField())
    )
    logger.info("artefact %s: %s", artefact_id, message)


def _row(artefact_id: int, *statuses: str) -> Artefact | None:
    row = Artefact.objects.filter(pk=artefact_id).first()
    return row if row is not None and row.status in statuses else None


def mark_failed(artefact_id: int, error: BaseException | str, details: str = "") -> bool:
    """Record the failure on an open run and remove its staging folder; the active artefact
    (if any) is untouched. Returns False if the run was no longer open."""
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    text = f"{timezone.now():%Y-%m-%d %H:%M:%S} FAILED {message}\n{details}"
    updated = Artefact.objects.filter(pk=artefact_id, status__in=Artefact.OPEN_STATUSES).update(
        status=Artefact.Status.FAILED,
        error=message[:4000],
        finished_at=timezone.now(),
        log=Concat(F("log"), Value(text), output_field=TextField()),
    )
    row = Artefact.objects.filter(pk=artefact_id).only("engine", "version").first()
    if updated and row is not None:
        files.remove_tree(files.staging_dir(row.engine, row.version))
    return bool(updated)


# -- step 1: prepare -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Previous:
    row: Artefact
    path: Path
    hashes: dict[int, str]
    skipped: dict[int, str]


def _reusable_previous(row: Artefact, engine: Engine) -> _Previous | None:
    """The active artefact if its rows are valid for this run (same parameters and model)."""
    prev = Artefact.objects.filter(engine=row.engine, is_active=True).first()
    if prev is None or prev.params != row.params or prev.model_id != row.model_id:
        return None
    path = files.artefact_root() / prev.path
    if not (path / CONTENT_HASHES).exists() or (engine.needs_fit and not (path / files.STATE_DIR).is_dir()):
        return None
    manifest = json.loads((path / files.MANIFEST).read_text())
    return _Previous(
        row=prev,
        path=path,
        hashes={int(pk): h for pk, h in json.loads((path / CONTENT_HASHES).read_text()).items()},
        skipped={int(s["pk"]): s["reason"] for s in manifest.get("skipped", [])},
    )


def prepare(artefact_id: int, *, full: bool = False) -> int | None:
    """Snapshot, reuse, fit and plan; returns the number of encode batches (None: nothing to do).

    Idempotent: a redelivered prepare finds the plan written by the first one and returns it."""
    row = _row(artefact_id, *Artefact.OPEN_STATUSES)
    if row is None:
        return None
    staging = files.staging_dir(row.engine, row.version)
    if (staging / PLAN).exists():
        return _read_plan(staging)["n_batches"]
    files.remove_tree(staging)  # leftovers of an attempt that died before writing its plan
    staging.mkdir(parents=True)
    engine = get_engine(row.engine)
    # the parameters of the process that computes (a worker) are the ones that hold
    row.params, row.model_id = jsonable(engine.params()), engine.model_id or ""
    Artefact.objects.filter(pk=artefact_id).update(
        status=Artefact.Status.RUNNING, started_at=timezone.now(), params=row.params, model_id=row.model_id
    )
    timings: dict[str, float] = {}

    tick = time.perf_counter()
    snapshot = catalogue_snapshot()
    skipped: dict[int, str] = {}
    eligible: list[PaintingInput] = []
    for item in snapshot.items:
        reason = missing_modality(engine, item)
        if reason is None:
            eligible.append(item)
        else:
            skipped[item.pk] = reason
    timings["snapshot_s"] = time.perf_counter() - tick

    previous = None if full else _reusable_previous(row, engine)
    reuse: dict[int, int] = {}  # pk -> row in the previous embeddings
    if previous is not None:
        prev_rows = {int(pk): r for r, pk in enumerate(np.load(previous.path / files.PAINTING_IDS).tolist())}
        unchanged = [it.pk for it in eligible if previous.hashes.get(it.pk) == snapshot.hashes[it.pk]]
        reuse = {pk: prev_rows[pk] for pk in unchanged if pk in prev_rows}
        reused_skips = {pk: previous.skipped[pk] for pk in unchanged if pk in previous.skipped}
        changed = len(eligible) - len(unchanged) + len(previous.hashes.keys() - snapshot.hashes.keys())
        limit = settings.RECSYS_INCREMENTAL_MAX_CHANGE * max(len(eligible), 1)
        if engine.needs_fit and changed > limit:
            log_line(artefact_id, f"{changed} paintings changed (> {limit:.0f}): full refit")
            previous, reuse = None, {}
        else:
            skipped.update(reused_skips)

    encode = [it.pk for it in eligible if it.pk not in reuse and it.pk not in skipped]
    state = staging / files.STATE_DIR
    tick = time.perf_counter()
    if previous is not None:
        fit = {**json.loads((previous.path / files.MANIFEST).read_text()).get("fit", {}), "refit": False}
        if engine.needs_fit:
            shutil.copytree(previous.path / files.STATE_DIR, state)
        if reuse:
            prev_embeddings = np.load(previous.path / files.EMBEDDINGS, mmap_mode="r")
            files.save_array(staging / REUSED, prev_embeddings[list(reuse.values())])
        log_line(
            artefact_id,
            f"incremental from {previous.row.version}: {len(reuse)} rows reused, {len(encode)} to encode",
        )
    else:
        fit = engine.fit(eligible, state) if engine.needs_fit else {}
        if engine.needs_fit:
            fit["refit"] = True
            log_line(artefact_id, f"fitted on {len(eligible)} paintings: {jsonable(fit)}")
    timings["fit_s" if previous is None else "reuse_s"] = time.perf_counter() - tick

    batch_size = max(1, int(settings.RECSYS_BATCH_SIZE))
    plan = {
        "mode": "incremental" if previous is not None else "full",
        "previous_version": previous.row.version if previous is not None else None,
        "catalogue_hash": snapshot.catalogue_hash,
        "catalogue_size": len(snapshot.items),
        "hashes": {str(pk): h for pk, h in snapshot.hashes.items()},
        "items": {str(it.pk): dataclasses.asdict(it) for it in eligible if it.pk not in skipped},
        "external_ids": {str(it.pk): it.external_id for it in snapshot.items},
        "skipped": {str(pk): reason for pk, reason in skipped.items()},
        "reused_pks": list(reuse),
        "encode": encode,
        "batch_size": batch_size,
        "n_batches": math.ceil(len(encode) / batch_size),
        "fit": jsonable(fit),
        "timings": timings,
    }
    files.save_json(staging / PLAN, plan)  # written last: its presence means "prepared"
    Artefact.objects.filter(pk=artefact_id).update(
        catalogue_hash=snapshot.catalogue_hash, total=len(encode), processed=0
    )
    log_line(
        artefact_id,
        f"planned: {len(snapshot.items)} paintings, {len(encode)} to encode in {plan['n_batches']} "
        f"batches, {len(reuse)} reused, {len(skipped)} skipped",
    )
    return plan["n_batches"]


@lru_cache(maxsize=2)
def _read_plan_cached(path: str, mtime_ns: int) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def _read_plan(staging: Path) -> dict[str, Any]:
    path = staging / PLAN
    return _read_plan_cached(str(path), path.stat().st_mtime_ns)


# -- step 2: encode --------------------------------------------------------------------------------
def _batch_paths(staging: Path, batch_no: int) -> tuple[Path, Path]:
    return staging / BATCHES / f"{batch_no:06d}.npy", staging / BATCHES / f"{batch_no:06d}.json"


def encode_batch(artefact_id: int, batch_no: int) -> int | None:
    """Encode batch ``batch_no`` of the plan; returns how many paintings it covered (0 if it was
    already done, None if the run is gone or no longer running)."""
    row = _row(artefact_id, Artefact.Status.RUNNING)
    if row is None:
        return None
    staging = files.staging_dir(row.engine, row.version)
    vectors_path, meta_path = _batch_paths(staging, batch_no)
    if meta_path.exists():
        return 0
    plan = _read_plan(staging)
    if not 0 <= batch_no < plan["n_batches"]:
        raise ValueError(f"Batch {batch_no} is outside the plan (0..{plan['n_batches'] - 1}).")
    size = plan["batch_size"]
    items = [
        PaintingInput(**plan["items"][str(pk)])
        for pk in plan["encode"][batch_no * size : (batch_no + 1) * size]
    ]
    wanted = {item.pk for item in items}
    engine = get_engine(row.engine)

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

    if not staging.is_dir():  # the run was failed or cancelled meanwhile
        return None
    files.save_array(vectors_path, vectors)
    files.save_json(
        meta_path,  # written last: its presence marks the batch done
        {
            "pks": list(batch.pks),
            "skipped": {str(pk): r for pk, r in skipped.items()},
            "notes": {str(pk): n for pk, n in batch.notes.items()},
            "seconds": seconds,
        },
    )
    Artefact.objects.filter(pk=artefact_id).update(processed=Least(F("processed") + len(items), F("total")))
    log_line(
        artefact_id,
        f"batch {batch_no + 1}/{plan['n_batches']}: {len(batch.pks)} encoded, {len(skipped)} skipped "
        f"({seconds:.1f} s)",
    )
    return len(items)


# -- step 3: finalize ------------------------------------------------------------------------------
def _assemble(
    staging: Path, plan: dict[str, Any]
) -> tuple[list[int], np.ndarray, dict[int, str], dict, float]:
    """Rows of every painting with a vector, in pk order, plus skipped reasons and note counts."""
    parts: list[tuple[list[int], np.ndarray]] = []
    if plan["reused_pks"]:
        parts.append((plan["reused_pks"], np.load(staging / REUSED)))
    skipped = {int(pk): r for pk, r in plan["skipped"].items()}
    notes: Counter[str] = Counter()
    encode_seconds = 0.0
    for batch_no in range(plan["n_batches"]):
        vectors_path, meta_path = _batch_paths(staging, batch_no)
        if not meta_path.exists():
            raise RuntimeError(f"Batch {batch_no} of {plan['n_batches']} is missing; cannot finalize.")
        meta = json.loads(meta_path.read_text())
        parts.append((meta["pks"], np.load(vectors_path)))
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
    """Write, publish and activate the artefact; returns the ready row (None: nothing to do)."""
    row = Artefact.objects.filter(pk=artefact_id).first()
    if row is None or row.status == Artefact.Status.READY:
        return row
    if row.status != Artefact.Status.RUNNING:
        return None
    staging = files.staging_dir(row.engine, row.version)
    final = files.final_dir(row.engine, row.version)
    if not final.exists():  # else: published by an attempt that died before activating it
        _build(row, staging)
        files.publish(staging, final)
    manifest = json.loads((final / files.MANIFEST).read_text())
    row = _activate(artefact_id, manifest)
    if row is not None and row.is_active:
        log_line(artefact_id, f"active: {manifest['counts']['items']} paintings")
        prune(engine=row.engine)
    return row


def _build(row: Artefact, staging: Path) -> None:
    engine = get_engine(row.engine)
    plan = _read_plan(staging)
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

    tick = time.perf_counter()
    items = [PaintingInput(**plan["items"][str(pk)]) for pk in order]
    extra = engine.postprocess(items=items, embeddings=embeddings, out_dir=staging) if m else {}
    timings["postprocess_s"] = time.perf_counter() - tick

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
        "dim": int(embeddings.shape[1]) if m else 0,
        "dtype": "float32",
        "neighbour_structure": "dense" if dense else "top_k",
        "neighbours_k": int(neighbours_idx.shape[1]),
        "skipped": [
            {"pk": pk, "external_id": external[str(pk)], "reason": reason}
            for pk, reason in sorted(skipped.items())
        ],
        "notes": notes,
        "fit": plan["fit"],
        "postprocess": jsonable(extra),
        "timings": timings,
    }
    for name in (PLAN, REUSED, BATCHES):
        path = staging / name
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    files.save_json(staging / files.MANIFEST, manifest)


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
    return row


# -- pruning ---------------------------------------------------------------------------------------
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
        files.remove_tree(files.final_dir(engine, row.version))
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
    for child in folder.iterdir() if folder.is_dir() else ():
        if child.name.removeprefix(prefix) not in owned:
            files.remove_tree(child)
    return pruned


# -- in-process run --------------------------------------------------------------------------------
def run(artefact_id: int, *, full: bool = False, progress: Progress | None = None) -> Artefact:
    """All steps in this process (``precompute_engine``, the command without a broker).

    On failure, Ctrl-C included, the row is marked failed (so a new run can start at once) and
    the exception propagates."""

    def report() -> None:
        if progress is not None:
            row = Artefact.objects.only("processed", "total").get(pk=artefact_id)
            progress(row.processed, row.total)

    try:
        n_batches = prepare(artefact_id, full=full)
        report()
        for batch_no in range(n_batches or 0):
            encode_batch(artefact_id, batch_no)
            report()
        finalize(artefact_id)
    except BaseException as exc:
        mark_failed(artefact_id, exc, traceback.format_exc())
        raise
    return Artefact.objects.get(pk=artefact_id)
