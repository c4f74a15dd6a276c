from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "experiments"
    verbose_name = "Experiments (A/B comparison of recommenders)"

    def ready(self) -> None:
        from experiments import signals  # noqa: F401  (connects the receivers)
        from experiments.recommenders import admin_recommenders
        from recsys.serving.recommenders import register_provider

        register_provider(admin_recommenders)
