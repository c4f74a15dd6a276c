"""The offline evaluation: every ready recommender against simulated and held-out visitors.

``evaluate(...)`` returns (and ``recsys.evaluation.report.write_report`` stores, by default at
``VAR_DIR/evaluation/latest.json``) one JSON document. Its schema (version 1) is read by other
pages (e.g. an A/B analysis page): fields are only ever added, a breaking change bumps ``schema``.

    {
      "schema": 1,
      "created": ISO 8601 time, "seconds": wall time of the run,
      "seed": int, "collection": str | null, "k": 9, "recall_k": 50,
      "candidates": int,                      # paintings recommendations are drawn from
      "engines": {engine: artefact version},  # the ready engines used
      "unavailable_engines": {engine: reason},
      "diversity_engine": str,                # unit embeddings that ILD is measured under
      "popularity": {"ratings": int, "users": int},   # stored ratings behind novelty
      "groups": {kind: number of taste groups},
      "protocols": {
        "simulated": Protocol,
        "leave_k_out": Protocol | {"status": "skipped", "reason": str, "users": int}
      },
      "score": {"betas": [float],             # the weight of a in "score:a+b" rows, swept
                "sweeps": {"a+b": [{"beta": float, "ndcg@9": Estimate}]},  # on validation visitors
                "best_beta": {"a+b": float},  # what the "score:a+b" rows use
                "validation_seed": int},
      "learned": {"lambda": float,            # what the "learned:*" rows use
                  "sweep": [{"lambda": float, "ndcg@9": Estimate}],   # on validation visitors
                  "validation_seed": int, "best_lambda": float},
      "mmr": {"pool": 50, "lambdas": [float],
              "curves": {recommender: [{"lambda": float, "ndcg@9": Estimate, "ild": Estimate}]}},
      "tuning": Tuning | {"status": "skipped", "reason": str}    # ``--tuned``
    }
    Tuning = {"status": "ok", "seed": int, "train_sizes": [int], "test_visitors": int,
              "test_ids": [int], "train_ids": [int], "engines": [str], "seconds": float,
              "untuned": {row: Estimate},                          # on the test visitors
              "curve": [{"train_visitors": int, "training": tune_embeddings report | null,
                         "learned_lambda": {engine: float},   # chosen on validation visitors
                         "lambda_sweep": {engine: [{"lambda", "ndcg@9": Estimate}]},
                         "corating": {"beta": {engine: float},  # learned@tuned+co (validation)
                                      "paired_vs_tuned": [paired entries]},
                         "rows": {"<row>@tuned": Estimate},
                         "paired": [{"a": "<row>@tuned", "b": row, "ndcg@9_difference": Estimate,
                                     "relative": float | null}]}],
              "stored": {"status": "ok" | "skipped", ...}}      # see recsys.evaluation.tuned
    Protocol = {"status": "ok", "visitors": int, "by_kind": {kind: visitors}, "coverage_ceiling": float,
                "recommenders": {name: Row},
                "paired": [{"a": learned or score row, "b": eq.-1 or late row on a subset of its engines,
                            "ndcg@9_difference": Estimate (a - b per visitor),
                            "relative": mean difference / b's mean nDCG@9}]}
    Row = {"kind": "single" | "early" | "late" | "learned" | "score" | "paper" | "random",
           "engines": [str], "ndcg@9": Estimate, "precision@9": Estimate, "recall@50": Estimate,
           "ild": Estimate, "novelty": Estimate | null, "popularity_rank": Estimate | null,
           "coverage": float, "empty_lists": int, "median_ms": float,
           "ndcg@9_by_kind": {kind: Estimate}}
    Estimate = {"mean": float, "ci95": [low, high], "n": int}   # Student t over visitors

Metric definitions: ``recsys.evaluation.metrics``; visitors: ``recsys.evaluation.visitors``;
recommenders: ``recsys.evaluation.recommenders``; one protocol's rows, MMR curves and paired
comparisons: ``recsys.evaluation.protocol``; the lambda and beta sweeps:
``recsys.evaluation.sweeps``; storing the report and its Markdown tables:
``recsys.evaluation.report``. NaN never appears: a metric without data is
an Estimate with n = 0 and null numbers (novelty is null when no rating is stored).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from config.exceptions import EngineUnavailable
from recsys.algorithms.learned import DEFAULT_LAMBDA
from recsys.artefacts.reader import LoadedArtefact
from recsys.evaluation import selectors
from recsys.evaluation.protocol import MMR_LAMBDAS, RECALL_K, K, Lookup, clean, run_protocol
from recsys.evaluation.recommenders import build
from recsys.evaluation.sweeps import SCORE_BETAS, best_value, beta_sweep, ridge_sweep
from recsys.evaluation.tuned import TEST_VISITORS, TRAIN_SIZES, evaluate_tuning
from recsys.evaluation.visitors import FEW_LIKES, leave_k_out_visitors, simulate_visitors
from recsys.serving.recommenders import preferred_recommender, recommenders
from recsys.serving.selectors import active_artefact

SCHEMA = 1
#: leave-k-out runs when at least this many stored users qualify
MIN_STORED_USERS = 5
#: the few-likes visitors' seed is the run's seed plus this (a stream apart from the others)
FEW_LIKES_SEED = 1000


def ready_artefacts() -> tuple[dict[str, LoadedArtefact], dict[str, str]]:
    ready: dict[str, LoadedArtefact] = {}
    missing: dict[str, str] = {}
    for engine in settings.RECSYS_ENGINES:
        try:
            ready[engine] = active_artefact(engine=engine)
        except EngineUnavailable as exc:
            missing[engine] = str(exc)
    return ready, missing


def evaluate(
    *,
    seed: int = 0,
    visitors: int = 300,
    collection: str | None = None,
    lam: float = DEFAULT_LAMBDA,
    tuned: bool = False,
    train_sizes: Sequence[int] = TRAIN_SIZES,
    test_visitors: int = TEST_VISITORS,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Run both protocols on every ready recommender (see the module docstring for the result);
    with ``tuned``, also tuned vs untuned spaces on held-out visitors (``recsys.evaluation.tuned``)."""
    started = time.perf_counter()
    artefacts, unavailable = ready_artefacts()
    if not artefacts:
        raise EngineUnavailable(
            "No engine has a ready artefact; run `manage.py precompute` first.", field="engine"
        )
    candidates = selectors.candidate_pks(collection=collection)
    groups = selectors.taste_groups(candidates=candidates)
    story = selectors.story_group_members(candidates=candidates)
    simulated = simulate_visitors(
        groups=groups, story_groups=story, candidates=candidates, count=visitors, seed=seed
    )
    simulated += simulate_visitors(  # dislikes outnumber likes (issue 17): half as many, own seed
        groups=groups,
        story_groups=story,
        candidates=candidates,
        count=max(1, visitors // 2),
        seed=seed + FEW_LIKES_SEED,
        pattern=FEW_LIKES,
        first_id=visitors,
    )
    validation = simulate_visitors(
        groups=groups, story_groups=story, candidates=candidates, count=visitors, seed=seed + 1
    )
    counts, users = selectors.rating_counts(painting_ids=candidates)
    diversity_engine = "minilm" if "minilm" in artefacts else next(iter(artefacts))
    lookup = Lookup(artefacts[diversity_engine], candidates, counts, users)
    progress("score fusion: beta sweep on validation visitors")
    beta_sweeps = beta_sweep(artefacts, candidates, validation)
    betas = {pair: best_value(sweep, "beta") for pair, sweep in beta_sweeps.items()}
    recs = build(artefacts=artefacts, allowed=candidates, seed=seed, lam=lam, betas=betas)

    curves: dict[str, list[dict[str, Any]]] = {}
    served = [r.name for r in recs if r.name in recommenders() and not r.name.startswith("paper:")]
    current = preferred_recommender(artefacts)
    protocols: dict[str, Any] = {
        "simulated": run_protocol(
            recs, simulated, lookup, candidates.shape[0], curves, progress, served, current
        )
    }
    stored = leave_k_out_visitors(
        ratings_by_user=selectors.stored_ratings(), candidates=candidates, seed=seed
    )
    if len(stored) >= MIN_STORED_USERS:
        progress(f"leave-k-out: {len(stored)} stored users")
        protocols["leave_k_out"] = run_protocol(
            recs, stored, lookup, candidates.shape[0], None, progress, served, current
        )
    else:
        protocols["leave_k_out"] = {
            "status": "skipped",
            "reason": f"{len(stored)} stored users with >= 10 ratings and a held-out 4-5 "
            f"(at least {MIN_STORED_USERS} needed)",
            "users": len(stored),
        }
    progress("learned: lambda sweep on validation visitors")
    sweep = ridge_sweep(artefacts, candidates, validation)
    best = max(sweep, key=lambda entry: (entry["ndcg@9"]["mean"] or 0.0, -entry["lambda"]))["lambda"]
    tuning: dict[str, Any] = {"status": "skipped", "reason": "run with --tuned"}
    if tuned:
        tuning = evaluate_tuning(
            artefacts=artefacts,
            candidates=candidates,
            groups=groups,
            story_groups=story,
            stored=selectors.stored_ratings(),
            seed=seed,
            lam=lam,
            weighting=settings.RECSYS_WEIGHTING,
            train_sizes=train_sizes,
            test_visitors=test_visitors,
            progress=progress,
        )
    group_kinds: dict[str, int] = defaultdict(int)
    for group in groups:
        group_kinds[group.kind] += 1
    return clean(
        {
            "schema": SCHEMA,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 1),
            "seed": seed,
            "collection": collection,
            "k": K,
            "recall_k": RECALL_K,
            "candidates": int(candidates.shape[0]),
            "engines": {engine: art.version for engine, art in artefacts.items()},
            "unavailable_engines": unavailable,
            "diversity_engine": diversity_engine,
            "popularity": {"ratings": int(counts.sum()), "users": users},
            "groups": dict(sorted(group_kinds.items())),
            "protocols": protocols,
            "score": {
                "betas": list(SCORE_BETAS),
                "sweeps": {"+".join(pair): sweep for pair, sweep in beta_sweeps.items()},
                "best_beta": {"+".join(pair): beta for pair, beta in betas.items()},
                "validation_seed": seed + 1,
            },
            "learned": {"lambda": lam, "sweep": sweep, "validation_seed": seed + 1, "best_lambda": best},
            "mmr": {"pool": RECALL_K, "lambdas": list(MMR_LAMBDAS), "curves": curves},
            "tuning": tuning,
        }
    )
