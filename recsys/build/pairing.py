"""Step 3 of a build, for engines that re-score pairs of paintings (BLIP's ITM cross-encoder):
plan the pairs, then score them in batches spread over the workers, before ``finalize``.

``plan_pairs``  assemble the rows (``finalizing.assemble``: the pairs are each row's top-K by the
             embedding cosine), reuse the previous artefact's scores of every pair of unchanged
             paintings (incremental runs), ask the engine which (image, text) directions remain
             and cut the images into batches of ``RECSYS_ITM_BATCH_IMAGES``; returns the number
             of batches (0: nothing to score, or an engine that scores no pairs);
``score_pair_batch``  score one batch of images into ``pairs/<n>.*`` (skipped if done, so a
             redelivered batch does nothing twice); each finished batch is a heartbeat;
``read_pair_scores``  what ``finalize`` hands the engine's ``postprocess``: the batches merged.

A pair is reused only when both paintings are unchanged (same content hash, so the same text
and image) and the previous artefact was built with the same parameters and model, which is
when planning reuses their rows at all: p_ij depends on those two paintings and the model only.
Scratch layout (``pairs/`` in the staging folder, deleted with the rest of the scratch):
``plan.json`` (with the assembled row order), ``candidates.npy``, ``reused.npy`` (i, j, p rows),
``itc_image.npy`` / ``itc_text.npy`` (reused ITC rows) and per batch ``<n>.npy`` (its i, j, p
rows), ``<n>.itc.npy`` (its images' ITC rows) and ``<n>.json`` (written last: the batch is done).

Every scratch file goes through ``recsys.artefacts.store``, like the other steps' scratch: with
object storage the steps may run on different machines (only ``assemble``'s rows are local, and
any machine that needs them assembles them again, the same rows).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from recsys.algorithms import itm
from recsys.artefacts import files, store
from recsys.build import progress
from recsys.build.assembling import assemble
from recsys.build.planning import PAIRS, read_plan
from recsys.build.runs import keep_alive, log_line, open_row
from recsys.engines.base import PaintingInput
from recsys.engines.registry import get_engine
from recsys.models import Artefact

PAIR_PLAN = "plan.json"
CANDIDATES = "candidates.npy"
REUSED_PAIRS = "reused.npy"
REUSED_ITC_IMAGE = "itc_image.npy"
REUSED_ITC_TEXT = "itc_text.npy"


def _pairs_dir(row: Artefact) -> Path:
    return files.staging_dir(row.engine, row.version) / PAIRS


def _items(staging: Path, order: list[int]) -> list[PaintingInput]:
    plan = read_plan(staging)
    return [PaintingInput(**plan["items"][str(pk)]) for pk in order]


def plan_pairs(artefact_id: int) -> int | None:
    """Plan the pair scoring; returns the number of batches (None: the run is gone or closed).

    Idempotent: a redelivered call finds the pair plan written by the first one."""
    row = open_row(artefact_id, Artefact.Status.RUNNING)
    if row is None:
        return None
    engine = get_engine(row.engine)
    if not engine.scores_pairs:
        return 0
    folder = _pairs_dir(row)
    if store.exists(folder / PAIR_PLAN):
        return store.load_json(folder / PAIR_PLAN)["n_batches"]
    with keep_alive(artefact_id):
        return _plan_pairs(row, engine, folder)


def _previous_scores(
    plan: dict[str, Any], order: list[int]
) -> tuple[dict[tuple[int, int], float], np.ndarray | None, np.ndarray | None, list[int]]:
    """Scores of pairs of unchanged paintings and their ITC rows from the previous artefact,
    in this run's rows: ({(i, j): p} with i < j, itc image, itc text, reused rows)."""
    version = plan.get("previous_version")
    reused_pks = set(plan.get("reused_pks") or ())
    if not version or not reused_pks:
        return {}, None, None, []
    try:  # in place with a local storage, else downloaded once
        path = store.local_copy(store.name_of(files.final_dir(plan["engine"], version)))
    except FileNotFoundError:
        return {}, None, None, []
    if not (path / itm.ITM_IDX).exists():
        return {}, None, None, []
    prev_pks = np.load(path / files.PAINTING_IDS).tolist()
    graph = itm.itm_graph(np.load(path / itm.ITM_IDX), np.load(path / itm.ITM_PROB))
    row_now = {pk: r for r, pk in enumerate(order)}
    pairs: dict[tuple[int, int], float] = {}
    for prev_i, pk_i in enumerate(prev_pks):
        if pk_i not in reused_pks or pk_i not in row_now:
            continue
        neighbours, probs = graph.row(prev_i)
        for prev_j, p in zip(neighbours.tolist(), probs.tolist(), strict=True):
            pk_j = prev_pks[prev_j]
            if pk_j in reused_pks and pk_j in row_now:
                i, j = row_now[pk_i], row_now[pk_j]
                pairs[(min(i, j), max(i, j))] = p
    rows = sorted(row_now[pk] for pk in reused_pks if pk in row_now)
    prev_row = {pk: r for r, pk in enumerate(prev_pks)}
    itc: list[np.ndarray | None] = []
    for name in ("itc_image.npy", "itc_text.npy"):
        if not (path / name).exists():
            itc.append(None)
            continue
        previous_itc = np.load(path / name, mmap_mode="r")
        now = np.zeros((len(order), previous_itc.shape[1]), dtype=np.float32)
        now[rows] = previous_itc[[prev_row[order[r]] for r in rows]]
        itc.append(now)
    return pairs, itc[0], itc[1], rows if itc[0] is not None and itc[1] is not None else []


