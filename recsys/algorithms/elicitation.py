"""Elicitation from the collection's own structure, in pure numpy: k-means clusters of an
engine's unit embeddings, sets of one painting per cluster, and the adaptive choice of the
clusters a visitor's model is least sure about.

Clusters (``kmeans``): spherical k-means (cosine) on unit rows X (m x d), k-means++ seeding from
``numpy.random.default_rng(seed)``, Lloyd iterations until no assignment changes (at most
``iterations``):

    c_k = normalise(mean of the rows assigned to k)      a_i = argmax_k x_i . c_k

Clusters are ordered by size (largest first, ties by their smallest row), and each cluster's
members by closeness to its centre (x_i . c_k descending, ties by row): the first members are
its most typical paintings, the ones a visitor recognises the theme by.

Sets (``cluster_set``): set s of size n takes clusters s*n .. s*n + n - 1 (mod k), so consecutive
sets rotate through every cluster before repeating one, and from each cluster the painting at
position (seeded offset + number of times that cluster was used before) among its ``TYPICAL``
most typical members: the same seed gives the same sets, another seed other paintings.

Adaptive (``least_sure_clusters``): the visitor's model is the learned recommender's kernel ridge
(``recsys.algorithms.learned``, kernel k(i, j) = x_i . x_j, ridge lambda). Its uncertainty about a painting
x is the Gaussian-process posterior variance of that model,

    var(x) = k(x, x) - k_x^T (K + lambda I)^-1 k_x,        k_x = X_r x,  K = X_r X_r^T

(1 far from everything rated, near 0 next to a rated painting). The next set takes the n
clusters whose centres have the largest variance, not already shown, ties by cluster order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: a cluster's painting is drawn among this many of its most typical members
TYPICAL = 12
#: Lloyd iterations at most (the sample converges in about 20)
ITERATIONS = 50
#: a catalogue of m paintings gets at most m // MIN_CLUSTER_SIZE clusters
MIN_CLUSTER_SIZE = 10


def cluster_count(m: int, wanted: int) -> int:
    """How many clusters m paintings get: ``wanted``, fewer for a small catalogue (at least 1)."""
    return max(1, min(wanted, m // MIN_CLUSTER_SIZE))


@dataclass(frozen=True)
class Clusters:
    """k clusters of m rows: ``members[k]`` the rows of cluster k, most typical first."""

    centres: np.ndarray  # (k, d) unit rows
    members: tuple[np.ndarray, ...]

    @property
    def count(self) -> int:
        return len(self.members)


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def kmeans(x: np.ndarray, k: int, *, seed: int = 0, iterations: int = ITERATIONS) -> Clusters:
    """Spherical k-means of the unit rows ``x`` into ``min(k, m)`` clusters (see module docstring)."""
    x = np.asarray(x, dtype=np.float64)
    m = x.shape[0]
    k = min(k, m)
    if k < 1:
        raise ValueError("need at least one row and one cluster")
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(m))]
    closest = 1.0 - x @ x[chosen[0]]  # cosine distance to the nearest chosen centre
    for _ in range(1, k):
        weights = np.clip(closest, 0.0, None) ** 2
        total = weights.sum()
        pick = int(rng.choice(m, p=weights / total)) if total > 0 else int(rng.integers(m))
        chosen.append(pick)
        closest = np.minimum(closest, 1.0 - x @ x[pick])
    centres = x[chosen].copy()
    assign = np.full(m, -1)
    for _ in range(iterations):
        new = np.argmax(x @ centres.T, axis=1)
        if np.array_equal(new, assign):
            break
        assign = new
        for c in range(k):
            rows = x[assign == c]
            if rows.shape[0]:
                centres[c] = rows.sum(axis=0)
        centres = _unit(centres)
    groups = []
    for c in range(k):
        rows = np.flatnonzero(assign == c)
        if rows.size:
            closeness = x[rows] @ centres[c]
            groups.append((rows[np.lexsort((rows, -closeness))], centres[c]))
    groups.sort(key=lambda g: (-g[0].size, int(g[0].min())))
    return Clusters(np.array([g[1] for g in groups]), tuple(g[0] for g in groups))


def cluster_set(clusters: Clusters, *, size: int, set_number: int, seed: int) -> list[int]:
    """Rows of set ``set_number``: one painting from each of ``size`` consecutive clusters (with
    fewer clusters than ``size``, the set goes round them again, each time the next member)."""
    return deal(clusters, list(range(clusters.count)), size=size, start=set_number * size, seed=seed)


def deal(
    clusters: Clusters,
    order: list[int],
    *,
    size: int,
    start: int,
    seed: int,
    skip: frozenset[int] = frozenset(),
) -> list[int]:
    """``size`` rows dealt round-robin over the clusters in ``order`` from step ``start``: step t
    takes cluster order[t % len(order)], its member (seeded offset + t // len(order)) among its
    ``TYPICAL`` most typical ones; rows in ``skip`` (already rated) and repeats are passed over."""
    k = len(order)
    if k == 0 or size < 1:
        return []
    offset = int(np.random.default_rng(seed).integers(TYPICAL))
    out: list[int] = []
    taken = set(skip)
    step = start
    while len(out) < size and step < start + size * (TYPICAL + 1):
        members = [int(r) for r in clusters.members[order[step % k]]]
        typical = members[: min(TYPICAL, len(members))]
        row = typical[(offset + step // k) % len(typical)]
        if row not in taken:
            out.append(row)
            taken.add(row)
        step += 1
    return out


def posterior_variance(candidates: np.ndarray, rated: np.ndarray, lam: float) -> np.ndarray:
    """var(x) = k(x, x) - k_x^T (K + lambda I)^-1 k_x for each row x of ``candidates``."""
    candidates = np.asarray(candidates, dtype=np.float64)
    rated = np.asarray(rated, dtype=np.float64)
    prior = np.einsum("ij,ij->i", candidates, candidates)
    if rated.shape[0] == 0:
        return prior
    gram = rated @ rated.T + lam * np.eye(rated.shape[0])
    cross = rated @ candidates.T  # (n, c)
    return prior - np.einsum("ij,ij->j", cross, np.linalg.solve(gram, cross))


def least_sure_clusters(
    clusters: Clusters, *, rated: np.ndarray, lam: float, size: int, shown: set[int] = frozenset()
) -> list[int]:
    """The ``size`` clusters whose centres the model is least sure about (largest posterior
    variance), clusters in ``shown`` last; ties by cluster order."""
    variance = posterior_variance(clusters.centres, rated, lam)
    fresh = np.array([c not in shown for c in range(clusters.count)])
    order = np.lexsort((np.arange(clusters.count), -variance, ~fresh))
    return [int(c) for c in order[:size]]
