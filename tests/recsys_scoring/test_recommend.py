"""recommend() end to end on artefacts written to RECSYS_ARTEFACT_ROOT (see conftest.py)."""

import pytest

from catalog.models import Painting
from config.exceptions import EngineUnavailable, UnknownEngine, ValidationFailed
from recsys.serving.recommend import recommend
from tests.artefact_helpers import write_artefact


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


def test_artist_filter_by_name(paintings, lda):
    result = recommend(ratings={paintings[0].pk: 5}, recommender="lda", artist="vermeer")
    assert pks(result, paintings) == [4]


def test_unknown_artist_is_an_error(paintings, lda):
    for artist in (987654, "Rembrandt"):
        with pytest.raises(ValidationFailed) as raised:
            recommend(ratings={paintings[0].pk: 5}, recommender="lda", artist=artist)
        assert raised.value.field == "artist"


def test_known_artist_without_paintings_in_the_group_recommends_nothing(paintings, lda):
    result = recommend(ratings={paintings[0].pk: 5}, recommender="lda", story_group="early", artist="Vermeer")
    assert result.items == ()


def test_no_usable_rating_reports_them_by_pk(paintings, resnet):
    with pytest.raises(ValidationFailed) as raised:
        recommend(ratings={paintings[6].pk: 4}, recommender="resnet")
    assert raised.value.detail == {
        "ignored_ratings": {paintings[6].pk: f"not in the resnet artefact {resnet.version}"}
    }


def test_story_group_filter(paintings, lda):
    result = recommend(ratings={paintings[0].pk: 5}, recommender="lda", n=9, story_group="late")
    assert pks(result, paintings) == [3, 4, 5, 6]


def test_artist_filter(paintings, lda):
    result = recommend(ratings={paintings[0].pk: 5}, recommender="lda", artist=paintings[4].artist_id)
    assert pks(result, paintings) == [4]


def test_viewable_only_recommends_only_paintings_with_an_image(paintings, lda):
    with_image = [paintings[i].pk for i in (0, 2, 4, 5)]  # the rated painting 0 has one too
    Painting.objects.filter(pk__in=with_image).update(image="paintings/x.jpg", image_status="ok")

    result = recommend(ratings={paintings[0].pk: 5}, recommender="lda", n=9, viewable_only=True)

    assert pks(result, paintings) == [2, 4, 5]


def test_viewable_only_combines_with_the_story_group(paintings, lda):
    Painting.objects.filter(pk__in=[paintings[2].pk, paintings[4].pk]).update(
        image="paintings/x.jpg", image_status="ok"
    )

    result = recommend(
        ratings={paintings[0].pk: 5}, recommender="lda", n=9, story_group="late", viewable_only=True
    )

    assert pks(result, paintings) == [4]


def test_unknown_story_group_is_an_error(paintings, lda):
    with pytest.raises(ValidationFailed) as raised:
        recommend(ratings={paintings[0].pk: 5}, recommender="lda", story_group="baroque")
    assert raised.value.field == "story_group"


def test_empty_ratings_are_refused(db):
    with pytest.raises(ValidationFailed, match="Rate at least one painting") as raised:
        recommend(ratings={}, recommender="lda")
    assert raised.value.field == "ratings"


def test_unknown_recommender(paintings):
    with pytest.raises(UnknownEngine) as raised:
        recommend(ratings={paintings[0].pk: 5}, recommender="word2vec")
    assert raised.value.field == "recommender"


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


@pytest.fixture
def partial_r2(settings):
    """late-partial with R = 2: each engine contributes its top-2 list whatever n is."""
    settings.RECSYS_RECOMMENDERS = settings.RECSYS_RECOMMENDERS | {
        "late-partial": settings.RECSYS_RECOMMENDERS["late-partial"] | {"R": 2}
    }


def test_late_partial_drops_what_is_outside_every_top_r(paintings, lda, resnet, partial_r2):
    # top-2 lists: lda 1, 2 and resnet 4, 5; painting 3 (third for both) gets nothing
    result = recommend(ratings={paintings[0].pk: 5}, recommender="late-partial", n=3)
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


def test_late_total_keeps_paintings_one_engine_cannot_represent(paintings, lda, resnet):
    # painting 6 has no image: lda ranks it 6th, resnet gives it no term, 1/(60 + 6) in all
    result = recommend(ratings={paintings[0].pk: 5}, recommender="late-total", n=10)
    assert pks(result, paintings) == [1, 4, 3, 2, 5, 6]
    six = result.items[-1]
    assert six.engine_ranks == {"lda": 6, "resnet": None}
    assert six.score == pytest.approx(1 / 66)
    assert six.contributions[0].engine == "lda"


def test_late_partial_may_recommend_a_painting_only_one_engine_knows(paintings, lda, resnet):
    result = recommend(ratings={paintings[0].pk: 5}, recommender="late-partial", n=10)
    six = next(item for item in result.items if item.painting_id == paintings[6].pk)
    assert six.engine_ranks == {"lda": 6, "resnet": None}


def test_late_fusion_needs_every_engine_ready(paintings, lda):
    with pytest.raises(EngineUnavailable, match="resnet"):
        recommend(ratings={paintings[0].pk: 5}, recommender="late-total")
