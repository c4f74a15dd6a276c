"""/api/v1/recommendations/: GET for the signed-in user, POST for anyone (nothing stored).

With the minilm artefact of conftest (unit 2-d vectors) and ratings a=5 (weight +1), b=1
(weight -1), eq. 1 gives S(i) = (A_ia - A_ib) / 2:
e = (0.96 - 0.28) / 2 = 0.34, c = (0.8 - 0.6) / 2 = 0.1, d = (0.6 - 0.8) / 2 = -0.1.
"""

from __future__ import annotations

import math

import pytest
from rest_framework.test import APIClient

from recsys.models import Artefact
from tests.api.conftest import VECTORS
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory, RatingFactory
from users.models import Rating

URL = "/api/v1/recommendations/"
BODY = {"ratings": {"p-a": 5, "p-b": 1}, "recommender": "minilm"}


def post(client: APIClient, body: dict, **extra):
    return client.post(URL, body, format="json", **extra)


def ranking(response) -> list[tuple[str, float]]:
    return [(r["painting"]["id"], round(r["score"], 5)) for r in response.json()["results"]]


# -- POST, no account -----------------------------------------------------------------------------
def test_anonymous_post_ranks_by_eq1(api_client, minilm):
    response = post(api_client, BODY)
    assert response.status_code == 200
    assert ranking(response) == [("p-e", 0.34), ("p-c", 0.1), ("p-d", -0.1)]
    assert [r["rank"] for r in response.json()["results"]] == [1, 2, 3]


def test_response_names_recommender_versions_and_weighting(api_client, minilm):
    body = post(api_client, BODY).json()
    assert (body["recommender"], body["kind"], body["mode"]) == ("minilm", "single", None)
    assert body["engine"] == "minilm"  # deprecated copy of `recommender`
    assert body["weighting"] == "centered"
    assert body["applied_weighting"] == {"minilm": "centered"}
    assert body["versions"] == {"minilm": minilm.version}
    assert body["ignored_ratings"] == {}


def test_explanation_names_the_rated_paintings_by_id_title_and_thumbnail(api_client, minilm):
    top = post(api_client, BODY).json()["results"][0]
    assert top["painting"]["title"] == "Impression, Sunrise"
    assert top["painting"]["image_url"].startswith("http://testserver/media/")
    contributions = top["explanation"]["contributions"]
    assert [c["painting"] for c in contributions] == ["p-a", "p-b"]
    thumbnail = contributions[0].pop("thumbnail_url")
    assert thumbnail.startswith("http://testserver/media/thumbnails/p-a-")
    assert contributions[1]["thumbnail_url"] is None  # p-b has no image
    assert contributions[1]["title"] == "Girl with a Pearl Earring"
    assert contributions[0] == pytest.approx(
        {
            "painting": "p-a",
            "title": "Water Lilies",
            "rating": 5,
            "weight": 1.0,
            "similarity": 0.96,
            "contribution": 0.48,
            "engine": "minilm",
        }
    )
    assert contributions[1]["contribution"] == pytest.approx(-0.14)
    assert top["explanation"]["engine_ranks"] == {}


def test_anonymous_post_stores_nothing(api_client, minilm):
    post(api_client, BODY)
    assert not Rating.objects.exists()


def test_anonymous_post_needs_no_csrf_token_even_with_a_session(minilm, user):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=user.username, password="pass-word-123")
    assert post(client, BODY).status_code == 200
    assert not Rating.objects.exists()


def test_n_story_group_artist_and_exclude(api_client, minilm, paintings):
    assert ranking(post(api_client, BODY | {"n": 1})) == [("p-e", 0.34)]
    assert ranking(post(api_client, BODY | {"exclude": ["p-e"]})) == [("p-c", 0.1), ("p-d", -0.1)]
    assert ranking(post(api_client, BODY | {"story_group": "portraits"})) == [("p-d", -0.1)]
    artist = paintings["c"].artist_id
    assert ranking(post(api_client, BODY | {"artist": artist})) == [("p-e", 0.34), ("p-c", 0.1)]


