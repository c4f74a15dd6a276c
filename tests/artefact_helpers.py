"""Write small, real artefacts for tests: the files ``recsys.artefacts`` reads plus the Artefact row.

Any test that needs an engine to be ready (service or API tests) calls ``write_artefact`` with a
few paintings and hand-chosen vectors; the service then loads it exactly as in production, from
``settings.RECSYS_ARTEFACT_ROOT`` through the per-process cache.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from catalog.models import Painting
from recsys.algorithms.scan_codes import build_into as build_scan_codes
from recsys.artefacts import files
from recsys.models import Artefact


def write_artefact(
    *,
    engine: str,
    paintings: Sequence[Painting],
    vectors: Sequence[Sequence[float]] | np.ndarray,
    version: str | None = None,
    activate: bool = True,
    dense: bool = True,
    neighbours_k: int | None = None,
    manifest: Mapping[str, Any] | None = None,
    scan_codes: bool = False,
) -> Artefact:
    """Publish an artefact of ``engine`` with one row per painting (rows L2-normalised).

    ``dense`` writes the m x m similarity, ``neighbours_k`` the top-k neighbour lists, ``scan_codes``
    demote's 8-bit codes (``recsys.algorithms.scan_codes``, whatever the size);
    ``manifest`` adds facts to the manifest. With ``activate`` the new row replaces the
    engine's active artefact, as the pipeline's activation does.
    """
    embeddings = np.asarray(vectors, dtype=np.float32)
    if embeddings.shape[0] != len(paintings):
        raise ValueError("one vector per painting")
    embeddings = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    version = version or f"{engine}-{uuid.uuid4().hex[:12]}"
    folder = files.final_dir(engine, version)
    painting_ids = np.array([p.pk for p in paintings], dtype=np.int64)
    files.save_local_array(folder / files.PAINTING_IDS, painting_ids)
    files.save_local_json(folder / files.EXTERNAL_IDS, [p.external_id for p in paintings])
    files.save_local_array(folder / files.EMBEDDINGS, embeddings)
    similarity = embeddings @ embeddings.T
    if dense:
        files.save_local_array(folder / files.SIMILARITY, similarity)
    if neighbours_k:
        masked = similarity.copy()
        np.fill_diagonal(masked, -np.inf)
        order = np.lexsort((np.broadcast_to(painting_ids, masked.shape), -masked), axis=1)[:, :neighbours_k]
        files.save_local_array(folder / files.NEIGHBOURS_IDX, order.astype(np.int32))
        files.save_local_array(folder / files.NEIGHBOURS_SIM, np.take_along_axis(similarity, order, axis=1))
    codes = build_scan_codes(embeddings, folder, min_bytes=0) if scan_codes else None
    payload = {
        "engine": engine,
        "version": version,
        "shapes": {"embeddings": list(embeddings.shape)},
        "scan_codes": codes,
        **(manifest or {}),
    }
    files.save_local_json(folder / files.MANIFEST, payload)
    now = timezone.now()
    with transaction.atomic():
        if activate:
            Artefact.objects.filter(engine=engine, is_active=True).update(is_active=False)
        return Artefact.objects.create(
            engine=engine,
            version=version,
            status=Artefact.Status.READY,
            is_active=activate,
            path=f"{engine}/{version}",
            manifest=payload,
            n_items=len(paintings),
            processed=len(paintings),
            total=len(paintings),
            started_at=now,
            finished_at=now,
            activated_at=now if activate else None,
        )
