"""recommend() end to end on artefacts written to RECSYS_ARTEFACT_ROOT (see conftest.py)."""

import pytest
from django.test import override_settings

from config.exceptions import (
    EngineUnavailable,
    InvalidRating,
    UnknownEngine,
    UnknownPainting,
    ValidationFailed,
)
from recsys.models import Artefact
from recsys.recommend import (
    recommend,
    recommender_names,
    recommender_status,
    recommender_statuses,
    similar_paintings,
)
from tests.artefact_helpers import write_artefact
from tests.recsys_scoring.vectors import LDA


def pks(result, paintings):
    index = {p.pk: i for i, p in enumerate(paintings)}
    return [index[item.painting_id] for item in result.items]


def test_single_engine_ranks_by_similarity_to_the_liked_painting(paintings, lda):
    result = recommend(ratings={paintings[0].pk: 5}, recommender="lda", n=6)
    assert pks(result, paintings) == [1, 2, 3, 4, 5, 6]  # 5 and 6 tie at 0: smaller pk first
    assert [item.score for item in result.items] == pytest.approx([0.96, 0.8, 0.6, 0.28, 0, 0], abs=1e-6)
    assert [item.rank for item in result.items] == [1, 2, 3, 4, 5, 6]


def test_result_names_what_was_used(paintings, lda):
    result = recommend(ratings={paintings[0].pk: 5}, recommender="lda", n=1)
    assert (result.recommender, result.kind, result.mode, result.weighting) == (
        "lda",
        "single",
        None,
        "centered",
    )
    assert result.versions == {"lda": lda.version}
    assert result.applied_weighting == {"lda": "centered"}
    assert result.items[0].external_id == paintings[1].external_id
    assert result.items[0].engine_ranks == {}


def test_explanation_names_the_rated_paintings_by_contribution(paintings, lda):
    # item 2 (0.8, 0.6): rated 0 (5 -> w 1, A 0.8) and 5 (1 -> w -1, A 0.6), n = 2
    result = recommend(ratings={paintings[0].pk: 5, paintings[5].pk: 1}, recommender="lda", n=6)
    item = next(i for i in result.items if i.painting_id == paintings[2].pk)
    first, second = item.contributions
    assert (first.painting_id, first.rating, first.weight, first.engine) == (paintings[0].pk, 5, 1.0, "lda")
    assert (first.similarity, first.contribution) == pytest.approx((0.8, 0.4), abs=1e-6)
    assert (second.painting_id, second.weight, second.contribution) == (
        paintings[5].pk,
        -1.0,
        pytest.approx(-0.3),
    )
    assert item.score == pytest.approx(0.1, abs=1e-6)


def test_rated_paintings_are_never_recommended(paintings, lda):
    result = recommend(ratings={paintings[0].pk: 5, paintings[1].pk: 1}, recommender="lda", n=10)
    assert paintings[0].pk not in [i.painting_id for i in result.items]
    assert paintings[1].pk not in [i.painting_id for i in result.items]
    assert len(result.items) == 5


def test_excluded_paintings_are_left_out(paintings, lda):
    result = recommend(ratings={paintings[0].pk: 5}, recommender="lda", n=2, exclude=[paintings[1].pk])
    assert pks(result, paintings) == [2, 3]


def test_a_painting_deleted_since_the_artefact_was_built_is_not_recommended(paintings, lda):
    paintings[1].delete()
    result = recommend(ratings={paintings[0].pk: 5}, recommender="lda", n=2)
    assert pks(result, paintings) == [2, 3]


def test_all_neutral_ratings_still_rank_by_closeness(paintings, lda):
    result = recommend(ratings={paintings[0].pk: 3}, recommender="lda", n=2)
    assert pks(result, paintings) == [1, 2]
    assert result.applied_weighting == {"lda": "equal"}