def test_minmax_weighting_is_the_papers(api_client, minilm):
    # minmax: w_a = 1, w_b = 0, so S(i) = A_ia / 2.
    response = post(api_client, BODY | {"weighting": "minmax"})
    assert ranking(response) == [("p-e", 0.48), ("p-c", 0.4), ("p-d", 0.3)]


def test_late_fusion_reports_engine_ranks_and_ignored_ratings(api_client, paintings):
    everything = list(paintings.values())
    write_artefact(engine="lda", paintings=everything, vectors=[VECTORS[k] for k in paintings])
    no_b = [p for key, p in paintings.items() if key != "b"]
    resnet = write_artefact(
        engine="resnet", paintings=no_b, vectors=[VECTORS[k] for k in paintings if k != "b"]
    )
    body = post(api_client, BODY | {"recommender": "late-total"}).json()
    assert (body["kind"], body["mode"]) == ("late", "total")
    assert body["ignored_ratings"] == {"p-b": f"not in the resnet artefact {resnet.version}"}
    top = body["results"][0]
    assert top["painting"]["id"] == "p-e"
    assert top["explanation"]["engine_ranks"] == {"lda": 1, "resnet": 1}


def test_queries_do_not_grow_with_n(api_client, minilm, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = post(api_client, BODY | {"n": 3})
    assert len(response.json()["results"]) == 3


def test_explanations_take_no_query_per_item(api_client, db, django_assert_num_queries):
    # 40 paintings, 20 of them rated: 20 recommendations, each explained by 3 rated paintings
    many = [PaintingFactory(external_id=f"m-{i:02d}") for i in range(40)]
    angles = [i / 40 for i in range(40)]
    write_artefact(engine="minilm", paintings=many, vectors=[(math.cos(a), math.sin(a)) for a in angles])
    body = {"ratings": {p.external_id: 1 + i % 5 for i, p in enumerate(many[:20])}, "recommender": "minilm"}
    # the rated paintings (validated and read), the active artefact row, the active tuned version
    # (minilm is TUNED; one per request, from the status cache outside tests), the catalogued check
    # of the recommended paintings, which reads them too
    with django_assert_num_queries(4):
        response = post(api_client, body | {"n": 20})
    results = response.json()["results"]
    assert len(results) == 20
    assert all(len(r["explanation"]["contributions"]) == 3 for r in results)
    assert all(c["title"] for r in results for c in r["explanation"]["contributions"])


# -- POST errors ----------------------------------------------------------------------------------
def test_unknown_painting_in_ratings_is_400(api_client, minilm):
    response = post(api_client, {"ratings": {"p-a": 5, "p-zzz": 2}, "recommender": "minilm"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_painting"
    assert response.json()["error"]["field"] == "ratings"
    assert response.json()["error"]["detail"] == {"unknown_ids": ["p-zzz"]}


def test_unknown_painting_in_exclude_is_400(api_client, minilm):
    response = post(api_client, BODY | {"exclude": ["p-zzz"]})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "exclude"


def test_unknown_ids_in_ratings_are_named_before_those_in_exclude(api_client, minilm):
    response = post(api_client, {"ratings": {"p-a": 5, "p-yyy": 1}, "exclude": ["p-zzz"]})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "ratings"
    assert response.json()["error"]["detail"] == {"unknown_ids": ["p-yyy"]}


def test_ratings_and_exclude_are_resolved_in_one_query(api_client, minilm, django_assert_num_queries):
    # the rated and excluded paintings, the active artefact row, the active tuned version (minilm
    # is TUNED; one per request, from the status cache outside tests), the catalogued check (which
    # reads the recommended paintings)
    with django_assert_num_queries(4):
        response = post(api_client, BODY | {"exclude": ["p-e"]})
    assert ranking(response) == [("p-c", 0.1), ("p-d", -0.1)]


@pytest.mark.parametrize("value", [0, 6, "5", 4.5])
def test_rating_outside_1_to_5_is_400_naming_it(api_client, minilm, value):
    response = post(api_client, {"ratings": {"p-a": value}, "recommender": "minilm"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_rating"
    assert response.json()["error"]["field"] == "ratings.p-a"


def test_too_many_ratings_is_400(api_client, minilm, settings):
    settings.RECSYS_MAX_RATINGS = 1
    response = post(api_client, BODY)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "ratings"


@pytest.mark.parametrize("field", ["recommender", "engine"])
def test_unknown_recommender_is_400_naming_the_field_sent(api_client, minilm, field):
    body = {"ratings": BODY["ratings"], field: "nope"}
    response = post(api_client, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_engine"
    assert response.json()["error"]["field"] == field


# -- the deprecated `engine` field ----------------------------------------------------------------
def test_engine_is_a_deprecated_alias_of_recommender(api_client, minilm):
    body = {"ratings": BODY["ratings"], "engine": "minilm"}
    response = post(api_client, body)
    assert response.json()["recommender"] == "minilm"
    assert ranking(response) == ranking(post(api_client, BODY))


def test_engine_and_recommender_may_agree(api_client, minilm):
    response = post(api_client, BODY | {"engine": "minilm"})
    assert response.status_code == 200
    assert response.json()["recommender"] == "minilm"


def test_engine_and_recommender_that_disagree_are_400_naming_engine(api_client, minilm):
    response = post(api_client, BODY | {"engine": "lda"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "engine"
    assert "'lda'" in response.json()["error"]["message"]


def test_get_accepts_both_names_too(auth_client, user, minilm, paintings):
    RatingFactory(user=user, painting=paintings["a"], value=5)
    assert auth_client.get(URL, {"engine": "minilm"}).json()["recommender"] == "minilm"
    assert auth_client.get(URL, {"recommender": "minilm"}).json()["recommender"] == "minilm"
    clash = auth_client.get(URL, {"recommender": "minilm", "engine": "lda"})
    assert (clash.status_code, clash.json()["error"]["field"]) == (400, "engine")


# -- strict numbers and text ----------------------------------------------------------------------
@pytest.mark.parametrize("n", ["2", 2.0, True, 2.5, None, [2]])
def test_n_must_be_a_json_integer(api_client, minilm, n):
    response = post(api_client, BODY | {"n": n})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "n"


@pytest.mark.parametrize("exclude", [[5], ["p-e", 1.0], [True], [None]])
def test_exclude_ids_must_be_json_strings(api_client, minilm, exclude):
    response = post(api_client, BODY | {"exclude": exclude})
    assert response.status_code == 400
    assert response.json()["error"]["field"].startswith("exclude")


@pytest.mark.parametrize(
    ("extra", "field"), [({"recommender": 5}, "recommender"), ({"story_group": 1}, "story_group")]
)
def test_text_options_must_be_json_strings(api_client, minilm, extra, field):
    response = post(api_client, BODY | extra)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


@pytest.mark.parametrize("n", ["2.0", "+2", " 2", "2e0", "two"])
def test_n_in_a_query_string_is_plain_digits(auth_client, user, minilm, paintings, n):
    RatingFactory(user=user, painting=paintings["a"], value=5)
    response = auth_client.get(URL, {"recommender": "minilm", "n": n})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "n"


def test_duplicate_keys_in_the_body_are_400_naming_the_key(api_client, minilm):
    raw = '{"ratings": {"p-a": 5, "p-b": 1}, "recommender": "minilm", "n": 1, "n": 50}'
    response = api_client.generic("POST", URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "n"


def test_duplicate_painting_in_the_ratings_is_400_naming_it(api_client, minilm):
    raw = '{"ratings": {"p-a": 5, "p-a": 1}, "recommender": "minilm"}'
    response = api_client.generic("POST", URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "ratings.p-a"


# -- artist filter --------------------------------------------------------------------------------
@pytest.mark.parametrize("artist", ["Claude Monet", "claude monet"])
def test_artist_filter_takes_a_name(api_client, minilm, artist):
    assert ranking(post(api_client, BODY | {"artist": artist})) == [("p-e", 0.34), ("p-c", 0.1)]


def test_artist_filter_takes_a_name_in_the_query_string(auth_client, user, minilm, paintings):
    RatingFactory(user=user, painting=paintings["a"], value=5)
    RatingFactory(user=user, painting=paintings["b"], value=1)
    by_name = auth_client.get(URL, {"recommender": "minilm", "artist": "Claude Monet"})
    by_id = auth_client.get(URL, {"recommender": "minilm", "artist": paintings["c"].artist_id})
    assert ranking(by_name) == ranking(by_id) == [("p-e", 0.34), ("p-c", 0.1)]


@pytest.mark.parametrize("artist", ["Rembrandt", str(10**9)])  # a string in JSON is a name
def test_unknown_artist_is_400(api_client, minilm, artist):
    response = post(api_client, BODY | {"artist": artist})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "artist"


def test_no_recommender_named_gets_the_first_ready_one_not_503(api_client, minilm):
    # late-total (lda + resnet) is not ready: minilm, next in the preference list, answers
    body = {"ratings": BODY["ratings"]}
    response = post(api_client, body)
    assert response.status_code == 200
    assert response.json()["recommender"] == "minilm"


def test_engine_without_artefact_is_503_with_the_reason(api_client, minilm):
    response = post(api_client, BODY | {"recommender": "clip"})
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "engine_unavailable"
    # offline, the default hub id cannot load: the reason names the setting to change
    assert error["message"].startswith("Engine 'clip' is unavailable: ")
    assert "RECSYS_CLIP_MODEL" in error["message"]
    assert error["detail"]["status"] == "unavailable"


def test_engine_still_computing_is_503_with_progress(api_client, minilm):
    Artefact.objects.create(
        engine="clip", version="clip-run", status=Artefact.Status.RUNNING, processed=3, total=10
    )
    response = post(api_client, BODY | {"recommender": "clip"})
    assert response.status_code == 503
    assert "computing (step 2 of 3, encoding paintings: 3/10 paintings" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"n": 0}, "n"),
        ({"n": 10_000}, "n"),
        ({"artist": 999_999}, "artist"),
        ({"story_group": "nowhere"}, "story_group"),
        ({"weighting": "loud"}, "weighting"),
        ({"exclude": "p-a"}, "exclude"),
    ],
)
def test_bad_options_are_400_naming_the_field(api_client, minilm, extra, field):
    response = post(api_client, BODY | extra)
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


def test_missing_ratings_is_400(api_client, minilm):
    response = post(api_client, {"recommender": "minilm"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "ratings"


def test_anonymous_requests_have_their_own_throttle(api_client, minilm, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "recommend_anon": "2/min",
        },
    }
    statuses = [post(api_client, BODY).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert api_client.get("/api/v1/paintings/").status_code == 200


# -- GET, signed in -------------------------------------------------------------------------------
def test_get_uses_my_stored_ratings(auth_client, user, minilm, paintings):
    RatingFactory(user=user, painting=paintings["a"], value=5)
    RatingFactory(user=user, painting=paintings["b"], value=1)
    response = auth_client.get(URL, {"engine": "minilm"})
    assert response.status_code == 200
    assert ranking(response) == [("p-e", 0.34), ("p-c", 0.1), ("p-d", -0.1)]


def test_get_query_options(auth_client, user, minilm, paintings):
    RatingFactory(user=user, painting=paintings["a"], value=5)
    RatingFactory(user=user, painting=paintings["b"], value=1)
    response = auth_client.get(URL, {"engine": "minilm", "n": 2, "exclude": "p-e,p-d"})
    assert ranking(response) == [("p-c", 0.1)]


def test_get_with_unknown_exclude_id_is_400(auth_client, user, minilm, paintings):
    RatingFactory(user=user, painting=paintings["a"], value=5)
    response = auth_client.get(URL, {"engine": "minilm", "exclude": "p-e,p-zzz"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "exclude"


def test_get_without_ratings_is_400(auth_client, minilm):
    response = auth_client.get(URL, {"engine": "minilm"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "ratings"


def test_get_anonymous_is_401(api_client, minilm):
    assert api_client.get(URL).status_code == 401


def test_ratings_no_engine_can_use_are_named_by_painting_id(api_client, paintings):
    resnet = write_artefact(
        engine="resnet",
        paintings=[paintings[k] for k in "cde"],
        vectors=[VECTORS[k] for k in "cde"],
    )
    response = post(api_client, BODY | {"recommender": "resnet"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "ratings"
    assert error["detail"]["ignored_ratings"] == {
        "p-a": f"not in the resnet artefact {resnet.version}",
        "p-b": f"not in the resnet artefact {resnet.version}",
    }
