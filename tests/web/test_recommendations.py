"""The recommendations page: the visitor's ratings -> recommend(), with explanations."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from recsys.models import Artefact
from recsys.serving import status_cache
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory, RatingFactory, UserFactory
from tests.web.conftest import VECTORS, viewable
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
    assert expected["p-b"] > expected["p-c"] > expected["p-e"]
    # p-b is close to p-a (rated 5): that is the reason; p-d (rated 1) only ever pushes it down
    assert [(r.painting.external_id, r.rating, r.effect) for r in cards[0].reasons] == [
        ("p-a", 5, "pulled_up"),
        ("p-d", 1, "pushed_down"),
    ]
    html = response.content.decode()
    assert "Because you liked" in html
    assert "Because you rated" not in html
    assert "which you disliked" in html
    # no raw score on a card (issue 17: negative "match" numbers)
    assert f"{expected['p-b']:.3f}" not in html and "match" not in html


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
    assert "Text topics (LDA) #1" in response.content.decode()


def test_default_falls_back_to_the_first_ready_recommender(client, db, settings):
    settings.RECSYS_DEFAULT_RECOMMENDERS = ["clip"]
    from tests.web.conftest import write_artefact  # the catalogue below is not the `scored` one

    paintings = [PaintingFactory(**viewable()), PaintingFactory(**viewable())]
    write_artefact(engine="resnet", paintings=paintings, vectors=[(1.0, 0.0), (0.6, 0.8)])
    rate_in_session(client, {paintings[0].external_id: 4})

    response = client.get(RECS)

    assert response.context["engine"] == "resnet"
    assert [c.painting.pk for c in response.context["page"].cards] == [paintings[1].pk]


TECHNICAL = ("precompute", "RECSYS_", "huggingface", "OSError", "late-partial (", "disabled", "artefact")


def test_picker_offers_only_ready_recommenders_by_their_plain_names(client, scored):
    Artefact.objects.create(engine="clip", version="clip-running", status="running", processed=3, total=4)
    rate_in_session(client, {"p-a": 5})

    response = client.get(RECS)

    assert [(c.name, c.label) for c in response.context["choices"]] == [
        ("lda", "Text topics (LDA)"),
        ("resnet", "Visual look (ResNet)"),
        ("late-partial", "Text + image, fused (top picks)"),
        ("late-total", "Text + image, fused"),
    ]
    html = response.content.decode()
    assert '<option value="late-total" selected>Text + image, fused</option>' in html
    assert 'value="clip"' not in html and 'value="minilm"' not in html
    for text in TECHNICAL:
        assert text not in html, text


def test_asking_for_a_recommender_that_is_not_ready_shows_the_default_instead(client, scored, settings):
    settings.RECSYS_DEFAULT_RECOMMENDERS = ["lda"]
    rate_in_session(client, {"p-a": 5})

    response = client.get(RECS, {"engine": "blip"})

    assert response.status_code == 200
    assert response.context["engine"] == "lda"
    assert [c.painting.external_id for c in response.context["page"].cards][:1] == ["p-b"]
    html = response.content.decode()
    assert "not available right now; showing Text topics (LDA) instead." in html
    for text in (*TECHNICAL, "RECSYS_BLIP_MODEL", "BLIP"):
        assert text not in html, text


def test_while_nothing_is_ready_the_page_is_getting_ready_and_polls(client, db):
    painting = PaintingFactory()
    rate_in_session(client, {painting.external_id: 5})
    Artefact.objects.create(engine="lda", version="lda-running", status="running", processed=0, total=0)

    response = client.get(RECS)

    assert response.status_code == 200
    assert response.context["waiting"] is True
    html = response.content.decode()
    assert "Getting your recommendations ready" in html
    assert f'data-ready-url="{reverse("web:ready_status")}"' in html
    assert '<script src="/static/web/site.js" defer></script>' in html
    assert '<noscript><meta http-equiv="refresh"' in html
    for text in (*TECHNICAL, "0%", "0/0", "computing"):
        assert text not in html, text


def test_the_page_shows_what_another_process_activated_though_this_one_memoised_nothing_ready(
    client, db, settings, monkeypatch
):
    """The "getting ready" page reloads when ``ready_status`` (the database) says a recommender is
    ready: it must then show recommendations, not this process's memo from before the worker's
    activation (the status cache's version key is all another process changes)."""
    settings.RECSYS_STATUS_CACHE_S = settings.RECSYS_STATUS_LOCAL_S = 60
    monkeypatch.setattr(status_cache, "_backoff_until", 0.0)
    caches["default"].clear()
    paintings = [PaintingFactory(external_id=k, **viewable()) for k in VECTORS]
    rate_in_session(client, {"p-a": 5})
    assert client.get(RECS).context["waiting"] is True  # memoised: nothing ready

    write_artefact(engine="lda", paintings=paintings, vectors=list(VECTORS.values()))
    caches["default"].set(status_cache.VERSION_KEY, "activated-elsewhere")  # not this process's memo
    assert client.get(reverse("web:ready_status")).json()["ready"] is True
    response = client.get(RECS)

    assert response.context["waiting"] is False
    assert [c.painting.external_id for c in response.context["page"].cards][:1] == ["p-b"]
    caches["default"].clear()


def test_a_better_recommender_activated_by_another_process_answers_the_next_page(
    client, db, settings, monkeypatch
):
    """The "better recommendations are on their way" note links to the page when
    ``ready_status`` says the better one is ready: that page must use it at once."""
    settings.RECSYS_STATUS_CACHE_S = settings.RECSYS_STATUS_LOCAL_S = 60
    monkeypatch.setattr(status_cache, "_backoff_until", 0.0)
    caches["default"].clear()
    paintings = [PaintingFactory(external_id=k, **viewable()) for k in VECTORS]
    write_artefact(engine="lda", paintings=paintings, vectors=list(VECTORS.values()))
    rate_in_session(client, {"p-a": 5})
    assert client.get(RECS).context["engine"] == "lda"  # memoised: only LDA ready

    write_artefact(engine="tfidf", paintings=paintings, vectors=list(VECTORS.values()))
    caches["default"].set(status_cache.VERSION_KEY, "activated-elsewhere")
    response = client.get(RECS)

    assert response.context["engine"] == "tfidf"
    assert [c.painting.external_id for c in response.context["page"].cards][:1] == ["p-b"]
    caches["default"].clear()


def test_ready_status_lists_the_ready_recommenders_in_one_query(client, scored, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(reverse("web:ready_status"))

    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "ready": True,
        "recommenders": [
            {"name": "lda", "label": "Text topics (LDA)"},
            {"name": "resnet", "label": "Visual look (ResNet)"},
            {"name": "late-partial", "label": "Text + image, fused (top picks)"},
            {"name": "late-total", "label": "Text + image, fused"},
        ],
        "building": [],
    }


def test_ready_status_is_not_ready_before_any_artefact(client, db):
    assert client.get(reverse("web:ready_status")).json() == {
        "ready": False,
        "recommenders": [],
        "building": [],
    }


def test_unknown_recommender_name_falls_back_to_the_default(client, scored):
    rate_in_session(client, {"p-a": 5})

    response = client.get(RECS, {"engine": "nope"})

    assert response.status_code == 200
    assert response.context["engine"] == "late-total"
    assert "The recommender you asked for is not available right now" in response.context["notice"]
    assert "nope" not in response.context["notice"]


def test_only_paintings_with_an_image_are_recommended(client, scored):
    """p-b is the nearest painting to p-a, but without an image it is never shown."""
    scored["p-b"].image.delete(save=False)
    scored["p-b"].image_status = "none"
    scored["p-b"].save()
    rate_in_session(client, {"p-a": 5})

    cards = client.get(RECS, {"engine": "lda", "n": 9}).context["page"].cards

    assert [c.painting.external_id for c in cards] == ["p-c", "p-e", "p-d"]
    assert all(c.thumbnail for c in cards)


def test_no_usable_rating_is_said_plainly(client, scored):
    outsider = PaintingFactory(external_id="p-new", title="Not embedded yet")
    rate_in_session(client, {outsider.external_id: 5})

    response = client.get(RECS, {"engine": "lda"})

    assert response.context["error"] == (
        "None of the paintings you rated can be used by Text topics (LDA) yet. "
        "Rate a few other paintings, or choose another recommender."
    )


def test_rating_a_recommendation_from_the_list_comes_back_to_the_list(client, scored):
    rate_in_session(client, {"p-a": 5})
    url = f"{RECS}?engine=lda"
    html = client.get(url).content.decode()
    assert f'action="{reverse("web:painting_rate", args=["p-b"])}"' in html

    response = client.post(reverse("web:painting_rate", args=["p-b"]), {"value": "4", "next": url})

    assert response.status_code == 302
    assert response["Location"] == url
    assert client.session[SESSION_RATINGS_KEY] == {"p-a": 5, "p-b": 4}
    assert "p-b" not in [c.painting.external_id for c in client.get(url).context["page"].cards]


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
    html = response.content.decode()
    assert "Text topics (LDA) could not use 1 of your ratings" in html
    assert "Not embedded yet" in html and "artefact" not in html


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

    count(1)  # the first request fills the per-process memo of the admin-defined recommenders
    # 12, none per card: the engines' active and open rows, the catalogue's ids, the latest row of
    # the engines with neither (one query however many), the active tuned version (the better-
    # recommender note), the session, the user, their ratings, the viewable paintings, the two
    # engines' active artefacts, the catalogued check, the cards' paintings
    assert count(1) == count(4) <= 15
