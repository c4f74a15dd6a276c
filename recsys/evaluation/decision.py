"""Which recommender is the default: the evaluation's evidence, one paired comparison per rival.

``decide`` takes the per-visitor nDCG@9 of the served recommenders (the same visitors for all:
both rating patterns of the simulated protocol, or the end-to-end loop) and ranks them by mean.
The leader becomes the default only when the paired difference leader - rival (per visitor, 95%
Student t interval) excludes 0 for every rival; otherwise the evidence does not separate them,
and the current default stays unless the leader beats *it* with an interval above 0.

``manage.py evaluate --decide`` writes the decided recommender (``"default"``) and
``evaluate --end-to-end --decide`` the elicitation strategy (``"elicitation"``) to
``settings.RECSYS_DEFAULT_DECISION_PATH`` (default ``var/evaluation/decision.json``):
``recsys.serving.recommenders.preferred_recommender`` puts the recommender before
``RECSYS_DEFAULT_RECOMMENDERS`` and ``recsys.serving.elicitation`` uses the strategy instead of
``RECSYS_ELICITATION``. Re-deciding is one command each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from recsys.evaluation import metrics
from recsys.serving.recommenders import read_decision


def _interval(values: np.ndarray) -> dict[str, Any]:
    estimate = metrics.mean_ci(values.tolist()).as_dict()
    return {"mean": estimate["mean"], "ci95": list(estimate["ci95"]), "n": estimate["n"]}


def decide(
    ndcg: Mapping[str, Sequence[float]], *, candidates: Sequence[str], current: str | None
) -> dict[str, Any]:
    """The default among ``candidates`` (names of ``ndcg``), with every paired comparison."""
    names = [name for name in candidates if name in ndcg and len(ndcg[name])]
    if not names:
        return {"default": current, "status": "no candidates", "ranking": [], "comparisons": []}
    means = {name: float(np.mean(ndcg[name])) for name in names}
    ranking = sorted(names, key=lambda name: (-means[name], names.index(name)))
    leader = ranking[0]
    comparisons = []
    separated = True
    for rival in ranking[1:]:
        diff = _interval(np.asarray(ndcg[leader], dtype=float) - np.asarray(ndcg[rival], dtype=float))
        low = diff["ci95"][0]
        beats = low is not None and low > 0
        separated &= beats
        comparisons.append({"a": leader, "b": rival, "ndcg@9_difference": diff, "excludes_0": beats})
    if separated:
        default, status = leader, "decided: the leader's paired interval excludes 0 against every rival"
    else:
        beats_current = any(c["b"] == current and c["excludes_0"] for c in comparisons)
        if current in names and current != leader and not beats_current:
            default, status = current, "not separated: the current default stays"
        else:
            default, status = leader, "leader: beats the current default, not separated from every rival"
    return {
        "default": default,
        "leader": leader,
        "current": current,
        "status": status,
        "ranking": [{"name": name, "ndcg@9": means[name]} for name in ranking],
        "comparisons": comparisons,
    }


def write_decision(decision: Mapping[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(decision, indent=2, allow_nan=False))
    tmp.replace(path)
    return path


def merge_decision(path: Path, **entries: Any) -> Path:
    """Write ``entries`` into the decision file, keeping what it already decided otherwise."""
    return write_decision(read_decision(path) | entries, path)