def test_minmax_weighting_is_selectable(paintings, lda):
    # paper: w = (1, 0) for ratings 5 and 1, so the dislike of 5 changes nothing: S = A_i0 / 2
    result = recommend(
        ratings={paintings[0].pk: 5, paintings[5].pk: 1}, recommender="lda", n=1, weighting="minmax"
    )
    assert result.items[0].painting_id == paintings[1].pk
    assert result.items[0].score == pytest.approx(0.48, abs=1e-6)
    assert result.weighting == "minmax"


def test_story_group_filter(paintings, lda):
    result = recommend(ratings={paintings[0].pk: 5}, recommender="lda", n=9, story_group="late")
    assert pks(result, paintings) == [3, 4, 5, 6]


def test_artist_filter(paintings, lda):
    result = recommend(ratings={paintings[0].pk: 5}, recommender="lda", artist_id=paintings[4].artist_id)
    assert pks(result, paintings) == [4]


def test_unknown_story_group_is_an_error(paintings, lda):
    with pytest.raises(ValidationFailed) as raised:
        recommend(ratings={paintings[0].pk: 5}, recommender="lda", story_group="baroque")
    assert raised.value.field == "story_group"


def test_unknown_painting_is_an_error_not_skipped(paintings, lda):
    with pytest.raises(UnknownPainting) as raised:
        recommend(ratings={paintings[0].pk: 5, 987654: 4}, recommender="lda")
    assert raised.value.field == "ratings"
    assert raised.value.detail == {"unknown_ids": [987654]}


def test_unknown_excluded_painting_is_an_error(paintings, lda):
    with pytest.raises(UnknownPainting) as raised:
        recommend(ratings={paintings[0].pk: 5}, recommender="lda", exclude=[987654])
    assert raised.value.field == "exclude"


def test_empty_ratings_are_refused(db):
    with pytest.raises(ValidationFailed, match="Rate at least one painting") as raised:
        recommend(ratings={}, recommender="lda")
    assert raised.value.field == "ratings"


def test_rating_outside_1_to_5_names_the_painting(paintings, lda):
    with pytest.raises(InvalidRating) as raised:
        recommend(ratings={paintings[0].pk: 6}, recommender="lda")
    assert raised.value.field == f"ratings.{paintings[0].pk}"


@pytest.mark.parametrize("n", [0, 6, True, "3"])
@override_settings(RECSYS_MAX_N=5)
def test_n_outside_1_to_max_is_refused(paintings, lda, n):
    with pytest.raises(ValidationFailed) as raised:
        recommend(ratings={paintings[0].pk: 5}, recommender="lda", n=n)
    assert raised.value.field == "n"


def test_unknown_recommender(paintings):
    with pytest.raises(UnknownEngine) as raised:
        recommend(ratings={paintings[0].pk: 5}, recommender="word2vec")
    assert raised.value.field == "engine"


def test_engine_without_artefact_is_unavailable(paintings):
    with pytest.raises(EngineUnavailable, match=r"Engine 'clip' is unavailable: .*Set RECSYS_CLIP_MODEL"):
        recommend(ratings={paintings[0].pk: 5}, recommender="clip")


def test_rating_of_a_painting_missing_from_the_artefact_is_reported(paintings, resnet):
    result = recommend(ratings={paintings[0].pk: 5, paintings[6].pk: 4}, recommender="resnet", n=1)
    assert result.ignored_ratings == {paintings[6].pk: f"not in the resnet artefact {resnet.version}"}
    assert pks(result, paintings) == [4]


def test_ignored_reason_includes_the_engines_skip_reason(paintings):
    art = write_artefact(
        engine="resnet",
        paintings=paintings[:6],
        vectors=[(1, 0)] * 6,
        manifest={"skipped": {str(paintings[6].pk): "no image"}},
    )
    result = recommend(ratings={paintings[0].pk: 5, paintings[6].pk: 4}, recommender="resnet", n=1)
    assert result.ignored_ratings[paintings[6].pk] == f"not in the resnet artefact {art.version}: no image"


