from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "Visitor web UI"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from web import signals  # noqa: F401  (connects its receivers on import)
