"""The recommendations page: the visitor's ratings -> recommend(), with explanations."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recsys.models import Artefact
from tests.factories import PaintingFactory, RatingFactory, UserFactory
from tests.web.conftest import VECTORS
from web.selectors import SESSION_RATINGS_KEY

pytestmark = pytest.mark.django_db

RECS = reverse("web:recommendations")


def expected_scores(ratings: dict[str, int]) -> dict[str, float]:
    """Eq. 1 with centred weights, w = (r - 3) / 2, over unit vectors, for every unrated painting."""
    unit = {k: np.asarray(v) / np.linalg.norm(v) for k, v in VECTORS.items()}
    return {
        k: sum((r - 3) / 2 * float(unit[k] @ unit[j]) for j, r in ratings.items()) / len(ratings)
        for k in unit
        if k not in ratings
    }


def rate_in_session(client, ratings: dict[str, int]) -> None:
    session = client.session
    session[SESSION_RATINGS_KEY] = ratings
    session.save()


def test_recommendations_rank_unrated_paintings_by_eq1_and_explain_them(client, scored):
    rate_in_session(client, {"p-a": 5, "p-d": 1})

    response = client.get(RECS, {"engine": "lda", "n": 3})

    assert response.status_code == 200
    cards = response.context["page"].cards
    expected = expected_scores({"p-a": 5, "p-d": 1})
    assert [c.painting.external_id for c in cards] == ["p-b", "p-c", "p-e"]
    assert [c.score for c in cards] == pytest.approx([expected[k] for k in ("p-b", "p-c", "p-e")], abs=1e-5)
    # p-b is close to p-a (rated 5): that is the reason; p-d (rated 1) pushes it down, never "explains" it
    assert [(r.painting.external_id, r.rating) for r in cards[0].reasons] == [("p-a", 5)]
    html = response.content.decode()
    assert "Because you rated" in html
    assert 'aria-label="5 out of 5 stars"' in html
    assert f"{expected['p-b']:.3f}" in html


def test_recommendations_never_include_rated_paintings(client, scored):
    user = UserFactory()
    RatingFactory(user=user, painting=scored["p-b"], value=5)
    RatingFactory(user=user, painting=scored["p-c"], value=4)
    client.force_login(user)

    cards = client.get(RECS, {"engine": "lda", "n": 5}).context["page"].cards

    assert [c.painting.external_id for c in cards] == ["p-a", "p-e", "p-d"]


def test_default_recommender_is_the_configured_one_when_ready(client, scored, settings):
    settings.RECSYS_DEFAULT_RECOMMENDERS = ["late-total"]
    rate_in_session(client, {"p-a": 5})

    response = client.get(RECS)

    assert response.context["engine"] == "late-total"
    first = response.context["page"].cards[0]
    assert first.painting.external_id == "p-b"
    assert first.engine_ranks == (("lda", 1), ("resnet", 1))
    assert [(r.painting.external_id, r.engine) for r in first.reasons] == [("p-a", "lda")]
    assert "lda #1" in response.content.decode()


def test_default_falls_back_to_the_first_ready_recommender(client, db, settings):
    settings.RECSYS_DEFAULT_RECOMMENDERS = ["clip"]
    from tests.web.conftest import write_artefact  # the catalogue below is not the `scored` one

    paintings = [PaintingFactory(), PaintingFactory()]
    write_artefact(engine="resnet", paintings=paintings, vectors=[(1.0, 0.0), (0.6, 0.8)])
    rate_in_session(client, {paintings[0].external_id: 4})

    response = client.get(RECS)

    assert response.context["engine"] == "resnet"
    assert [c.painting.pk for c in response.context["page"].cards] == [paintings[1].pk]


def test_picker_disables_recommenders_that_are_not_ready(client, scored):
    Artefact.objects.create(engine="clip", version="clip-running", status="running", processed=3, total=4)
    rate_in_session(client, {"p-a": 5})

    html = client.get(RECS).content.decode()

    assert '<option value="lda"' in html and 'value="lda" selected disabled' not in html
    assert 'value="clip"' in html and "computing 75%" in html
    assert 'value="minilm" disabled' in html and "precompute --engine minilm" in html


def test_unavailable_engine_is_explained_not_a_server_error(client, scored):
    rate_in_session(client, {"p-a": 5})

    response = client.get(RECS, {"engine": "blip"})

    assert response.status_code == 200
    assert response.context["page"] is None
    assert "Engine 'blip' is unavailable" in response.context["error"]
    assert "Set RECSYS_BLIP_MODEL" in response.content.decode()


def test_no_ready_engine_says_how_to_compute_one(client, db):
    painting = PaintingFactory()
    rate_in_session(client, {painting.external_id: 5})

    response = client.get(RECS)

    assert response.status_code == 200
    html = response.content.decode()
    assert "No recommender is ready yet" in html
    assert "manage.py precompute" in html


def test_unknown_recommender_name_is_a_message(client, scored):
    rate_in_session(client, {"p-a": 5})

    response = client.get(RECS, {"engine": "nope"})

    assert response.status_code == 200
    assert "nope" in response.context["error"]


@pytest.mark.parametrize("n", ["0", "abc", "100000"])
def test_invalid_n_is_a_form_error(client, scored, n):
    rate_in_session(client, {"p-a": 5})

    response = client.get(RECS, {"n": n})

    assert response.status_code == 400
    assert response.context["query"].errors["n"]
    assert response.context["page"] is None


def test_ratings_the_engine_cannot_use_are_listed_with_the_reason(client, scored):
    outsider = PaintingFactory(external_id="p-new", title="Not embedded yet")
    rate_in_session(client, {"p-a": 5, "p-new": 4})

    response = client.get(RECS, {"engine": "lda"})

    ignored = response.context["page"].ignored
    assert [(i.painting, "lda" in i.reason) for i in ignored] == [(outsider, True)]
    assert "Not embedded yet" in response.content.decode()


def test_without_ratings_the_page_invites_to_rate(client, scored):
    response = client.get(RECS)

    assert response.status_code == 200
    assert response.context["page"] is None
    assert "You have not rated any painting yet" in response.content.decode()


def test_recommendations_query_count_does_not_grow_with_n(client, scored):
    user = UserFactory()
    RatingFactory(user=user, painting=scored["p-a"], value=5)
    client.force_login(user)

    def count(n: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(RECS, {"engine": "late-total", "n": n})
        assert len(response.context["page"].cards) == n
        return len(queries)

    assert count(1) == count(4) <= 15
