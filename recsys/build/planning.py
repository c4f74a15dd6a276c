"""Step 1 of a build: snapshot the catalogue, decide what to reuse from the active artefact, fit
the engine if it learns from the catalogue, and write the plan into the staging folder.

Incremental runs: if the active artefact was built with the same engine parameters, rows of
paintings whose content hash is unchanged are copied from it and only new or changed paintings
are encoded. An engine that learns from the catalogue (LDA) keeps the previous fitted state and
only infers, unless ``full`` is asked for or more than ``RECSYS_INCREMENTAL_MAX_CHANGE`` of the
catalogue changed, in which case it refits on everything.

Scratch layout of a run (in ``<engine>/.staging-<version>/``, deleted once the manifest is
written, so never published): ``plan.json``, ``reused.npy`` and ``batches/<n>.npy|.json``. They
are read and written through ``recsys.artefacts.store``, so with object storage they travel
between machines (the fitted ``state/`` too, uploaded before the plan).
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import timezone

from catalog.snapshot import PaintingInput, catalogue_snapshot
from recsys.artefacts import files, store
from recsys.build import progress
from recsys.build.runs import jsonable, keep_alive, log_line, open_row
from recsys.engines.base import Engine, fit_progress
from recsys.engines.registry import get_engine
from recsys.models import Artefact

PLAN = "plan.json"
#: logged when a run starts a full rebuild (a resumed run repeats it: ``recsys.build.services.resume_run``)
FULL_REBUILD = "preparing a full rebuild"
REUSED = "reused.npy"
BATCHES = "batches"
#: the assembled rows' facts (written by finalizing.assemble) and the pair-scoring step's files
ASSEMBLED = "assembled.json"
PAIRS = "pairs"
#: run scratch, deleted once the manifest is written (never published)
SCRATCH = (PLAN, REUSED, BATCHES, ASSEMBLED, PAIRS)
#: pk -> content hash of every painting the artefact considered; the next incremental run reads it.
CONTENT_HASHES = "content_hashes.json"


def missing_modality(engine: Engine, item: PaintingInput) -> str | None:
    """Why the engine cannot read anything of this painting, or None."""
    has_text = bool(item.text.strip())
    has_image = item.image_path is not None
    wants_text = "text" in engine.modalities
    wants_image = "image" in engine.modalities
    if (wants_text and has_text) or (wants_image and has_image):
        return None
    wanted = [m for m, w in (("text", wants_text), ("image", wants_image)) if w]
    return f"no {' and no '.join(wanted)}"


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
    path = store.local_copy(prev.path)  # in place with a local storage, else downloaded once
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
    row = open_row(artefact_id, *Artefact.OPEN_STATUSES)
    if row is None:
        return None
    with keep_alive(artefact_id):
        return _prepare(row, full=full)


def _prepare(row: Artefact, *, full: bool) -> int:
    artefact_id = row.pk
    staging = files.staging_dir(row.engine, row.version)
    if store.exists(staging / PLAN):
        return read_plan(staging)["n_batches"]
    store.remove_tree(staging)  # leftovers of an attempt that died before writing its plan
    staging.mkdir(parents=True)
    if full and FULL_REBUILD not in row.log:
        log_line(artefact_id, FULL_REBUILD)
    engine = get_engine(row.engine)
    # the parameters of the process that computes (a worker) are the ones that hold
    row.params, row.model_id = jsonable(engine.params()), engine.model_id or ""
    Artefact.objects.filter(pk=artefact_id).update(
        status=Artefact.Status.RUNNING, started_at=timezone.now(), params=row.params, model_id=row.model_id
    )
    timings: dict[str, float] = {}
    progress.begin_step(artefact_id, progress.SNAPSHOT)

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

    to_encode = [it for it in eligible if it.pk not in reuse and it.pk not in skipped]
    if engine.batch_by_text_length:  # batches of similar text lengths pad least (by length, pk)
        to_encode.sort(key=lambda it: (len(it.text), it.pk))
    encode = [it.pk for it in to_encode]
    state = staging / files.STATE_DIR
    tick = time.perf_counter()
    if previous is not None:
        fit = {**json.loads((previous.path / files.MANIFEST).read_text()).get("fit", {}), "refit": False}
        if engine.needs_fit:
            shutil.copytree(previous.path / files.STATE_DIR, state)
        if reuse:
            prev_embeddings = np.load(previous.path / files.EMBEDDINGS, mmap_mode="r")
            store.save_array(staging / REUSED, prev_embeddings[list(reuse.values())])
        log_line(
            artefact_id,
            f"incremental from {previous.row.version}: {len(reuse)} rows reused, {len(encode)} to encode",
        )
    else:
        fit = _fit(artefact_id, engine, eligible, state) if engine.needs_fit else {}
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
    store.push_tree(state)  # for the machines that encode and finalize (object storage)
    store.save_json(staging / PLAN, plan)  # written last: its presence means "prepared"
    Artefact.objects.filter(pk=artefact_id).update(
        catalogue_hash=snapshot.catalogue_hash, total=len(encode), processed=0
    )
    progress.begin_step(artefact_id, progress.ENCODE)  # counted by processed / total
    log_line(
        artefact_id,
        f"planned: {len(snapshot.items)} paintings, {len(encode)} to encode in {plan['n_batches']} "
        f"batches, {len(reuse)} reused, {len(skipped)} skipped",
    )
    return plan["n_batches"]


def _fit(artefact_id: int, engine: Engine, items: list[PaintingInput], state: Path) -> dict[str, Any]:
    """``engine.fit`` with its progress reports (``report_fit_progress``) written to the row."""
    progress.begin_step(artefact_id, progress.FIT)

    def report(done: int, total: int, unit: str) -> None:
        progress.advance_step(artefact_id, done=done, total=total, unit=unit)

    token = fit_progress.set(report)
    try:
        return engine.fit(items, state)
    finally:
        fit_progress.reset(token)


@lru_cache(maxsize=2)
def _read_plan_cached(path: str, mtime_ns: int) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


@lru_cache(maxsize=2)
def _read_stored_plan(name: str) -> dict[str, Any]:
    return store.load_json(files.artefact_root() / name)  # a plan is written once, never changed


def read_plan(staging: Path) -> dict[str, Any]:
    path = staging / PLAN
    if store.is_remote():
        return _read_stored_plan(store.name_of(path))
    return _read_plan_cached(str(path), path.stat().st_mtime_ns)


def batch_paths(staging: Path, batch_no: int) -> tuple[Path, Path]:
    return staging / BATCHES / f"{batch_no:06d}.npy", staging / BATCHES / f"{batch_no:06d}.json"