def _plan_pairs(row: Artefact, engine: Any, folder: Path) -> int:
    staging = files.staging_dir(row.engine, row.version)
    tick = time.perf_counter()
    facts = assemble(row, staging)
    order = facts["order"]
    if not order:
        return 0
    plan = {**read_plan(staging), "engine": row.engine}
    items = _items(staging, order)
    embeddings = np.load(staging / files.EMBEDDINGS, mmap_mode="r")
    reused, itc_image, itc_text, reused_rows = _previous_scores(plan, order)
    reused_set = set(reused_rows)
    fresh = [r for r in range(len(order)) if r not in reused_set]
    work = engine.plan_pairs(items=items, embeddings=embeddings, reused=reused, fresh_rows=fresh)
    size = max(1, int(settings.RECSYS_ITM_BATCH_IMAGES))
    image_rows = work.image_rows if work is not None else []
    batches = [image_rows[i : i + size] for i in range(0, len(image_rows), size)]
    candidates = work.candidates if work is not None else np.zeros((len(order), 0), dtype=np.int64)
    store.save_array(folder / CANDIDATES, candidates)
    store.save_array(
        folder / REUSED_PAIRS,
        np.array([(i, j, p) for (i, j), p in sorted(reused.items())], dtype=np.float64).reshape(-1, 3),
    )
    if itc_image is not None and itc_text is not None:
        store.save_array(folder / REUSED_ITC_IMAGE, itc_image)
        store.save_array(folder / REUSED_ITC_TEXT, itc_text)
    pair_plan = {
        "n_batches": len(batches),
        "order": order,
        "batches": batches,
        "texts_of": {str(a): b for a, b in (work.texts_of if work is not None else {}).items()},
        "reused_rows": reused_rows,
        "plan_s": time.perf_counter() - tick,
    }
    store.save_json(folder / PAIR_PLAN, pair_plan)  # written last: its presence means "planned"
    directions = sum(len(b) for b in pair_plan["texts_of"].values())
    Artefact.objects.filter(pk=row.pk).update(total=F("total") + len(image_rows))
    progress.begin_step(row.pk, progress.PAIRS, total=len(image_rows), unit="images")
    log_line(
        row.pk,
        f"pairs planned: {directions} ITM directions over {len(image_rows)} images in {len(batches)} "
        f"batches, {len(reused)} pairs reused",
    )
    return len(batches)


def _batch_paths(folder: Path, batch_no: int) -> tuple[Path, Path, Path]:
    """A batch's (i, j, p) rows, its images' ITC rows and its meta (written last: done)."""
    stem = f"{batch_no:06d}"
    return folder / f"{stem}.npy", folder / f"{stem}.itc.npy", folder / f"{stem}.json"


