"""Web UI routes (rate paintings, see recommendations, browse and search). Mounted at "" by
config/urls.py, after ``accounts/`` (users.urls: sign in, sign up, password)."""

from django.urls import path

from web import browse, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("elicitation/another/", views.another_set, name="another_set"),
    path("recommendations/", views.recommendations, name="recommendations"),
    path("recommendations/ready/", views.ready_status, name="ready_status"),
    path("my/ratings/save/", views.rating_save, name="rating_save"),
    path(
        "recommendations/feedback/<uuid:exposure_id>/",
        views.experiment_feedback,
        name="experiment_feedback",
    ),
    path("paintings/", browse.browse, name="browse"),
    path("search/", browse.search, name="search"),
    path("search/image/", browse.image_search, name="image_search"),
    path("paintings/<str:external_id>/", views.painting_detail, name="painting"),
    path("paintings/<str:external_id>/rate/", views.painting_rate, name="painting_rate"),
    path("paintings/<str:external_id>/rating/remove/", views.rating_remove, name="rating_remove"),
    path("my/ratings/", views.my_ratings, name="my_ratings"),
]
