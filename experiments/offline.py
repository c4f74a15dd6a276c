"""The offline evaluation's numbers (``manage.py evaluate``) for the arms' recommenders.

``manage.py evaluate`` writes its report to ``VAR_DIR/evaluation/latest.json`` by default
(``recsys.evaluation.report.default_report_path``); ``settings.EVALUATION_RESULTS_PATH`` points
this page elsewhere. The report's schema (version 1) is in the ``recsys.evaluation.runner``
docstring: per protocol (``simulated``, ``leave_k_out``; a skipped one has no rows) a row per
recommender name whose metrics are Estimates ``{"mean", "ci95": [low, high], "n"}``. Each row
here is one (recommender, protocol): the means of nDCG@9, precision@9, recall@50, intra-list
diversity and novelty, nDCG@9's 95% interval as text, the catalogue coverage and the number of
visitors. A report of another schema is not guessed at: the note says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings

MISSING = "no offline evaluation yet — run manage.py evaluate"
SCHEMA = 1
#: report metric (an Estimate) -> column; nDCG@9 also gets its interval
METRICS = {
    "ndcg@9": "nDCG@9",
    "precision@9": "precision@9",
    "recall@50": "recall@50",
    "ild": "ILD",
    "novelty": "novelty (bits)",
}


def results_path() -> Path:
    default = Path(settings.VAR_DIR) / "evaluation" / "latest.json"
    return Path(getattr(settings, "EVALUATION_RESULTS_PATH", default))


def _mean(estimate: object) -> float | None:
    if isinstance(estimate, Mapping) and isinstance(estimate.get("mean"), int | float):
        return round(float(estimate["mean"]), 4)
    return None


def _interval(estimate: object) -> str:
    ci = estimate.get("ci95") if isinstance(estimate, Mapping) else None
    if isinstance(ci, list) and len(ci) == 2 and all(isinstance(v, int | float) for v in ci):
        return f"{ci[0]:.3f} to {ci[1]:.3f}"
    return ""


def _row(name: str, protocol: str, row: Mapping[str, Any]) -> dict[str, Any]:
    ndcg = row.get("ndcg@9")
    out: dict[str, Any] = {"recommender": name, "protocol": protocol}
    for key, column in METRICS.items():
        out[column] = _mean(row.get(key))
        if key == "ndcg@9":
            out["nDCG@9 95% CI"] = _interval(ndcg)
    coverage = row.get("coverage")
    out["coverage"] = round(float(coverage), 4) if isinstance(coverage, int | float) else None
    out["visitors"] = ndcg.get("n") if isinstance(ndcg, Mapping) else None
    return out


def report_rows(report: object, recommenders: Iterable[str]) -> tuple[list[dict[str, Any]], str | None]:
    """The rows of a schema-1 report for ``recommenders`` (arm order, then protocol), and a note."""
    if not isinstance(report, Mapping) or report.get("schema") != SCHEMA:
        found = report.get("schema") if isinstance(report, Mapping) else None
        return [], f"the offline evaluation has schema {found!r}; this page reads schema {SCHEMA}"
    protocols = report.get("protocols") if isinstance(report.get("protocols"), Mapping) else {}
    rows = []
    for name in dict.fromkeys(recommenders):
        for protocol, body in protocols.items():
            if not isinstance(body, Mapping) or body.get("status") != "ok":
                continue
            row = (body.get("recommenders") or {}).get(name)
            if isinstance(row, Mapping):
                rows.append(_row(name, protocol, row))
    return rows, None


def offline_rows(recommenders: Iterable[str]) -> tuple[list[dict[str, Any]], str | None]:
    """The evaluation's rows for ``recommenders`` and a note (``MISSING`` or a read problem)."""
    path = results_path()
    if not path.is_file():
        return [], MISSING
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return [], f"offline evaluation at {path} could not be read: {exc}"
    rows, note = report_rows(data, recommenders)
    if note is None and not rows:
        note = f"the offline evaluation ({path.name}) has no rows for these recommenders"
    return rows, note