def score_pair_batch(artefact_id: int, batch_no: int) -> int | None:
    """Score batch ``batch_no`` of the pair plan; returns its number of images (0 if it was
    already done, None if the run is gone or no longer running)."""
    row = open_row(artefact_id, Artefact.Status.RUNNING)
    if row is None:
        return None
    folder = _pairs_dir(row)
    if store.exists(_batch_paths(folder, batch_no)[2]):
        return 0
    with keep_alive(artefact_id):
        return _score_pair_batch(row, folder, batch_no)


def _score_pair_batch(row: Artefact, folder: Path, batch_no: int) -> int | None:
    pair_plan = store.load_json(folder / PAIR_PLAN)
    if not 0 <= batch_no < pair_plan["n_batches"]:
        raise ValueError(f"Pair batch {batch_no} is outside the plan (0..{pair_plan['n_batches'] - 1}).")
    items = _items(folder.parent, pair_plan["order"])
    image_rows = pair_plan["batches"][batch_no]
    wanted = set(image_rows)
    texts_of = {int(a): b for a, b in pair_plan["texts_of"].items() if int(a) in wanted}
    tick = time.perf_counter()
    scores, itc_image, unreadable = get_engine(row.engine).score_pairs(
        items=items, image_rows=image_rows, texts_of=texts_of
    )
    seconds = time.perf_counter() - tick
    if not store.exists(folder / PAIR_PLAN):  # the run was failed or cancelled meanwhile
        return None
    pairs_path, itc_path, meta_path = _batch_paths(folder, batch_no)
    store.save_array(
        pairs_path,
        np.array([(i, j, p) for (i, j), p in scores.items()], dtype=np.float64).reshape(-1, 3),
    )
    store.save_array(itc_path, np.asarray(itc_image[image_rows]))
    store.save_json(  # written last: its presence marks the batch done
        meta_path, {"itc_rows": list(image_rows), "unreadable": int(unreadable), "seconds": seconds}
    )
    Artefact.objects.filter(pk=row.pk).update(
        processed=F("processed") + len(image_rows),
        step_done=F("step_done") + len(image_rows),
        heartbeat_at=timezone.now(),
    )
    log_line(
        row.pk,
        f"pair batch {batch_no + 1}/{pair_plan['n_batches']}: {len(scores)} ITM directions over "
        f"{len(image_rows)} images ({seconds:.1f} s)",
    )
    return len(image_rows)


def read_pair_scores(staging: Path, m: int) -> Any:
    """The pair step's results merged for the engine's ``postprocess`` (None: no pair plan, e.g.
    a run whose engine scores no pairs)."""
    from recsys.engines.blip import PairScores  # the one engine that scores pairs

    folder = staging / PAIRS
    if not store.exists(folder / PAIR_PLAN):
        return None
    pair_plan = store.load_json(folder / PAIR_PLAN)
    scores: dict[tuple[int, int], float] = {}
    itc_image = _optional_array(folder / REUSED_ITC_IMAGE)
    unreadable = 0
    for batch_no in range(pair_plan["n_batches"]):
        pairs_path, itc_path, meta_path = _batch_paths(folder, batch_no)
        if not store.exists(meta_path):
            raise RuntimeError(
                f"Pair batch {batch_no} of {pair_plan['n_batches']} is missing; cannot finalize."
            )
        meta = store.load_json(meta_path)
        scores.update(_pair_rows(store.load_array(pairs_path)))
        if meta["itc_rows"]:
            itc = store.load_array(itc_path)
            if itc_image is None:
                itc_image = np.zeros((m, itc.shape[1]), dtype=np.float32)
            itc_image[meta["itc_rows"]] = itc
        unreadable += int(meta["unreadable"])
    return PairScores(
        candidates=store.load_array(folder / CANDIDATES),
        scores=scores,
        reused=_pair_rows(store.load_array(folder / REUSED_PAIRS)),
        itc_image=itc_image,
        itc_text=_optional_array(folder / REUSED_ITC_TEXT),
        itc_text_rows=pair_plan["reused_rows"],
        unreadable=unreadable,
    )


def _pair_rows(rows: np.ndarray) -> dict[tuple[int, int], float]:
    """{(i, j): p} from an array of (i, j, p) rows."""
    return {(int(i), int(j)): float(p) for i, j, p in rows.tolist()}


def _optional_array(path: Path) -> np.ndarray | None:
    return store.load_array(path) if store.exists(path) else None
