"""The learned recommender through the recommendation service, on a 3-painting example by hand.

The settings' "learned" recommender is kernel ridge over MiniLM alone (lambda = 1):

    painting  minilm vector
    p1        (1, 0)
    p2        (0, 1)
    p3        (0.6, 0.8)

Ratings p1 = 5, p3 = 4: y = (1, 0.5), K = [[1, 0.6], [0.6, 1]],
alpha = (K + I)^-1 y = 1/3.64 (1.7, 0.4) = (0.467033, 0.109890);
p2 is the only candidate: s(p2) = 0 * 0.467033 + 0.8 * 0.109890 = 0.087912.

Rating p1 = 5 alone: K = 1, alpha = 1 / 2; s(p3) = 0.6 / 2 = 0.3, s(p2) = 0.

Ratings p1 = 5, p2 = 1: y = (1, -1), K = I, alpha = (0.5, -0.5); s(p3) = 0.3 - 0.4 = -0.1.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from config.exceptions import ValidationFailed
from recsys.serving.recommend import recommend
from recsys.serving.recommenders import LEARNED, get_recommender
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory, StoryGroupFactory

VECTORS = [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]


@pytest.fixture
def three(db):
    group = StoryGroupFactory(slug="chosen")
    return [PaintingFactory(), PaintingFactory(), PaintingFactory(story_group=group)]


@pytest.fixture
def minilm(three):
    return write_artefact(engine="minilm", paintings=three, vectors=VECTORS, dense=False)


def ranking(result) -> list[tuple[int, float]]:
    return [(item.painting_id, round(item.score, 6)) for item in result.items]


def test_the_settings_entry_is_learned_over_minilm():
    config = get_recommender("learned")
    assert (config.kind, config.engines, config.mmr_lambda) == (LEARNED, {"minilm": 1.0}, None)


def test_scores_are_the_ridge_solution(three, minilm):
    p1, p2, p3 = three
    result = recommend(ratings={p1.pk: 5, p3.pk: 4}, recommender="learned")
    assert ranking(result) == [(p2.pk, 0.087912)]
    assert (result.kind, result.mode, result.versions) == ("learned", None, {"minilm": minilm.version})
    assert result.applied_weighting == {"minilm": "centered"}


def test_ranking_by_prediction_and_rated_paintings_removed(three, minilm):
    p1, p2, p3 = three
    assert ranking(recommend(ratings={p1.pk: 5}, recommender="learned")) == [(p3.pk, 0.3), (p2.pk, 0.0)]
    assert ranking(recommend(ratings={p1.pk: 5, p2.pk: 1}, recommender="learned")) == [(p3.pk, -0.1)]


def test_explanations_name_the_rated_paintings_that_moved_the_item_most(three, minilm):
    p1, _, p3 = three
    (item,) = recommend(ratings={p1.pk: 5, p3.pk: 4}, recommender="learned").items
    first, second = item.contributions
    assert (first.painting_id, first.external_id, first.rating, first.engine) == (
        p3.pk,
        p3.external_id,
        4,
        "learned:minilm",
    )
    assert (first.weight, first.similarity, first.contribution) == pytest.approx(
        (0.109890, 0.8, 0.087912), abs=1e-6
    )
    assert (second.painting_id, second.weight, second.similarity) == pytest.approx(
        (p1.pk, 0.467033, 0.0), abs=1e-6
    )
    assert first.contribution + second.contribution == pytest.approx(item.score)


def test_filters_and_exclusions_are_honoured(three, minilm):
    p1, p2, p3 = three
    assert ranking(recommend(ratings={p1.pk: 5}, recommender="learned", exclude=[p3.pk])) == [(p2.pk, 0.0)]
    assert ranking(recommend(ratings={p1.pk: 5}, recommender="learned", story_group="chosen")) == [
        (p3.pk, 0.3)
    ]


def test_a_rating_the_artefact_lacks_is_reported_and_none_usable_is_refused(three, minilm):
    p1, p2, p3 = three
    stranger = PaintingFactory()
    result = recommend(ratings={p1.pk: 5, stranger.pk: 1}, recommender="learned")
    assert ranking(result) == [(p3.pk, 0.3), (p2.pk, 0.0)]
    assert result.ignored_ratings == {stranger.pk: f"not in the minilm artefact {minilm.version}"}
    with pytest.raises(ValidationFailed) as caught:
        recommend(ratings={stranger.pk: 4}, recommender="learned")
    assert caught.value.field == "ratings"
    assert list(caught.value.detail["ignored_ratings"]) == [stranger.pk]


def test_the_api_answers_with_the_learned_kind(api_client, three, minilm):
    p1, p2, p3 = three
    body = {"ratings": {p1.external_id: 5, p3.external_id: 4}, "recommender": "learned"}
    response = api_client.post("/api/v1/recommendations/", body, format="json")
    assert response.status_code == 200
    data = response.json()
    assert (data["kind"], data["mmr_lambda"]) == ("learned", None)
    (top,) = data["results"]
    assert top["painting"]["id"] == p2.external_id
    assert top["score"] == pytest.approx(0.087912, abs=1e-6)
    assert [(c["painting"], c["engine"]) for c in top["explanation"]["contributions"]] == [
        (p3.external_id, "learned:minilm"),
        (p1.external_id, "learned:minilm"),
    ]


@pytest.mark.parametrize(
    "entry",
    [
        {"KIND": "learned", "ENGINES": "minilm"},
        {"KIND": "learned", "ENGINES": []},
        {"KIND": "learned", "ENGINES": ["nope"]},
        {"KIND": "learned", "ENGINES": ["minilm"], "MODE": "total"},
    ],
)
def test_a_bad_learned_entry_fails_loudly(entry):
    configured = override_settings(RECSYS_RECOMMENDERS={"x": entry}, RECSYS_DEFAULT_RECOMMENDERS=["x"])
    with configured, pytest.raises(ImproperlyConfigured, match=r"RECSYS_RECOMMENDERS\['x'\]"):
        get_recommender("x")
