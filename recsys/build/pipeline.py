"""Building an engine's artefact, written once for every engine, in four resumable steps (the
third only for engines that re-score pairs).

``prepare``  snapshot the catalogue, decide what to reuse from the active artefact, fit the engine
             if it learns from the catalogue, and write the plan into the staging folder;
``encode_batch``  encode one slice of the plan into ``batches/<n>.npy`` (skipped if present, so a
             retried or duplicated delivery does nothing twice);
``plan_pairs`` / ``score_pair_batch``  for an engine that re-scores pairs (BLIP's ITM): plan the
             pairs of each row's top-K, reusing unchanged pairs' scores, and score them in
             batches (``pairing``);
``finalize`` assemble rows in painting-id order, L2-normalise, build the neighbour structure
             (``assembling``; the pair step assembles first when there is one),
             run the engine's postprocess hook, write the manifest, delete the scratch, publish
             the folder with one rename and activate it in one transaction, then prune.

One module per step (``planning``, ``encoding``, ``pairing``, ``finalizing``); run-row
bookkeeping (heartbeat, failure, the reaper) is in ``recsys.build.runs``, vector maths in
``recsys.algorithms.similarity``, the catalogue snapshot in ``catalog.snapshot``.

The Celery tasks (``recsys.tasks``) run these steps as prepare -> chord(encode batches) ->
plan_pairs -> chord(pair batches) -> finalize across workers; ``run`` runs them in this
process. Every step reads the Artefact row first and returns quietly if it is gone or no longer
open, so cancelled or finished runs absorb late deliveries. Any failure goes through
``mark_failed``: the row records the error and traceback, the staging folder is removed and the
previously active artefact stays active.

An open run proves it is alive by its heartbeat (``recsys.build.runs``): a run whose worker died is
failed by the reaper, or, if its artefact was already built, published and activated by it.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

from recsys.build import runs
from recsys.build.encoding import encode_batch
from recsys.build.finalizing import built, finalize, prune
from recsys.build.pairing import plan_pairs, score_pair_batch
from recsys.build.planning import missing_modality, prepare
from recsys.build.runs import mark_failed
from recsys.models import Artefact

__all__ = [
    "Progress",
    "built",
    "encode_batch",
    "finalize",
    "missing_modality",
    "plan_pairs",
    "prepare",
    "prune",
    "reap_stale_runs",
    "run",
    "score_pair_batch",
]

Progress = Callable[[int, int], None]


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
        for batch_no in range(plan_pairs(artefact_id) or 0):
            score_pair_batch(artefact_id, batch_no)
            report()
        finalize(artefact_id)
    except BaseException as exc:
        mark_failed(artefact_id, exc, traceback.format_exc())
        raise
    return Artefact.objects.get(pk=artefact_id)


def _recover(row: Artefact) -> bool:
    """Publish and activate a stale run whose artefact was completely built before it died."""
    if row.status != Artefact.Status.RUNNING or not built(row):
        return False
    finished = finalize(row.pk)
    return finished is not None and finished.status == Artefact.Status.READY


def reap_stale_runs(
    *,
    engine: str | None = None,
    resume: Callable[[Artefact], str | None] | None = None,
    queued: Callable[[], set[int] | None] | None = None,
) -> list[int]:
    """The reaper (``recsys.build.runs.reap_stale_runs``): stale runs with work waiting in the queue
    are left alone, those whose artefact is built are finished, those ``resume`` re-queues go on
    (reusing their finished batches), the others are failed; returns the ids closed."""
    return runs.reap_stale_runs(engine=engine, recover=_recover, resume=resume, queued=queued)
