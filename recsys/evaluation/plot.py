"""The evaluation report as one PNG (matplotlib, Agg backend: no display needed).

Three panels: nDCG@9 per recommender with its 95% interval (simulated visitors); the MMR
accuracy/diversity trade-off (nDCG@9 against ILD, one curve per recommender, one point per
lambda); the learned recommender's regularisation sweep (nDCG@9 against lambda, log scale).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def plot_report(report: Mapping[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["protocols"]["simulated"]["recommenders"]
    names = list(rows)
    fig, (bars, trade, sweep) = plt.subplots(1, 3, figsize=(18, 5.5))

    means = [rows[n]["ndcg@9"]["mean"] or 0.0 for n in names]
    errors = [
        [m - (rows[n]["ndcg@9"]["ci95"][0] or m) for n, m in zip(names, means, strict=True)],
        [(rows[n]["ndcg@9"]["ci95"][1] or m) - m for n, m in zip(names, means, strict=True)],
    ]
    bars.barh(names, means, xerr=errors, color="tab:blue", capsize=3)
    bars.invert_yaxis()
    bars.set_xlabel("nDCG@9 (95% CI)")
    bars.set_title(
        f"{report['protocols']['simulated']['visitors']} simulated visitors, seed {report['seed']}"
    )

    for name, curve in report["mmr"]["curves"].items():
        xs = [point["ild"]["mean"] for point in curve]
        ys = [point["ndcg@9"]["mean"] for point in curve]
        trade.plot(xs, ys, marker="o", label=name)
        trade.annotate(f"λ={curve[-1]['lambda']}", (xs[-1], ys[-1]), fontsize=7)
    trade.set_xlabel(f"intra-list diversity (1 - mean cosine, {report['diversity_engine']})")
    trade.set_ylabel("nDCG@9")
    trade.set_title("MMR re-ranking of the top 50: λ from 1 (no re-ranking) down")
    trade.legend(fontsize=7)

    entries = report["learned"]["sweep"]
    lams = [entry["lambda"] for entry in entries]
    sweep.errorbar(
        lams,
        [entry["ndcg@9"]["mean"] for entry in entries],
        yerr=[
            [entry["ndcg@9"]["mean"] - entry["ndcg@9"]["ci95"][0] for entry in entries],
            [entry["ndcg@9"]["ci95"][1] - entry["ndcg@9"]["mean"] for entry in entries],
        ],
        marker="o",
        capsize=3,
    )
    sweep.set_xscale("log")
    sweep.set_xlabel("ridge λ")
    sweep.set_ylabel("nDCG@9 (validation visitors)")
    sweep.set_title(f"learned recommender: λ sweep (used: {report['learned']['lambda']})")

    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_learning_curve(report: Mapping[str, Any], path: Path) -> Path:
    """nDCG@9 on held-out visitors against the number of training visitors, tuned rows with
    their 95% intervals (the untuned rows are the points at 0)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tuning = report["tuning"]
    curve = tuning["curve"]
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for name in tuning["untuned"]:
        xs = [point["train_visitors"] for point in curve]
        estimates = [point["rows"][f"{name}@tuned"] for point in curve]
        ys = [e["mean"] for e in estimates]
        ax.errorbar(
            xs,
            ys,
            yerr=[
                [m - e["ci95"][0] for m, e in zip(ys, estimates, strict=True)],
                [e["ci95"][1] - m for m, e in zip(ys, estimates, strict=True)],
            ],
            marker="o",
            capsize=3,
            label=name,
        )
    ax.set_xscale("symlog", linthresh=50)
    ax.set_xlabel("training visitors (0 = untuned space)")
    ax.set_ylabel(f"nDCG@9 on {tuning['test_visitors']} held-out visitors (95% CI)")
    ax.set_title(f"Tuned spaces: learning curve (seed {tuning['seed']})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
