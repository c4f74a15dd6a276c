"""Routes of the experiments app, mounted at "" by config/urls.py before the API: the staff
analysis pages under ``experiments/`` and the API under ``api/v1/experiments/``."""

from django.urls import path

from experiments import apis, views

app_name = "experiments"
urlpatterns = [
    path("experiments/<int:pk>/analysis/", views.analysis, name="analysis"),
    path("experiments/<int:pk>/analysis/ratings.png", views.ratings_plot, name="ratings-plot"),
    path("experiments/<int:pk>/analysis/exposures.csv", views.export_csv, name="exposures-csv"),
    path("api/v1/experiments/assignment/", apis.AssignmentApi.as_view(), name="api-assignment"),
    path(
        "api/v1/experiments/exposures/<int:exposure_id>/feedback/",
        apis.FeedbackApi.as_view(),
        name="api-feedback",
    ),
    path(
        "api/v1/experiments/exposures/<int:exposure_id>/clicks/",
        apis.ClickApi.as_view(),
        name="api-click",
    ),
]
