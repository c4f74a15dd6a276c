from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users and ratings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from users import signals  # noqa: F401  (a password change revokes the API tokens)
