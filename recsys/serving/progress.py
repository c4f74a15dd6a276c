"""Honest progress of a build, read: which step it is in, how far that step is, and the time left.

A build (one ``Artefact`` row) moves through steps; each records on the row what it is doing
(``step``), how much of it is done in its own unit (``step_done`` / ``step_total`` /
``step_unit``) and when it began (``step_started_at``):

    queued     pending, waiting for a worker (no count)
    snapshot   reading the catalogue (no count)
    fit        learning from the catalogue: LDA training passes (every model of the topic-count
               sweep), TF-IDF's tokenise / weight / SVD steps; the engine reports them
               (``recsys.engines.base.report_fit_progress``)
    encode     paintings encoded (``processed`` / ``total``, batch by batch)
    pairs      images whose pairs BLIP's ITM head re-scored
    finalize   neighbour lists, manifest, publish, activate (no count)

Time left in a step, extrapolated from its own pace so far (no guess before the first unit):

    eta = elapsed * (total - done) / done          for 0 < done <= total, else unknown

It is the estimate for the current step only; the steps after it are named by the step count
("step 2 of 4"), not guessed. The writes of the steps live in ``recsys.build.progress``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from recsys.models import Artefact

QUEUED, SNAPSHOT, FIT, ENCODE, PAIRS, FINALIZE = "queued", "snapshot", "fit", "encode", "pairs", "finalize"
LABELS = {
    QUEUED: "waiting for a worker",
    SNAPSHOT: "reading the catalogue",
    FIT: "learning from the catalogue",
    ENCODE: "encoding paintings",
    PAIRS: "re-scoring pairs",
    FINALIZE: "building neighbour lists and publishing",
}


def steps_of(*, needs_fit: bool, scores_pairs: bool) -> list[str]:
    """The counted steps of an engine's build, in order."""
    return [SNAPSHOT, *([FIT] if needs_fit else []), ENCODE, *([PAIRS] if scores_pairs else []), FINALIZE]


def eta_seconds(*, done: int, total: int, elapsed_s: float) -> float | None:
    """Seconds left at the pace so far (module docstring); None before the first unit is done."""
    if done <= 0 or total <= 0 or elapsed_s < 0:
        return None
    return max(0.0, elapsed_s * (total - min(done, total)) / done)


@dataclass(frozen=True, slots=True)
class StepProgress:
    """Where an open build stands, for the API, the admin and the waiting page."""

    step: str  # QUEUED .. FINALIZE
    label: str  # plain words
    index: int  # 1-based position among ``count`` steps (0 while queued)
    count: int
    done: int
    total: int
    unit: str
    fraction: float | None  # done / total of the step; None without a count
    eta_s: float | None  # seconds left in the step; None while unknown
    elapsed_s: float

    def describe(self) -> str:
        """e.g. "step 2 of 4, learning from the catalogue: 12/40 LDA training passes, about 3 min left"."""
        where = f"step {self.index} of {self.count}, {self.label}" if self.index else self.label
        counted = f": {self.done}/{self.total} {self.unit}".rstrip() if self.total else ""
        left = f", {describe_seconds(self.eta_s)} left" if self.eta_s is not None else ""
        return f"{where}{counted}{left}"


def describe_seconds(seconds: float) -> str:
    """Seconds in words: "about 40 s", "about 3 min", "about 1 h 20 min" (to the nearest second
    or minute, never 0)."""
    s = max(1, round(seconds))
    if s < 60:
        return f"about {s} s"
    minutes = max(1, round(s / 60))
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60} min"


def step_progress(row: Artefact, *, steps: list[str], now: datetime | None = None) -> StepProgress:
    """The progress of open build ``row`` (an engine with these ``steps``)."""
    now = now or timezone.now()
    step = row.step or (
        QUEUED if row.status == Artefact.Status.PENDING else ENCODE if row.total else SNAPSHOT
    )
    if step == ENCODE:
        done, total, unit = row.processed, row.total, "paintings"
    else:
        done, total, unit = row.step_done, row.step_total, row.step_unit
    started = row.step_started_at or row.started_at or row.created_at
    elapsed = max(0.0, (now - started).total_seconds()) if started else 0.0
    return StepProgress(
        step=step,
        label=LABELS.get(step, step),
        index=steps.index(step) + 1 if step in steps else 0,
        count=len(steps),
        done=done,
        total=total,
        unit=unit,
        fraction=min(1.0, done / total) if total else None,
        eta_s=eta_seconds(done=done, total=total, elapsed_s=elapsed),
        elapsed_s=elapsed,
    )
