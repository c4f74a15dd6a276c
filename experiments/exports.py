"""CSV export of an experiment's exposures with their answers, for external analysis."""

from __future__ import annotations

import csv
import io
import json

from experiments import selectors
from experiments.models import QUESTIONS, Experiment

COLUMNS = (
    "exposure_id",
    "created_at",
    "experiment",
    "design",
    "participant",
    "visitor_key",
    "flagged",
    "arm",
    "recommender",
    "step",
    "source",
    "versions",
    "painting_ids",
    "clicked_painting_ids",
    "rated_painting_ids",
    "ratings",
    *QUESTIONS,
)


def exposures_csv(*, experiment: Experiment) -> str:
    """One row per exposure (oldest first); painting ids are space-separated pks, best first;
    answers empty where the list had no feedback."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for e in selectors.exposures_for_analysis(experiment=experiment):
        feedback = getattr(e, "feedback", None)
        links = list(e.ratings.all())
        writer.writerow(
            [
                e.pk,
                e.created_at.isoformat(),
                experiment.name,
                experiment.design,
                e.participant_id,
                e.visitor_key,
                int(e.participant.flagged),
                e.arm.name,
                e.recommender,
                e.step,
                e.source,
                json.dumps(e.versions, sort_keys=True),
                " ".join(map(str, e.painting_ids)),
                " ".join(str(c.painting_id) for c in e.clicks.all()),
                " ".join(str(r.painting_id) for r in links),
                " ".join(str(r.value) for r in links),
                *[getattr(feedback, q) if feedback else "" for q in QUESTIONS],
            ]
        )
    return out.getvalue()
