"""Tuned vs untuned spaces, judged on visitors the tuning never saw, and the learning curve.

``evaluate_tuning`` (``manage.py evaluate --tuned``):

1. simulates one pool of ``max(train_sizes) + test_visitors`` visitors (``simulate_visitors``,
   seed ``seed + TUNING_SEED_OFFSET``, the same taste groups as the main protocol) and splits it
   by a seeded permutation: the first ``test_visitors`` are the test set, the others the training
   pool (``split_visitors``: disjoint by construction, checked);
2. for each training size s (the learning curve: 0, 50, 200, 1,000 by default) tunes every ready
   engine on the ratings of the first s training visitors only (``tune_embeddings``, nested
   sets, so the curve is not shaken by drawing new visitors at each size); s = 0 is the untuned
   space;
3. scores the *test* visitors with the learned recommender (``learned:<engine>``) and eq. 1
   (``<engine>``, the configured weighting) in the untuned and in each tuned space, and reports
   nDCG@9 per row and the paired differences tuned - untuned on the same test visitors (mean,
   95% Student-t interval, relative change). The learned rows' ridge lambda: the untuned ones
   use the evaluation's (``--lambda``); in a tuned space cosines are larger and the best lambda
   differs, so it is chosen per training size by a sweep on *validation* visitors (a separate
   simulation, seed + 1, in neither set), never on the test visitors.

Co-rating (issue item 5, ``recsys.algorithms.corating``): ``learned:<engine>@tuned+co`` fuses the
tuned learned score with the item-item co-rating score of the same training visitors' ratings,
beta chosen on the validation visitors (0 = no co-rating); paired against the untuned learned row
here and against the tuned one under ``corating``.

Stored users (``users.Rating``) join when there are at least ``2 * MIN_STORED_USERS`` with >= 10
ratings: a seeded half trains (all their ratings), the other half is tested leave-k-out
(``leave_k_out_visitors``), tuned vs untuned; otherwise that part says why it was skipped.

A test visitor's ratings never reach ``tune_embeddings``: the histories are built from the
training visitors only, and the report lists both sides' ids.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from config.exceptions import ValidationFailed
from recsys.algorithms import scoring
from recsys.algorithms.corating import corating_matrix, corating_scores, fused
from recsys.algorithms.learned import TUNED_LAMBDA, learned_scores, painting_union
from recsys.algorithms.tuning import TuningParams, tune_embeddings
from recsys.artefacts.reader import LoadedArtefact
from recsys.evaluation import metrics
from recsys.evaluation.recommenders import EMPTY, EvalRecommender, Ranked, core_ranking, learned
from recsys.evaluation.visitors import TasteGroup, Visitor, leave_k_out_visitors, simulate_visitors
from recsys.serving.recommenders import SINGLE, RecommenderConfig
from recsys.serving.tuned_view import tuned_view

TRAIN_SIZES = (0, 50, 200, 1000)
TEST_VISITORS = 300
TUNING_SEED_OFFSET = 7
K = 9
MIN_STORED_USERS = 5


def split_visitors(
    visitors: Sequence[Visitor], *, test: int, seed: int
) -> tuple[list[Visitor], list[Visitor]]:
    """(training pool, test set): a seeded permutation, the first ``test`` are the test set."""
    if not 0 < test < len(visitors):
        raise ValueError(f"cannot hold out {test} of {len(visitors)} visitors")
    order = np.random.default_rng(seed).permutation(len(visitors))
    held = [visitors[i] for i in order[:test]]
    pool = [visitors[i] for i in order[test:]]
    if {v.id for v in held} & {v.id for v in pool}:  # ids are unique in one simulation
        raise AssertionError("a visitor is both in the training pool and the test set")
    return pool, held


def histories(visitors: Sequence[Visitor], rows: Mapping[int, int]) -> list[dict[int, int]]:
    """Each visitor's ratings as row index -> rating (``rows``: pk -> row; unknown pks dropped)."""
    return [{rows[pk]: value for pk, value in v.ratings.items() if pk in rows} for v in visitors]


