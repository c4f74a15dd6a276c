"""Which paintings a visitor rates first: curated story groups when curators flagged any, else the
collection's own structure (issue 17).

Strategies (``STRATEGIES``):

* ``story-groups``: ``catalog.selectors.elicitation_set``, one painting of each of 9 story groups
  flagged "use in elicitation", in the curators' order. Whenever curators flagged a group that
  has a viewable painting, this is what every visitor gets;
* ``clusters``: spherical k-means (``recsys.algorithms.elicitation``) of the elicitation
  engine's embeddings over the paintings with a viewable image, ``CLUSTER_COUNT`` clusters; set s
  holds one typical painting of each of 9 consecutive clusters, so sets rotate over the clusters;
* ``adaptive``: the first set as ``clusters``; once the visitor has rated, the next set comes
  from the 9 clusters the kernel ridge model of their ratings is least sure about (largest
  posterior variance), no rated painting again.

The elicitation engine is the first ready one of ``settings.RECSYS_ELICITATION_ENGINES``. With
no curated group and no ready engine, every story group with a viewable painting is used (the
story-groups rule without the flag), so a fresh install still shows a set. The default strategy
is the one ``manage.py evaluate --end-to-end --decide`` chose (``recsys.evaluation.decision``),
else ``settings.RECSYS_ELICITATION``.

Clusters are computed once per (engine version, viewable paintings), shared through Django's
cache and kept per process (``_memo``): 1.9 s for the sample's 5,976 viewable paintings in
MiniLM's 384 dimensions on the shared 2-core machine (the first visitor after a new artefact or
catalogue change waits that long), then 30 ms a set.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.cache import cache

from catalog.models import Painting
from catalog.selectors import (
    ELICITATION_SIZE,
    collection_source,
    elicitation_groups,
    elicitation_set,
    painting_queryset,
)
from config.exceptions import EngineUnavailable
from recsys.algorithms import elicitation as maths
from recsys.algorithms.learned import DEFAULT_LAMBDA
from recsys.artefacts.reader import LoadedArtefact
from recsys.serving.recommenders import decision
from recsys.serving.selectors import active_artefact

STORY_GROUPS, CLUSTERS, ADAPTIVE = "story-groups", "clusters", "adaptive"
STRATEGIES = (STORY_GROUPS, CLUSTERS, ADAPTIVE)
#: 4 sets of 9 before a cluster repeats
CLUSTER_COUNT = 36
#: how long the cache keeps a clustering (its key names the artefact version and the paintings)
CLUSTERS_CACHE_S = 7 * 24 * 3600


@dataclass(frozen=True)
class Space:
    """The viewable paintings in one engine's space and their clusters."""

    engine: str
    version: str
    pks: np.ndarray  # sorted viewable painting pks the artefact represents
    vectors: np.ndarray  # their unit embeddings (rows in pks order)
    clusters: maths.Clusters  # over rows of ``vectors``


@dataclass(frozen=True)
class ElicitationSet:
    strategy: str  # the strategy that chose the set
    engine: str | None  # the clusters' engine (None: story groups)
    pks: list[int]
    paintings: list[Painting] | None = None  # story groups: already read


_memo: dict[tuple[str, str, str], Space] = {}
_memo_lock = threading.Lock()


def _clusters(key: tuple[str, str, str], vectors: np.ndarray, seed: int) -> maths.Clusters:
    """k-means of ``vectors``, shared through the cache: the first process computes it, the
    others (gunicorn workers, the next deploy's) read it (a failing cache only costs the time)."""
    if not vectors.shape[0]:
        return maths.Clusters(np.empty((0, 0)), ())
    name = "recsys:elicitation-clusters:" + hashlib.sha256(repr((key, seed)).encode()).hexdigest()
    found = None
    with contextlib.suppress(Exception):  # the cache only saves time: down, it is computed here
        found = cache.get(name)
    if isinstance(found, maths.Clusters):
        return found
    clusters = maths.kmeans(vectors, maths.cluster_count(vectors.shape[0], CLUSTER_COUNT), seed=seed)
    with contextlib.suppress(Exception):
        cache.set(name, clusters, timeout=CLUSTERS_CACHE_S)
    return clusters


