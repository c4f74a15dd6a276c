"""Clusters, sets and the adaptive choice (``recsys.algorithms.elicitation``) on points checked by hand."""

import numpy as np
import pytest

from recsys.algorithms import elicitation


def blobs():
    """Three tight groups of unit vectors around the axes of 3-d: 5 near x, 4 near y, 3 near z."""
    rng = np.random.default_rng(1)
    rows = []
    for axis, count in ((0, 5), (1, 4), (2, 3)):
        for _ in range(count):
            v = np.full(3, 0.0)
            v[axis] = 1.0
            v += rng.normal(scale=0.05, size=3)
            rows.append(v / np.linalg.norm(v))
    return np.array(rows)


def test_kmeans_finds_the_three_groups_largest_first():
    clusters = elicitation.kmeans(blobs(), 3, seed=0)
    assert [sorted(m.tolist()) for m in clusters.members] == [[0, 1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11]]
    assert np.argmax(clusters.centres, axis=1).tolist() == [0, 1, 2]


def test_members_are_ordered_by_closeness_to_the_centre():
    clusters = elicitation.kmeans(blobs(), 3, seed=0)
    x = blobs()
    for members, centre in zip(clusters.members, clusters.centres, strict=True):
        closeness = x[members] @ centre
        assert np.all(np.diff(closeness) <= 1e-12)


def test_sets_rotate_through_the_clusters():
    clusters = elicitation.kmeans(blobs(), 3, seed=0)
    first = elicitation.cluster_set(clusters, size=2, set_number=0, seed=5)
    second = elicitation.cluster_set(clusters, size=2, set_number=1, seed=5)
    group = {row: c for c, members in enumerate(clusters.members) for row in members.tolist()}
    assert [group[r] for r in first] == [0, 1]
    assert [group[r] for r in second] == [2, 0]
    assert second[1] != first[0]  # cluster 0 again: its next typical painting
    assert elicitation.cluster_set(clusters, size=2, set_number=0, seed=5) == first


def test_posterior_variance_by_hand():
    # rated e1 with lambda 1: var(x) = 1 - (x . e1)^2 / 2
    rated = np.array([[1.0, 0.0]])
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    assert elicitation.posterior_variance(x, rated, 1.0) == pytest.approx([0.5, 1.0, 1 - 0.36 / 2])


def test_adaptive_picks_the_clusters_furthest_from_what_was_rated():
    clusters = elicitation.kmeans(blobs(), 3, seed=0)
    rated = blobs()[[0, 5]]  # one of the x group, one of the y group
    assert elicitation.least_sure_clusters(clusters, rated=rated, lam=1.0, size=1) == [2]
    assert elicitation.least_sure_clusters(clusters, rated=rated, lam=1.0, size=1, shown={2})[0] in (0, 1)
