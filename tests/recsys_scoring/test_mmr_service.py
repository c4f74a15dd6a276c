"""MMR re-ranking through the recommendation service, on a 5-painting artefact worked by hand.

    painting  vector         eq. 1 score with r rated 5 (weight 1, n = 1): the x coordinate
    r         (1, 0)         rated
    a         (0.96, 0.28)   0.96
    b         (0.8, 0.6)     0.8
    c         (0.8, -0.6)    0.8      (b before c: pk ascending)
    d         (0.6, -0.8)    0.6

cosines: ab 0.936, ac 0.6, ad 0.352, bc 0.28, bd 0, cd 0.96.
The pool (5n >= 4) is a, b, c, d; relevance min-max over it: a 1, b 5/9, c 5/9, d 0.

lambda = 0.5: a first; then b 0.5 * 5/9 - 0.5 * 0.936 = -0.190, c 0.278 - 0.3 = -0.022,
d 0 - 0.176 = -0.176: c; then b -0.190 (max sim 0.936), d -0.48 (0.96): b. Order a, c, b
(plain order a, b, c).

Late fusion (total, k = 60) of lda and minilm with the same vectors: RRF 2/61, 2/62, 2/63, 2/64
for a, b, c, d; relevance a 1, b (1/62 - 1/64) / (1/61 - 1/64) = 0.656, c 0.323, d 0; the mean
kernel is the same cosine. lambda = 0.4: a; then b 0.4 * 0.656 - 0.6 * 0.936 = -0.299,
c 0.129 - 0.36 = -0.231, d 0 - 0.211 = -0.211: d; then b -0.299 (0.936), c 0.129 - 0.576: b.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from recsys.serving.recommend import recommend
from recsys.serving.recommenders import get_recommender
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory

VECTORS = [[1.0, 0.0], [0.96, 0.28], [0.8, 0.6], [0.8, -0.6], [0.6, -0.8]]
URL = "/api/v1/recommendations/"


@pytest.fixture
def five(db):
    return [PaintingFactory() for _ in VECTORS]


@pytest.fixture
def lda(five):
    return write_artefact(engine="lda", paintings=five, vectors=VECTORS)


def order(result) -> list[int]:
    return [item.painting_id for item in result.items]


def test_mmr_order_by_hand(five, lda):
    r, a, b, c, _ = five
    result = recommend(ratings={r.pk: 5}, recommender="lda", n=3, mmr_lambda=0.5)
    assert order(result) == [a.pk, c.pk, b.pk]
    assert [item.rank for item in result.items] == [1, 2, 3]
    assert [item.score for item in result.items] == pytest.approx([0.96, 0.8, 0.8], abs=1e-6)
    assert result.mmr_lambda == 0.5
    assert result.items[1].contributions[0].painting_id == r.pk  # explanations travel with the item


def test_lambda_one_keeps_the_recommenders_order(five, lda):
    r, a, b, c, _ = five
    result = recommend(ratings={r.pk: 5}, recommender="lda", n=3, mmr_lambda=1.0)
    assert order(result) == [a.pk, b.pk, c.pk]
    assert result.mmr_lambda is None


def test_the_recommenders_lambda_applies_and_the_request_overrides_it(five, lda):
    r, a, b, c, _ = five
    configured = {"lda-diverse": {"KIND": "single", "ENGINE": "lda", "MMR_LAMBDA": 0.5}}
    with override_settings(RECSYS_RECOMMENDERS=configured, RECSYS_DEFAULT_RECOMMENDERS=["lda-diverse"]):
        assert get_recommender("lda-diverse").mmr_lambda == 0.5
        assert order(recommend(ratings={r.pk: 5}, n=3)) == [a.pk, c.pk, b.pk]
        assert order(recommend(ratings={r.pk: 5}, n=3, mmr_lambda=1.0)) == [a.pk, b.pk, c.pk]


def test_late_fusion_reranks_on_the_mean_kernel(five, lda):
    r, a, b, _, d = five
    write_artefact(engine="minilm", paintings=five, vectors=VECTORS)
    configured = {"late": {"KIND": "late", "MODE": "total", "ENGINES": {"lda": 1.0, "minilm": 1.0}}}
    with override_settings(RECSYS_RECOMMENDERS=configured, RECSYS_DEFAULT_RECOMMENDERS=["late"]):
        result = recommend(ratings={r.pk: 5}, n=3, mmr_lambda=0.4)
    assert order(result) == [a.pk, d.pk, b.pk]
    assert [item.score for item in result.items] == pytest.approx([2 / 61, 2 / 64, 2 / 62])
    assert result.items[1].engine_ranks == {"lda": 4, "minilm": 4}


def test_the_api_takes_mmr_lambda(api_client, five, lda):
    r, a, b, c, _ = five
    body = {"ratings": {r.external_id: 5}, "recommender": "lda", "n": 3, "mmr_lambda": 0.5}
    data = api_client.post(URL, body, format="json").json()
    assert [item["painting"]["id"] for item in data["results"]] == [
        a.external_id,
        c.external_id,
        b.external_id,
    ]
    assert data["mmr_lambda"] == 0.5


def test_the_signed_in_get_takes_mmr_lambda_from_the_query_string(auth_client, user, five, lda):
    r, a, b, c, _ = five
    user.ratings.create(painting=r, value=5)
    response = auth_client.get(URL, {"recommender": "lda", "n": "3", "mmr_lambda": "0.5"})
    assert response.status_code == 200
    assert [item["painting"]["id"] for item in response.json()["results"]] == [
        a.external_id,
        c.external_id,
        b.external_id,
    ]


@pytest.mark.parametrize("value", [0, 0.0, -0.5, 1.5, "0.5", True, None])
def test_a_bad_mmr_lambda_is_a_400_naming_the_field(api_client, five, lda, value):
    body = {"ratings": {five[0].external_id: 5}, "recommender": "lda", "mmr_lambda": value}
    response = api_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "mmr_lambda"


@pytest.mark.parametrize("value", [0, 1.5, True])
def test_a_bad_settings_mmr_lambda_fails_loudly(value):
    entry = {"KIND": "single", "ENGINE": "lda", "MMR_LAMBDA": value}
    configured = override_settings(RECSYS_RECOMMENDERS={"x": entry}, RECSYS_DEFAULT_RECOMMENDERS=["x"])
    with configured, pytest.raises(ImproperlyConfigured, match="MMR_LAMBDA"):
        get_recommender("x")
