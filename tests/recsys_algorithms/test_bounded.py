"""The exact top n through an upper bound (``recsys.algorithms.bounded``): the module's worked
example, and the same answer as ranking every exact score."""

import numpy as np
import pytest

from recsys.algorithms import bounded, demote, scoring

U = np.array([0.9, 0.8, 0.7, 0.2])
S = np.array([0.1, 0.8, 0.6, 0.2])
KEYS = np.array([10, 11, 12, 13])


class Recorder:
    """``exact`` that remembers which positions it was asked for."""

    def __init__(self, scores: np.ndarray) -> None:
        self.scores, self.asked = scores, []

    def __call__(self, positions: np.ndarray) -> np.ndarray:
        self.asked.append(positions.tolist())
        return self.scores[positions]


def test_worked_example_n1_stops_at_the_first_pool():
    exact = Recorder(S)
    positions, scores = bounded.bounded_top_n(bound=U, keys=KEYS, n=1, exact=exact, pool=2)
    assert positions.tolist() == [1] and scores.tolist() == [0.8]
    assert exact.asked == [[0, 1]]  # u_out = 0.7 < s_1 = 0.8: entries 2 and 3 never scored


def test_worked_example_n2_grows_to_every_entry():
    exact = Recorder(S)
    positions, scores = bounded.bounded_top_n(bound=U, keys=KEYS, n=2, exact=exact, pool=2)
    assert positions.tolist() == [1, 2] and scores.tolist() == [0.8, 0.6]
    assert exact.asked == [[0, 1], [0, 1, 2, 3]]  # s_2 = 0.1 <= u_out = 0.7: K 2 -> 8 (all)


def test_a_tie_with_the_best_outside_entry_is_not_trusted():
    # s_1 = 0.7 equals the outside bound 0.7 of key 5, whose S could be 0.7 and win on its key
    bound, exact_scores, keys = np.array([0.9, 0.7]), np.array([0.7, 0.7]), np.array([9, 5])
    positions, _ = bounded.bounded_top_n(bound=bound, keys=keys, n=1, exact=Recorder(exact_scores), pool=1)
    assert keys[positions].tolist() == [5]


def test_no_entries_or_no_n():
    assert bounded.bounded_top_n(bound=np.empty(0), keys=np.empty(0), n=3, exact=Recorder(S))[0].size == 0
    assert bounded.bounded_top_n(bound=U, keys=KEYS, n=0, exact=Recorder(S))[0].size == 0


def test_n_above_the_size_returns_everything_ranked():
    positions, _ = bounded.bounded_top_n(bound=U, keys=KEYS, n=9, exact=Recorder(S))
    assert positions.tolist() == [1, 2, 3, 0]


@pytest.mark.parametrize("seed", range(20))
def test_demote_through_its_bound_equals_ranking_every_score(seed):
    rng = np.random.default_rng(seed)
    embeddings = rng.normal(size=(500, 16)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    rated = rng.choice(500, 9, replace=False)
    weights = demote.demote_weights(rng.integers(1, 6, size=9))
    keys = np.arange(500) * 3 + 7
    full = demote.demote_scores(embeddings=embeddings, rated_rows=rated, weights=weights)
    full = np.round(full, 3)  # many exact ties, so the key order matters too
    pull = np.maximum(
        np.round(demote.demote_pull(embeddings=embeddings, rated_rows=rated, weights=weights), 3), full
    )
    n = int(rng.integers(1, 40))
    positions, scores = bounded.bounded_top_n(bound=pull, keys=keys, n=n, exact=lambda at: full[at])
    expected = scoring.top_n(full, keys, n)
    assert positions.tolist() == expected.tolist()
    assert scores.tolist() == full[expected].tolist()


def test_a_prefix_starts_from_a_pool_of_twice_its_length():
    keys = np.arange(5000, dtype=np.int64)
    scores = np.linspace(1.0, 0.0, keys.size)
    exact = Recorder(scores)
    positions, got = bounded.prefix(bounded.BoundedList(keys=keys, bound=scores + 0.0, exact=exact), 72)
    assert positions.tolist() == list(range(72)) and got.tolist() == scores[:72].tolist()
    assert [len(asked) for asked in exact.asked] == [144]  # never the 5,000 paintings
