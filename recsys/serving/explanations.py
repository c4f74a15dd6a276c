"""What a visitor is told about a recommendation: the liked paintings that pulled it up, and a
disliked painting only as the reason it was pushed down. No numbers.

From an item's ``Contribution``s (``recsys.serving.results``; the largest |share| first):

* ``pulled_up``: a painting the visitor *liked* (rated 4-5) whose share of the score is positive,
  the largest first ("Because you liked ...");
* ``pushed_down``: a painting the visitor *disliked* (rated 1-2) whose share is negative ("Ranked
  lower: close to ..., which you disliked").

Anything else never explains: under eq. 1 with centred weights a 1-star rating times a negative
similarity adds to a score, and a rug far from a disliked "Lamentation" was "explained" by that
1-star rating (issue 17); a neutral 3 explains nothing either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from recsys.serving.results import Contribution

PULLED_UP, PUSHED_DOWN = "pulled_up", "pushed_down"
#: ratings that count as liked / disliked (3 is neutral)
LIKED_FROM, DISLIKED_UP_TO = 4, 2
#: how many liked paintings explain one recommendation
MAX_PULLED = 2
#: how many disliked paintings are named as having pushed it down
MAX_PUSHED = 1


@dataclass(frozen=True, slots=True)
class Reason:
    painting_id: int
    external_id: str
    rating: int
    effect: str  # PULLED_UP or PUSHED_DOWN
    engine: str


def reasons(contributions: Iterable[Contribution]) -> tuple[Reason, ...]:
    """The liked paintings that pulled the item up (largest share first), then the disliked
    painting that pushed it down the most, if any."""
    contributions = list(contributions)
    pulled = sorted(
        (c for c in contributions if c.rating >= LIKED_FROM and c.contribution > 0),
        key=lambda c: (-c.contribution, c.painting_id),
    )[:MAX_PULLED]
    pushed = sorted(
        (c for c in contributions if c.rating <= DISLIKED_UP_TO and c.contribution < 0),
        key=lambda c: (c.contribution, c.painting_id),
    )[:MAX_PUSHED]
    return tuple(
        Reason(c.painting_id, str(c.external_id), int(c.rating), effect, c.engine)
        for effect, chosen in ((PULLED_UP, pulled), (PUSHED_DOWN, pushed))
        for c in chosen
    )
