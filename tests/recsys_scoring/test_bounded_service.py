"""Demote rankings through their bound (``EngineRun.bound``, ``recsys.algorithms.bounded``) give the
same first n as scoring every painting: single engines and score fusion, with and without the
dense similarity, on random unit vectors where most of the likes' neighbours are pushed down."""

import numpy as np
import pytest

from recsys.serving import recommend_runs
from recsys.serving.recommend_ranking import rank_late, rank_single
from recsys.serving.recommend_runs import engine_run
from recsys.serving.recommend_score import score_fused
from recsys.serving.recommenders import get_recommender
from recsys.serving.selectors import active_artefact
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory

SIZE = 90


@pytest.fixture
def catalogue(db):
    rng = np.random.default_rng(3)
    paintings = [PaintingFactory() for _ in range(SIZE)]
    base = rng.normal(size=(SIZE, 8))
    write_artefact(engine="minilm", paintings=paintings, vectors=base, dense=False)
    # LDA lacks every fifth painting (no text), with vectors close to MiniLM's
    kept = [p for i, p in enumerate(paintings) if i % 5]
    write_artefact(
        engine="lda", paintings=kept, vectors=base[[i % 5 != 0 for i in range(SIZE)]] + 0.3, dense=True
    )
    return paintings


def ratings_of(paintings, seed):
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(paintings), 9, replace=False)
    values = [5, 4] + [1] * 7  # few likes, many dislikes: the push moves the top
    return {paintings[i].pk: values[k] for k, i in enumerate(chosen)}


def items(result):
    return [(item.painting_id, round(item.score, 9)) for item in result]


def single_both_ways(ratings, n):
    """MiniLM's first n with every painting scored, then through the bound: (full, lazy, lazy run)."""
    art = active_artefact(engine="minilm")
    full = engine_run("minilm", art, ratings, "demote", full=True)
    lazy = engine_run("minilm", art, ratings, "demote", full=False)
    candidates = full.candidate_rows(set(ratings), None)
    return items(rank_single(full, candidates, n, 3)), items(rank_single(lazy, candidates, n, 3)), lazy


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [1, 9, 40])
def test_single_engine_bound_matches_every_score(catalogue, seed, n):
    ratings = ratings_of(catalogue, seed)
    run = engine_run("minilm", active_artefact(engine="minilm"), ratings, "demote", full=False)
    assert run.scores is None and run.profile is not None and not run.indexed  # nothing scored yet
    full, lazy, _ = single_both_ways(ratings, n)
    assert lazy == full


def both_ways(config, ratings, rank):
    """``rank(runs, candidates)`` with every painting scored, then with the bound: (full, lazy)."""
    answers = []
    for full in (True, False):
        runs = {
            engine: engine_run(engine, active_artefact(engine=engine), ratings, "demote", full=full)
            for engine in config.engines
        }
        candidates = {engine: run.candidate_rows(set(ratings), None) for engine, run in runs.items()}
        answers.append([(item.painting_id, item.score, item.engine_ranks) for item in rank(runs, candidates)])
    return answers


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [1, 9, 40])
def test_score_fusion_bound_matches_every_score(catalogue, seed, n):
    config = get_recommender("score-text")  # lda 0.1 + minilm 0.9
    full, lazy = both_ways(
        config, ratings_of(catalogue, seed), lambda runs, cands: score_fused(config, runs, cands, n, 0, 3)
    )
    assert lazy == full and len(full) == n


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [1, 9, 40])
@pytest.mark.parametrize("name", ["late-total", "late-partial"])
def test_late_fusion_through_the_bound_matches_every_score(catalogue, settings, seed, n, name):
    settings.RECSYS_RECOMMENDERS = {
        **settings.RECSYS_RECOMMENDERS,
        name: {"KIND": "late", "MODE": name.split("-")[1], "ENGINES": {"lda": 1.0, "minilm": 2.0}},
    }
    config = get_recommender(name)
    full, lazy = both_ways(
        config,
        ratings_of(catalogue, seed),
        lambda runs, cands: rank_late(config, runs, cands, n, config.depth or n, 3),
    )
    assert lazy == full
    assert len(full) == min(n, SIZE - 9)


@pytest.fixture
def coded(catalogue):
    """MiniLM again, now with demote's 8-bit codes (``recsys.algorithms.scan_codes``)."""
    base = np.random.default_rng(3).normal(size=(SIZE, 8))
    write_artefact(engine="minilm", paintings=catalogue, vectors=base, dense=False, scan_codes=True)
    assert active_artefact(engine="minilm").scan_codes is not None
    return catalogue


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [1, 9, 40])
def test_single_engine_through_the_scan_codes_matches_every_score(coded, seed, n):
    full, lazy, _ = single_both_ways(ratings_of(coded, seed), n)
    assert lazy == full


def test_likes_alone_are_ranked_from_the_codes_without_the_float32_pull(coded, monkeypatch):
    # 90 paintings: a pool of 72 would be scored all at once (WHOLE_FRACTION), as is right that small
    monkeypatch.setattr(recommend_runs, "WHOLE_FRACTION", 1)
    full, lazy, run = single_both_ways({painting.pk: 5 for painting in coded[:3]}, 9)
    assert lazy == full
    assert run.bound is None  # S = L with no dislike: the pool from the codes always clears u_out


@pytest.mark.parametrize("seed", range(6))
def test_late_fusion_through_the_scan_codes_matches_every_score(coded, settings, seed):
    settings.RECSYS_RECOMMENDERS = {
        **settings.RECSYS_RECOMMENDERS,
        "late-partial": {"KIND": "late", "MODE": "partial", "ENGINES": {"lda": 1.0, "minilm": 2.0}},
    }
    config = get_recommender("late-partial")
    full, lazy = both_ways(
        config, ratings_of(coded, seed), lambda runs, cands: rank_late(config, runs, cands, 9, 9, 3)
    )
    assert lazy == full and len(full) == 9
