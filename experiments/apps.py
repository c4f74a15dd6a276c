from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "experiments"
    verbose_name = "Experiments (A/B comparison of recommenders)"

    def ready(self) -> None:
        from experiments import signals  # noqa: F401  (connects the receivers)
        from experiments.recommenders import admin_recommenders
        from recsys.serving.recommenders import register_provider

        register_provider(admin_recommenders)

        from experiments.exposure_feedback import exposure_feedback_since, exposure_histories
        from recsys.build.feedback import FeedbackSource, register_feedback_source

        register_feedback_source(FeedbackSource("exposures", exposure_histories, exposure_feedback_since))
