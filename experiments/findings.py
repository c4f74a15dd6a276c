"""What the analysis means, per question and contrast, in the curator's words: the difference
with its interval, whether it survives Holm's correction across every question x contrast of
the experiment, how many participants 80% power would need at the observed difference, and one
plain-language sentence. Pure (no Django)."""

from __future__ import annotations

from dataclasses import dataclass

from experiments.mixed import Contrast
from experiments.stats import participants_for_power

ALPHA = 0.05
#: how a difference in favour of an arm reads, per question
MORE = {
    "accuracy": "closer to their preferences",
    "diversity": "more diverse",
    "novelty": "better at showing them paintings they did not know",
    "serendipity": "more surprisingly interesting",
}


@dataclass(frozen=True, slots=True)
class Finding:
    question: str
    a: str
    b: str
    difference: float  # b minus a, 1-5 scale
    ci_low: float
    ci_high: float
    standardised: float
    p_holm: float
    significant: bool
    participants: int
    participants_needed: int | None  # for 80% power at the observed difference (None: no difference)
    more_needed: int | None  # participants_needed - participants, at least 0
    summary: str


def _number(value: float) -> str:
    return f"{value:+.2f}"


def finding(*, question: str, contrast: Contrast, participants: int, tests: int) -> Finding:
    """The finding of one contrast; ``tests`` is the size of the Holm family (power is computed at
    the Bonferroni level ALPHA / tests, which Holm's first step uses)."""
    significant = contrast.p_holm < ALPHA
    needed = participants_for_power(
        n=participants, se=contrast.se, difference=contrast.difference, alpha=ALPHA / max(tests, 1)
    )
    more = None if needed is None else max(0, needed - participants)
    better, worse = (contrast.b, contrast.a) if contrast.difference >= 0 else (contrast.a, contrast.b)
    interval = f"95% CI {contrast.ci_low:+.2f} to {contrast.ci_high:+.2f}"
    size = f"{_number(contrast.difference)} on the 1-5 scale for {contrast.b} against {contrast.a}"
    if significant:
        verdict = f"significant after correction (p = {contrast.p_holm:.3g}, Holm)"
        text = f"Visitors found {better}'s lists {MORE[question]} than {worse}'s: {size} ({interval}), "
        text += f"{verdict}."
    else:
        verdict = f"not significant after correction (p = {contrast.p_holm:.3g}, Holm)"
        text = f"No clear difference between {contrast.a} and {contrast.b}: {size} ({interval}), {verdict}"
        text += f"; about {more} more participants would give 80% power at this difference." if more else "."
    return Finding(
        question=question,
        a=contrast.a,
        b=contrast.b,
        difference=contrast.difference,
        ci_low=contrast.ci_low,
        ci_high=contrast.ci_high,
        standardised=contrast.standardised,
        p_holm=contrast.p_holm,
        significant=significant,
        participants=participants,
        participants_needed=needed,
        more_needed=more,
        summary=text,
    )
