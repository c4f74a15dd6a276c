"""The experiments' feedback for the tuned spaces (``recsys.build.feedback``): ratings of
recommended paintings linked to an exposure, and clicks on them (a click counts as a 4 where the
visitor gave no rating). Simulated exposures (``simulate_experiment``) are left out."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from experiments.models import Click, Exposure, ExposureRating

#: the rating a click on a recommended painting stands for (liked, below an explicit 5)
CLICK_RATING = 4


def exposure_histories() -> dict[str, dict[int, int]]:
    out: dict[str, dict[int, int]] = defaultdict(dict)
    real = ExposureRating.objects.order_by("created_at", "id").exclude(
        exposure__source=Exposure.Source.SIMULATED
    )
    for key, pk, value in real.values_list("exposure__visitor_key", "painting_id", "value"):
        out[key][pk] = value  # the latest rating of a painting wins
    clicks = Click.objects.order_by().exclude(exposure__source=Exposure.Source.SIMULATED)
    for key, pk in clicks.values_list("exposure__visitor_key", "painting_id"):
        out[key].setdefault(pk, CLICK_RATING)
    return dict(out)


def exposure_feedback_since(when: datetime | None) -> int:
    ratings = ExposureRating.objects.exclude(exposure__source=Exposure.Source.SIMULATED)
    clicks = Click.objects.exclude(exposure__source=Exposure.Source.SIMULATED)
    if when is not None:
        ratings, clicks = ratings.filter(created_at__gt=when), clicks.filter(created_at__gt=when)
    return ratings.count() + clicks.count()
