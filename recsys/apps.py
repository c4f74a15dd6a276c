from django.apps import AppConfig


class RecsysConfig(AppConfig):
    name = "recsys"
    verbose_name = "Recommender"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.test.signals import setting_changed

        from catalog.signals import catalogue_changed
        from recsys import tasks  # noqa: F401  (registers the tasks build.services queues by name)
        from recsys.build import receivers

        catalogue_changed.connect(
            receivers.on_catalogue_changed, dispatch_uid="recsys.refresh_on_catalogue_change"
        )
        setting_changed.connect(receivers.on_setting_changed, dispatch_uid="recsys.clear_engine_cache")
