"""Server-side plots (matplotlib, Agg canvas, no pyplot state): the distribution of answers per
arm and question as stacked horizontal bars of shares 1..5, as the paper's figure 8."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from experiments.analysis import Report
from experiments.models import QUESTIONS

COLOURS = ("#b2182b", "#ef8a62", "#d9d9d9", "#67a9cf", "#2166ac")  # 1 (disagree) .. 5 (agree)


def plain(text: str) -> str:
    """``text`` as matplotlib draws it literally: a ``$`` would start mathtext (and a name such as
    ``$\\foo{x}$`` would fail the whole plot), so it is escaped."""
    return text.replace("$", r"\$")


def ratings_png(report: Report) -> bytes:
    """One panel per question, one bar per arm; returns the PNG bytes. Arm names are drawn as
    plain text."""
    arms = report.arms or ["(no arms)"]
    figure = Figure(figsize=(10, 1.2 + 0.5 * len(arms) * len(QUESTIONS)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(QUESTIONS), 1, sharex=True)
    for ax, question in zip(axes, QUESTIONS, strict=True):
        counts = report.distributions.get(question, {})
        for row, arm in enumerate(arms):
            values = counts.get(arm, [0] * 5)
            total = sum(values) or 1
            left = 0.0
            for level, (count, colour) in enumerate(zip(values, COLOURS, strict=True), start=1):
                share = count / total
                ax.barh(row, share, left=left, color=colour, label=str(level) if row == 0 else None)
                left += share
        ax.set_yticks(range(len(arms)), labels=[plain(arm) for arm in arms])
        ax.set_title(question.capitalize(), loc="left", fontsize=10)
        ax.set_xlim(0, 1)
    axes[0].legend(ncols=5, loc="lower right", bbox_to_anchor=(1, 1), fontsize=8, frameon=False)
    axes[-1].set_xlabel("share of answers (1 = strongly disagree … 5 = strongly agree)")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