def test_no_usable_rating_is_refused(paintings, resnet):
    with pytest.raises(ValidationFailed, match="None of the rated paintings") as raised:
        recommend(ratings={paintings[6].pk: 4}, recommender="resnet")
    assert raised.value.field == "ratings"


def test_a_newly_activated_version_is_used_at_once(paintings, lda):
    before = recommend(ratings={paintings[0].pk: 5}, recommender="lda", n=1)
    # the new version puts painting 5 next to painting 0
    vectors = [(1, 0), (0, 1), (0, 1), (0, 1), (0, 1), (0.96, 0.28), (0, -1)]
    newer = write_artefact(engine="lda", paintings=paintings, vectors=vectors)
    after = recommend(ratings={paintings[0].pk: 5}, recommender="lda", n=1)
    assert before.versions == {"lda": lda.version}
    assert after.versions == {"lda": newer.version}
    assert pks(before, paintings) == [1]
    assert pks(after, paintings) == [5]


# -- late fusion ------------------------------------------------------------------------------------
def test_late_total_fuses_full_rankings_of_shared_paintings(paintings, lda, resnet):
    # candidates 1..5 (6 is not in resnet): lda 1,2,3,4,5 and resnet 4,5,3,1,2
    # 1: 1/61 + 1/64 = 0.0320184, 4: the same, 3: 2/63 = 0.0317460
    result = recommend(ratings={paintings[0].pk: 5}, recommender="late-total", n=3)
    assert pks(result, paintings) == [1, 4, 3]
    assert [item.score for item in result.items] == pytest.approx([0.0320184, 0.0320184, 0.0317460], abs=1e-7)
    assert result.items[2].engine_ranks == {"lda": 3, "resnet": 3}
    assert (result.kind, result.mode, result.depth) == ("late", "total", None)


def test_late_partial_drops_what_is_outside_every_top_r(paintings, lda, resnet):
    # top-2 lists: lda 1, 2 and resnet 4, 5; painting 3 (third for both) gets nothing
    result = recommend(ratings={paintings[0].pk: 5}, recommender="late-partial", n=3, depth=2)
    assert pks(result, paintings) == [1, 4, 2]
    assert result.items[2].engine_ranks == {"lda": 2, "resnet": None}
    assert result.depth == 2


def test_late_partial_depth_defaults_to_n(paintings, lda, resnet):
    # top-3 lists: lda 1, 2, 3 and resnet 4, 5, 3: painting 3 is in both (2/63) and wins
    result = recommend(ratings={paintings[0].pk: 5}, recommender="late-partial", n=3)
    assert pks(result, paintings) == [3, 1, 4]
    assert result.depth == 3


def test_late_explanation_comes_from_the_engine_that_ranked_it_best(paintings, lda, resnet):
    result = recommend(ratings={paintings[0].pk: 5}, recommender="late-total", n=2)
    first, second = result.items  # 1: lda rank 1, resnet rank 4; 4: lda 4, resnet 1
    assert first.contributions[0].engine == "lda"
    assert second.contributions[0].engine == "resnet"
    assert second.contributions[0].similarity == pytest.approx(0.96, abs=1e-6)


def test_late_total_leaves_out_paintings_one_engine_cannot_represent(paintings, lda, resnet):
    result = recommend(ratings={paintings[0].pk: 5}, recommender="late-total", n=10)
    assert paintings[6].pk not in [item.painting_id for item in result.items]


def test_late_partial_may_recommend_a_painting_only_one_engine_knows(paintings, lda, resnet):
    result = recommend(ratings={paintings[0].pk: 5}, recommender="late-partial", n=10)
    six = next(item for item in result.items if item.painting_id == paintings[6].pk)
    assert six.engine_ranks == {"lda": 6, "resnet": None}


def test_late_fusion_needs_every_engine_ready(paintings, lda):
    with pytest.raises(EngineUnavailable, match="resnet"):
        recommend(ratings={paintings[0].pk: 5}, recommender="late-total")


