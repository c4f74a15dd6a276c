"""The recommendation answer is built as plain data (``recsys.api.response_data.recommendations_data``)
and must be exactly what ``RecommendationsSerializer``, the documented schema, gives."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from catalog.models import Painting
from catalog.selectors import painting_summaries_by_pk, paintings_by_pk
from catalog.serializers import PaintingSummarySerializer
from catalog.thumbnails import thumbnail_url
from recsys.api.response_data import painting_summary_data, recommendations_data
from recsys.api.response_serializers import RecommendationsSerializer
from recsys.serving.explanations import reasons
from recsys.serving.recommend import recommend


def _request() -> Request:
    return Request(APIRequestFactory().post("/api/v1/recommendations/"))


def _absolute(request: Request):
    return lambda url: None if url is None else request.build_absolute_uri(url)


def _serializer_body(result, request: Request) -> dict:
    """The answer as the serializer renders it from model instances (the reference)."""
    explaining = {c.painting_id for item in result.items for c in item.contributions}
    paintings = paintings_by_pk(
        pks={i.painting_id for i in result.items} | set(result.ignored_ratings) | explaining
    )

    def contribution(c) -> dict:
        painting = paintings.get(c.painting_id)
        thumbnail = thumbnail_url(painting) if painting is not None else None
        return {
            "painting": painting.external_id if painting is not None else c.external_id,
            "title": painting.title if painting is not None else "",
            "thumbnail_url": request.build_absolute_uri(thumbnail) if thumbnail else None,
            "rating": c.rating,
            "weight": c.weight,
            "similarity": c.similarity,
            "contribution": c.contribution,
            "engine": c.engine,
        }

    body = {
        "recommender": result.recommender,
        "engine": result.recommender,
        "kind": result.kind,
        "mode": result.mode,
        "mmr_lambda": result.mmr_lambda,
        "weighting": result.weighting,
        "applied_weighting": result.applied_weighting,
        "versions": result.versions,
        "n": 3,
        "experiment_overrides": {},
        "ignored_ratings": {paintings[pk].external_id: why for pk, why in result.ignored_ratings.items()},
        "results": [
            {
                "rank": item.rank,
                "score": item.score,
                "painting": paintings[item.painting_id],
                "reasons": [
                    {
                        "painting": paintings[r.painting_id].external_id,
                        "title": paintings[r.painting_id].title,
                        "rating": r.rating,
                        "effect": r.effect,
                    }
                    for r in reasons(item.contributions)
                ],
                "explanation": {
                    "contributions": [contribution(c) for c in item.contributions],
                    "engine_ranks": item.engine_ranks,
                },
            }
            for item in result.items
        ],
        "exposure": None,
    }
    return RecommendationsSerializer(body, context={"request": request}).data


def test_plain_answer_equals_the_serializers(paintings, minilm):
    # d has neither artist nor story group: the null branches of the summary
    Painting.objects.filter(pk=paintings["d"].pk).update(artist=None, story_group=None)
    result = recommend(ratings={paintings["a"].pk: 5, paintings["b"].pk: 1}, recommender="minilm", n=3)
    request = _request()
    explaining = {c.painting_id for item in result.items for c in item.contributions}
    rows = painting_summaries_by_pk(pks={i.painting_id for i in result.items} | explaining)
    plain = recommendations_data(result, paintings=rows, exposure=None, absolute=_absolute(request), n=3)
    expected = _serializer_body(result, request)
    assert [r["painting"]["id"] for r in plain["results"]] == ["p-e", "p-c", "p-d"]
    assert plain == expected
    assert plain["results"][2]["painting"]["artist"] is None
    assert plain["results"][0]["explanation"]["contributions"][0]["thumbnail_url"].startswith(
        "http://testserver/media/thumbnails/p-a-"
    )


def test_plain_summary_equals_the_serializers_for_every_painting(paintings):
    Painting.objects.filter(pk=paintings["b"].pk).update(story_group=None)
    request = _request()
    rows = painting_summaries_by_pk(pks=[p.pk for p in paintings.values()])
    instances = paintings_by_pk(pks=[p.pk for p in paintings.values()])
    for pk, row in rows.items():
        expected = PaintingSummarySerializer(instances[pk], context={"request": request}).data
        assert painting_summary_data(row, _absolute(request)) == expected
    assert len(rows) == 5
