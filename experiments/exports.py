"""CSV export of an experiment's exposures with their answers, for external analysis.

Lists, participants and paintings are named by their public ids (the paintings' ids of the API
and the web pages; no database keys, no visitor keys, which may carry a visitor's credentials).
Every text cell that a spreadsheet would read as a formula (starting with =, +, -, @, a tab or a
carriage return) is prefixed with an apostrophe (OWASP's CSV-injection advice), so names typed in
the admin cannot run in the curator's spreadsheet.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from catalog.models import Painting
from experiments import selectors
from experiments.models import QUESTIONS, Experiment

COLUMNS = (
    "exposure",
    "created_at",
    "experiment",
    "design",
    "participant",
    "flagged",
    "arm",
    "recommender",
    "fallback_reason",
    "step",
    "source",
    "versions",
    "paintings",
    "teams",
    "clicked_paintings",
    "rated_paintings",
    "ratings",
    *QUESTIONS,
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value``, with a leading apostrophe when it is text a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _ids(pks: Iterable[int], external: dict[int, str]) -> str:
    return " ".join(external.get(pk, f"deleted:{pk}") for pk in pks)


def exposures_csv(*, experiment: Experiment) -> str:
    """One row per exposure (oldest first); paintings are space-separated public ids, best first
    (``deleted:<n>`` for a painting since removed from the catalogue); teams (interleaved) are
    the arm names that drafted each position; answers empty where the list had no feedback."""
    exposures = list(selectors.exposures_for_analysis(experiment=experiment))
    pks = {pk for e in exposures for pk in e.painting_ids}
    external = dict(Painting.objects.filter(pk__in=pks).values_list("pk", "external_id"))
    arm_names = {arm.pk: arm.name for arm in selectors.experiment_arms(experiment=experiment)}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for e in exposures:
        feedback = getattr(e, "feedback", None)
        links = list(e.ratings.all())
        row = [
            str(e.public_id),
            e.created_at.isoformat(),
            experiment.name,
            experiment.design,
            str(e.participant.public_id),
            int(e.participant.flagged),
            e.arm.name,
            e.recommender,
            e.fallback_reason,
            e.step,
            e.source,
            json.dumps(e.versions, sort_keys=True),
            _ids(e.painting_ids, external),
            " ".join(arm_names.get(team, "?") for team in e.teams),
            _ids((c.painting_id for c in e.clicks.all()), external),
            _ids((r.painting_id for r in links), external),
            " ".join(str(r.value) for r in links),
            *[getattr(feedback, q) if feedback else "" for q in QUESTIONS],
        ]
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
