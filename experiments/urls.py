"""The staff analysis pages of the experiments app, mounted at "" by config/urls.py. Its API
(``experiments.apis``) is routed under /api/v1/experiments/ by config/api/urls.py."""

from django.urls import path

from experiments import views

app_name = "experiments"
urlpatterns = [
    path("experiments/<int:pk>/analysis/", views.analysis, name="analysis"),
    path("experiments/<int:pk>/analysis/ratings.png", views.ratings_plot, name="ratings-plot"),
    path("experiments/<int:pk>/analysis/exposures.csv", views.export_csv, name="exposures-csv"),
]