# -- similar paintings ------------------------------------------------------------------------------
def test_similar_paintings_from_the_dense_matrix(paintings, lda):
    found = similar_paintings(painting_id=paintings[0].pk, engine="lda", n=3)
    assert [(s.painting_id, s.rank) for s in found] == [
        (paintings[i].pk, r) for r, i in ((1, 1), (2, 2), (3, 3))
    ]
    assert [s.similarity for s in found] == pytest.approx([0.96, 0.8, 0.6], abs=1e-6)


@pytest.mark.parametrize("layout", [{"dense": False, "neighbours_k": 4}, {"dense": False}])
def test_similar_paintings_without_a_dense_matrix_agree(paintings, layout):
    write_artefact(engine="lda", paintings=paintings, vectors=LDA, **layout)
    found = similar_paintings(painting_id=paintings[0].pk, engine="lda", n=3)
    assert [s.painting_id for s in found] == [paintings[1].pk, paintings[2].pk, paintings[3].pk]
    assert [s.similarity for s in found] == pytest.approx([0.96, 0.8, 0.6], abs=1e-6)


@pytest.mark.parametrize("layout", [{}, {"dense": False, "neighbours_k": 4}])
def test_similar_paintings_skip_deleted_paintings(paintings, layout):
    write_artefact(engine="lda", paintings=paintings, vectors=LDA, **layout)
    paintings[2].delete()
    found = similar_paintings(painting_id=paintings[0].pk, engine="lda", n=3)
    assert [s.painting_id for s in found] == [paintings[1].pk, paintings[3].pk, paintings[4].pk]
    assert [s.rank for s in found] == [1, 2, 3]


def test_similar_paintings_of_a_painting_the_engine_lacks(paintings, resnet):
    with pytest.raises(ValidationFailed, match="not in the resnet artefact") as raised:
        similar_paintings(painting_id=paintings[6].pk, engine="resnet")
    assert raised.value.field == "painting"


def test_similar_paintings_of_an_unknown_painting(paintings, lda):
    with pytest.raises(UnknownPainting):
        similar_paintings(painting_id=987654, engine="lda")


# -- status -------------------------------------------------------------------------------------
@pytest.fixture
def models_available(monkeypatch):
    """Whether model weights can be loaded is the engines' business (recsys.selectors), not this one's."""
    monkeypatch.setattr("recsys.selectors.engine_unavailable_reason", lambda name: "")


def test_recommender_names_follow_settings(db):
    assert recommender_names() == ["lda", "resnet", "minilm", "clip", "blip", "late-partial", "late-total"]


def test_single_recommender_is_ready_with_its_version_and_coverage(paintings, resnet, models_available):
    status = recommender_status("resnet")
    assert (status.status, status.reason, status.versions) == ("ready", "", {"resnet": resnet.version})
    assert status.coverage == pytest.approx(6 / 7)
    assert status.engines == {"resnet": 1.0}


def test_late_recommender_is_ready_only_when_all_engines_are(paintings, lda, models_available):
    status = recommender_status("late-total")
    assert status.status == "unavailable"
    assert status.reason.startswith("resnet: no artefact computed yet")
    assert status.versions == {"lda": lda.version, "resnet": None}
    assert status.is_default


def test_a_computing_engine_reports_progress(paintings, lda, models_available):
    Artefact.objects.create(
        engine="resnet", version="r-run", status=Artefact.Status.RUNNING, processed=3, total=12
    )
    status = recommender_status("late-partial")
    assert (status.status, status.progress) == ("computing", 0.25)
    assert status.reason == "resnet: computing (3/12)"


def test_all_statuses_in_settings_order(paintings, lda, resnet, models_available):
    statuses = recommender_statuses()
    assert [(s.name, s.status) for s in statuses] == [
        ("lda", "ready"),
        ("resnet", "ready"),
        ("minilm", "unavailable"),
        ("clip", "unavailable"),
        ("blip", "unavailable"),
        ("late-partial", "ready"),
        ("late-total", "ready"),
    ]