def _union_embeddings(artefacts: Mapping[str, LoadedArtefact]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The union's painting ids and each engine's (m, d) rows over it (zero rows where absent)."""
    union = painting_union(artefacts)
    out = {}
    for engine, art in artefacts.items():
        block = np.zeros((union.painting_ids.shape[0], art.embeddings.shape[1]), dtype=np.float32)
        present = union.rows[engine] >= 0
        block[present] = art.embeddings[union.rows[engine][present]]
        out[engine] = block
    return union.painting_ids, out


def _eq1(engine: str, art: LoadedArtefact, allowed: np.ndarray, weighting: str, name: str) -> EvalRecommender:
    config = RecommenderConfig(name=name, kind=SINGLE, engines={engine: 1.0})

    def rank(ratings: Mapping[int, int], n: int) -> Any:
        return core_ranking(
            config=config, artefacts={engine: art}, ratings=ratings, n=n, allowed=allowed, weighting=weighting
        )

    return EvalRecommender(name, SINGLE, (engine,), rank, None)


RIDGE_LAMBDAS = (1.0, 3.0, 10.0, 30.0, 100.0)


def _best_lambdas(
    artefacts: Mapping[str, LoadedArtefact], allowed: np.ndarray, validation: Sequence[Visitor]
) -> tuple[dict[str, float], dict[str, list[dict[str, Any]]]]:
    """Per engine, the ridge lambda of ``learned:<engine>`` with the best mean nDCG@9 on the
    validation visitors (ties: the smaller lambda), and the sweeps."""
    best, sweeps = {}, {}
    for engine, art in artefacts.items():
        sweep = [
            {"lambda": lam, "ndcg@9": _estimate(_ndcg(learned({engine: art}, allowed, lam), validation))}
            for lam in RIDGE_LAMBDAS
        ]
        best[engine] = max(sweep, key=lambda entry: (entry["ndcg@9"]["mean"], -entry["lambda"]))["lambda"]
        sweeps[engine] = sweep
    return best, sweeps


def _rows(
    artefacts: Mapping[str, LoadedArtefact],
    allowed: np.ndarray,
    lam: float | Mapping[str, float],
    weighting: str,
    suffix: str,
) -> list[EvalRecommender]:
    """learned:<engine> (ridge ``lam``, or ``lam[engine]``) and <engine> (eq. 1) for each engine,
    named with ``suffix``."""
    out = []
    for engine, art in artefacts.items():
        rec = learned({engine: art}, allowed, lam[engine] if isinstance(lam, Mapping) else lam)
        out.append(EvalRecommender(f"learned:{engine}{suffix}", rec.kind, rec.engines, rec.rank, None))
        out.append(_eq1(engine, art, allowed, weighting, f"{engine}{suffix}"))
    return out


BETAS = (0.0, 0.3, 1.0, 3.0)


def _with_corating(
    engine: str,
    art: LoadedArtefact,
    allowed: np.ndarray,
    lam: float,
    matrix: Any,
    union_ids: np.ndarray,
    beta: float,
) -> EvalRecommender:
    """learned:<engine>@tuned+co: the learned score fused with co-rating (``fused``)."""
    mine = {engine: art}
    ids = painting_union(mine).painting_ids
    allowed_mask = np.isin(ids, allowed)
    in_matrix = np.searchsorted(union_ids, ids)  # the engine's paintings are in the training union

    def rank(ratings: Mapping[int, int], n: int) -> Ranked:
        try:
            fit = learned_scores(artefacts=mine, ratings=ratings, lam=lam)
        except ValidationFailed:
            return EMPTY
        rows = np.searchsorted(union_ids, np.fromiter(ratings, dtype=np.int64))
        known = rows < union_ids.shape[0]
        known[known] = union_ids[rows[known]] == np.fromiter(ratings, dtype=np.int64)[known]
        values = list(ratings.values())
        co = corating_scores(matrix, {int(r): values[i] for i, r in enumerate(rows) if known[i]})[in_matrix]
        score = fused(fit.scores, co, beta)
        keep = np.flatnonzero(allowed_mask & ~np.isin(ids, list(ratings)))
        top = keep[scoring.top_n(score[keep], ids[keep], n)]
        return Ranked(ids[top], score[top])

    return EvalRecommender(f"learned:{engine}@tuned+co", "learned", (engine,), rank, None)


def _corating_rows(
    views: Mapping[str, LoadedArtefact],
    allowed: np.ndarray,
    lams: Mapping[str, float],
    pool: Sequence[Visitor],
    validation: Sequence[Visitor],
) -> tuple[list[EvalRecommender], dict[str, float]]:
    """Per engine, learned@tuned+co with beta chosen on the validation visitors."""
    union_ids, _ = _union_embeddings(views)
    rows = {int(pk): i for i, pk in enumerate(union_ids.tolist())}
    matrix = corating_matrix(histories(pool, rows), union_ids.shape[0])
    recs, betas = [], {}
    for engine, art in views.items():
        options = [_with_corating(engine, art, allowed, lams[engine], matrix, union_ids, b) for b in BETAS]
        means = [float(np.mean(_ndcg(rec, validation))) for rec in options]
        best = int(np.argmax(means))
        betas[engine] = BETAS[best]
        recs.append(options[best])
    return recs, betas


def _ndcg(rec: EvalRecommender, visitors: Sequence[Visitor]) -> list[float]:
    return [metrics.ndcg_at_k(rec.rank(v.ratings, K).pks.tolist(), v.relevant, K) for v in visitors]


def _estimate(values: Sequence[float]) -> dict[str, Any]:
    return metrics.mean_ci(values).as_dict()


def _compare(
    untuned: Mapping[str, list[float]], tuned: Mapping[str, list[float]], suffix: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rows = {name: _estimate(values) for name, values in tuned.items()}
    paired = []
    for name, values in tuned.items():
        base_name = name.split(suffix)[0]
        base = untuned[base_name]
        diff = np.asarray(values) - np.asarray(base)
        mean_base = float(np.mean(base)) if base else 0.0
        paired.append(
            {
                "a": name,
                "b": base_name,
                "ndcg@9_difference": _estimate(diff.tolist()),
                "relative": float(diff.mean() / mean_base) if mean_base else None,
            }
        )
    return rows, paired


def _tuned_artefacts(
    artefacts: Mapping[str, LoadedArtefact],
    pool: Sequence[Visitor],
    *,
    seed: int,
    tag: str,
    params: TuningParams | None,
) -> tuple[dict[str, LoadedArtefact], dict[str, Any]]:
    ids, embeddings = _union_embeddings(artefacts)
    rows = {int(pk): i for i, pk in enumerate(ids.tolist())}
    _, report = tune_embeddings(embeddings, histories(pool, rows), seed=seed, params=params)
    views = {engine: tuned_view(art, report.projections[engine], tag) for engine, art in artefacts.items()}
    return views, report.as_dict()


def _stored_part(
    artefacts: Mapping[str, LoadedArtefact],
    stored: Mapping[int, Mapping[int, int]],
    candidates: np.ndarray,
    untuned_recs: Sequence[EvalRecommender],
    *,
    seed: int,
    lam: float,
    weighting: str,
    params: TuningParams | None,
) -> dict[str, Any]:
    allowed = set(candidates.tolist())
    users = sorted(u for u, ratings in stored.items() if sum(pk in allowed for pk in ratings) >= 10)
    if len(users) < 2 * MIN_STORED_USERS:
        return {
            "status": "skipped",
            "reason": f"{len(users)} stored users with >= 10 ratings (at least {2 * MIN_STORED_USERS} "
            "needed: half train, half are tested leave-k-out)",
            "users": len(users),
        }
    order = np.random.default_rng(seed).permutation(len(users))
    train_users = [users[i] for i in order[len(users) // 2 :]]
    test_users = [users[i] for i in order[: len(users) // 2]]
    test = leave_k_out_visitors(
        ratings_by_user={u: stored[u] for u in test_users}, candidates=candidates, seed=seed
    )
    train = [Visitor(u, f"user-{u}", "stored", dict(stored[u]), frozenset()) for u in train_users]
    views, training = _tuned_artefacts(artefacts, train, seed=seed, tag="eval-stored", params=params)
    untuned = {rec.name: _ndcg(rec, test) for rec in untuned_recs}
    tuned = {
        rec.name: _ndcg(rec, test) for rec in _rows(views, candidates, TUNED_LAMBDA, weighting, "@tuned")
    }
    rows, paired = _compare(untuned, tuned, "@tuned")
    return {
        "status": "ok",
        "train_users": len(train),
        "test_users": len(test),
        "untuned": {name: _estimate(v) for name, v in untuned.items()},
        "tuned": rows,
        "paired": paired,
        "training": training,
    }


def evaluate_tuning(
    *,
    artefacts: Mapping[str, LoadedArtefact],
    candidates: np.ndarray,
    groups: Sequence[TasteGroup],
    story_groups: Sequence[np.ndarray],
    stored: Mapping[int, Mapping[int, int]],
    seed: int,
    lam: float,
    weighting: str,
    train_sizes: Sequence[int] = TRAIN_SIZES,
    test_visitors: int = TEST_VISITORS,
    params: TuningParams | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """The report's ``tuning`` part (see the module docstring)."""
    started = time.perf_counter()
    sizes = sorted(set(train_sizes))
    pool_seed = seed + TUNING_SEED_OFFSET
    everyone = simulate_visitors(
        groups=groups,
        story_groups=story_groups,
        candidates=candidates,
        count=max(sizes) + test_visitors,
        seed=pool_seed,
    )
    pool, test = split_visitors(everyone, test=test_visitors, seed=pool_seed)
    validation = simulate_visitors(
        groups=groups,
        story_groups=story_groups,
        candidates=candidates,
        count=test_visitors,
        seed=pool_seed + 1,
    )
    untuned_recs = _rows(artefacts, candidates, lam, weighting, "")
    progress(f"tuning: untuned rows on {len(test)} test visitors")
    untuned = {rec.name: _ndcg(rec, test) for rec in untuned_recs}
    curve = []
    for size in sizes:
        if size == 0:  # no training visitor: the untuned space itself (differences are 0)
            rows, paired = _compare(untuned, {f"{n}@tuned": v for n, v in untuned.items()}, "@tuned")
            curve.append(
                {
                    "train_visitors": 0,
                    "training": None,
                    "learned_lambda": dict.fromkeys(artefacts, lam),
                    "rows": rows,
                    "paired": paired,
                }
            )
            continue
        progress(f"tuning: training on {size} visitors")
        views, training = _tuned_artefacts(
            artefacts, pool[:size], seed=seed, tag=f"eval-{pool_seed}-{size}", params=params
        )
        progress(f"tuning: {size} -> lambda on validation visitors, then test visitors")
        best, sweep = _best_lambdas(views, candidates, validation)
        tuned = {rec.name: _ndcg(rec, test) for rec in _rows(views, candidates, best, weighting, "@tuned")}
        progress(f"tuning: {size} -> co-rating, beta on validation visitors")
        co_recs, betas = _corating_rows(views, candidates, best, pool[:size], validation)
        co = {rec.name: _ndcg(rec, test) for rec in co_recs}
        rows, paired = _compare(untuned, {**tuned, **co}, "@tuned")
        _, co_vs_tuned = _compare(
            tuned, {name.replace("+co", "") + "+co": v for name, v in co.items()}, "+co"
        )
        curve.append(
            {
                "train_visitors": size,
                "training": training,
                "learned_lambda": best,
                "lambda_sweep": sweep,
                "rows": rows,
                "paired": paired,
                "corating": {"beta": betas, "paired_vs_tuned": co_vs_tuned},
            }
        )
    progress("tuning: stored users")
    stored_part = _stored_part(
        artefacts, stored, candidates, untuned_recs, seed=seed, lam=lam, weighting=weighting, params=params
    )
    return {
        "status": "ok",
        "seed": pool_seed,
        "train_sizes": sizes,
        "test_visitors": len(test),
        "test_ids": sorted(v.id for v in test),
        "train_ids": sorted(v.id for v in pool[: max(sizes)]),
        "validation_seed": pool_seed + 1,
        "engines": list(artefacts),
        "untuned": {name: _estimate(values) for name, values in untuned.items()},
        "curve": curve,
        "stored": stored_part,
        "seconds": round(time.perf_counter() - started, 1),
    }
