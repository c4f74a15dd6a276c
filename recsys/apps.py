from django.apps import AppConfig


class RecsysConfig(AppConfig):
    name = "recsys"
    verbose_name = "Recommender"
    default_auto_field = "django.db.models.BigAutoField"
