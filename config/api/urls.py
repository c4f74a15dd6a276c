"""/api/v1/ routes (one thin view per operation; see catalog/apis.py, users/apis.py, recsys/api/views.py).

Museum apps are written against these paths: keep them stable. Paintings are addressed by their
external id.
"""

from django.urls import path, re_path, register_converter

from catalog.apis import PaintingDetailApi, PaintingListApi
from config.api.converters import ExternalIdConverter
from config.api.fallback import UnknownEndpointApi
from experiments.apis import AssignmentApi, ClickApi, FeedbackApi
from recsys.api.elicitation_views import ElicitationApi
from recsys.api.search_views import ImageSearchApi, SearchApi
from recsys.api.tuned import TunedRollbackApi, TunedStatusApi, TunedTrainApi
from recsys.api.views import (
    EngineDetailApi,
    EngineListApi,
    PaintingSimilarApi,
    RecommendationsApi,
    RecommenderDetailApi,
    RecommenderListApi,
)
from users.apis import MyRatingDeleteApi, MyRatingsApi, MyRatingsBulkApi, TokenObtainApi
from users.token_apis import MyTokenDetailApi, MyTokensApi

register_converter(ExternalIdConverter, "painting_id")

urlpatterns = [
    path("auth/token/", TokenObtainApi.as_view(), name="api-auth-token"),
    path("auth/tokens/", MyTokensApi.as_view(), name="api-auth-tokens"),
    path("auth/tokens/<int:token_id>/", MyTokenDetailApi.as_view(), name="api-auth-token-detail"),
    path("paintings/", PaintingListApi.as_view(), name="api-painting-list"),
    path("paintings/<painting_id:external_id>/", PaintingDetailApi.as_view(), name="api-painting-detail"),
    path(
        "paintings/<painting_id:external_id>/similar/",
        PaintingSimilarApi.as_view(),
        name="api-painting-similar",
    ),
    path("me/ratings/", MyRatingsApi.as_view(), name="api-my-ratings"),
    path("me/ratings/bulk/", MyRatingsBulkApi.as_view(), name="api-my-ratings-bulk"),
    path("me/ratings/<painting_id:external_id>/", MyRatingDeleteApi.as_view(), name="api-my-rating-detail"),
    path("recommendations/", RecommendationsApi.as_view(), name="api-recommendations"),
    path("elicitation/", ElicitationApi.as_view(), name="api-elicitation"),
    path("search/", SearchApi.as_view(), name="api-search"),
    path("search/image/", ImageSearchApi.as_view(), name="api-search-image"),
    path("recommenders/", RecommenderListApi.as_view(), name="api-recommender-list"),
    path("recommenders/<str:name>/", RecommenderDetailApi.as_view(), name="api-recommender-detail"),
    path("tuned/", TunedStatusApi.as_view(), name="api-tuned"),
    path("tuned/train/", TunedTrainApi.as_view(), name="api-tuned-train"),
    path("tuned/rollback/", TunedRollbackApi.as_view(), name="api-tuned-rollback"),
    # deprecated aliases of recommenders/ (the same answers), kept for apps written against them
    path("engines/", EngineListApi.as_view(), name="api-engine-list"),
    path("engines/<str:name>/", EngineDetailApi.as_view(), name="api-engine-detail"),
    path("experiments/assignment/", AssignmentApi.as_view(), name="api-experiment-assignment"),
    path(
        "experiments/exposures/<uuid:exposure_id>/feedback/",
        FeedbackApi.as_view(),
        name="api-experiment-feedback",
    ),
    path(
        "experiments/exposures/<uuid:exposure_id>/clicks/",
        ClickApi.as_view(),
        name="api-experiment-click",
    ),
    re_path(r"^(.*/)?$", UnknownEndpointApi.as_view(), name="api-unknown-endpoint"),
]
