"""The offline evaluation's report once made: where it is stored, writing it, its Markdown tables.

``write_report`` stores the JSON document (by default at ``default_report_path()``,
``VAR_DIR/evaluation/latest.json``; schema: ``recsys.evaluation.runner``); ``markdown_table``,
``paired_table`` and ``tuning_table`` render its parts for the README and the command's output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings


def default_report_path() -> Path:
    return Path(settings.VAR_DIR) / "evaluation" / "latest.json"


def write_report(report: Mapping[str, Any], path: Path | None = None) -> Path:
    path = path or default_report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, sort_keys=False, allow_nan=False))
    tmp.replace(path)
    return path


def _fmt(estimate: Mapping[str, Any] | None) -> str:
    if not estimate or estimate.get("mean") is None:
        return "n/a"
    low, high = estimate["ci95"]
    return f"{estimate['mean']:.3f} [{low:.3f}, {high:.3f}]"


def markdown_table(report: Mapping[str, Any], protocol: str = "simulated") -> str:
    """The per-recommender table of one protocol, as Markdown (README, command output)."""
    rows = report["protocols"][protocol].get("recommenders", {})
    head = "| recommender | nDCG@9 | precision@9 | recall@50 | coverage | ILD | novelty (bits) | ms |"
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {_fmt(row['ndcg@9'])} | {_fmt(row['precision@9'])} | {_fmt(row['recall@50'])} | "
            f"{row['coverage']:.3f} | {_fmt(row['ild'])} | {_fmt(row['novelty'])} | {row['median_ms']:.1f} |"
        )
    return "\n".join(lines)


def paired_table(report: Mapping[str, Any], protocol: str = "simulated") -> str:
    """The learned and score-fusion rows against eq. 1 and late fusion, and the engines against
    each other, on the same visitors, as Markdown."""
    lines = ["| row | vs | nDCG@9 difference (95% CI) | relative |", "|---|---|---|---|"]
    for entry in report["protocols"][protocol].get("paired", []):
        relative = "n/a" if entry["relative"] is None else f"{entry['relative']:+.1%}"
        lines.append(f"| {entry['a']} | {entry['b']} | {_fmt(entry['ndcg@9_difference'])} | {relative} |")
    return "\n".join(lines)


def tuning_table(report: Mapping[str, Any]) -> str:
    """The learning curve: tuned - untuned nDCG@9 on held-out visitors per training size, as Markdown."""
    tuning = report.get("tuning") or {}
    if tuning.get("status") != "ok":
        return f"tuning skipped: {tuning.get('reason', 'not run')}"
    lines = [
        "| training visitors | row | nDCG@9 | untuned row | difference (95% CI) | relative |",
        "|---|---|---|---|---|---|",
    ]
    for point in tuning["curve"]:
        for entry in point["paired"]:
            relative = "n/a" if entry["relative"] is None else f"{entry['relative']:+.1%}"
            lines.append(
                f"| {point['train_visitors']} | {entry['a']} | {_fmt(point['rows'][entry['a']])} | "
                f"{_fmt(tuning['untuned'][entry['b']])} | {_fmt(entry['ndcg@9_difference'])} | {relative} |"
            )
    return "\n".join(lines)