def space_of(art: LoadedArtefact, engine: str, viewable: np.ndarray, *, seed: int = 0) -> Space:
    """The clusters of ``viewable`` (sorted pks) in ``art`` (memoised per process)."""
    digest = hashlib.sha256(np.ascontiguousarray(viewable, dtype=np.int64).tobytes()).hexdigest()
    key = (engine, art.version, digest)
    space = _memo.get(key)
    if space is None:
        rows, found = art.row_of.rows(np.asarray(viewable, dtype=np.int64))
        pks, rows = np.asarray(viewable, dtype=np.int64)[found], rows[found]
        vectors = np.asarray(art.embeddings[rows], dtype=np.float64)
        space = Space(engine, art.version, pks, vectors, _clusters(key, vectors, seed))
        with _memo_lock:
            if len(_memo) >= 8:
                _memo.clear()
            _memo[key] = space
    return space


def cluster_pks(space: Space, *, seed: int, set_number: int, size: int = ELICITATION_SIZE) -> list[int]:
    """Set ``set_number`` of the ``clusters`` strategy, as painting pks."""
    rows = maths.cluster_set(space.clusters, size=size, set_number=set_number, seed=seed)
    return [int(space.pks[row]) for row in rows]


def adaptive_pks(
    space: Space, *, ratings: Mapping[int, int], seed: int, set_number: int, size: int = ELICITATION_SIZE
) -> list[int]:
    """The ``adaptive`` strategy: the clusters' set while nothing is rated, then the least sure
    clusters' most typical paintings the visitor has not rated."""
    rated_rows = np.flatnonzero(np.isin(space.pks, np.fromiter(ratings, dtype=np.int64, count=len(ratings))))
    if rated_rows.size == 0:
        return cluster_pks(space, seed=seed, set_number=set_number, size=size)
    cluster_of = np.empty(space.pks.size, dtype=np.intp)
    for c, members in enumerate(space.clusters.members):
        cluster_of[members] = c
    shown = {int(c) for c in cluster_of[rated_rows]}
    order = maths.least_sure_clusters(
        space.clusters,
        rated=space.vectors[rated_rows],
        lam=DEFAULT_LAMBDA,
        size=space.clusters.count,
        shown=shown,
    )
    rows = maths.deal(
        space.clusters,
        order[:size],
        size=size,
        start=0,
        seed=seed + set_number,
        skip=frozenset(rated_rows.tolist()),
    )
    return [int(space.pks[row]) for row in rows]


def elicitation_engine() -> tuple[str, LoadedArtefact] | None:
    """The first ready engine of ``RECSYS_ELICITATION_ENGINES`` with embeddings, or None."""
    for engine in settings.RECSYS_ELICITATION_ENGINES:
        try:
            art = active_artefact(engine=engine)
        except EngineUnavailable:
            continue
        if getattr(art, "embeddings", None) is not None:
            return engine, art
    return None


def _viewable_pks(collection: str | None = None) -> np.ndarray:
    pks = painting_queryset().order_by().filter(image_status=Painting.ImageStatus.OK).exclude(image="")
    if collection is not None:  # a museum app's key restricted to its collection
        pks = pks.filter(source=collection_source(collection))
    return np.sort(np.fromiter(pks.values_list("pk", flat=True), dtype=np.int64))


def elicitation_pks(
    *,
    seed: int,
    set_number: int = 0,
    size: int = ELICITATION_SIZE,
    strategy: str | None = None,
    ratings: Mapping[int, int] | None = None,
    per_group: int | None = None,
    collection: str | None = None,
) -> ElicitationSet:
    """The set a visitor rates (see the module docstring for which strategy answers)."""
    decided = decision().get("elicitation")
    wanted = strategy or (decided if decided in STRATEGIES else settings.RECSYS_ELICITATION)
    curated = elicitation_groups().exists()
    found = None if curated or wanted == STORY_GROUPS else elicitation_engine()
    if found is None:
        paintings = elicitation_set(
            seed=seed,
            per_group=per_group,
            size=size,
            set_number=set_number,
            collection=collection,
            curated_only=curated,
        )
        return ElicitationSet(STORY_GROUPS, None, [p.pk for p in paintings], paintings)
    engine, art = found
    space = space_of(art, engine, _viewable_pks(collection))
    if wanted == ADAPTIVE:
        pks = adaptive_pks(space, ratings=ratings or {}, seed=seed, set_number=set_number, size=size)
    else:
        pks = cluster_pks(space, seed=seed, set_number=set_number, size=size)
    return ElicitationSet(wanted, engine, pks)


def elicitation_paintings(**kwargs: object) -> tuple[ElicitationSet, list[Painting]]:
    """``elicitation_pks`` and its paintings (with artist and story group), in the set's order."""
    chosen = elicitation_pks(**kwargs)  # type: ignore[arg-type]
    if chosen.paintings is not None:
        return chosen, chosen.paintings
    by_pk = painting_queryset().in_bulk(chosen.pks)
    return chosen, [by_pk[pk] for pk in chosen.pks if pk in by_pk]
