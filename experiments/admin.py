"""Admin of the A/B comparison: recommenders defined here (the settings ones listed read-only
above them), experiments with their arms, start/stop actions and a link to the analysis page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from config.exceptions import ApplicationError
from experiments import services
from experiments.models import Arm, Experiment, Exposure, Participant, RecommenderDefinition
from recsys.serving.recommenders import default_recommender_name, recommenders


@admin.register(RecommenderDefinition)
class RecommenderDefinitionAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "engines", "mode", "rrf_k", "weighting", "mmr_lambda", "updated_at")
    list_filter = ("kind",)
    search_fields = ("name", "description")
    change_list_template = "admin/experiments/recommenderdefinition/change_list.html"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        defaults = [config for config in recommenders().values() if config.source == "settings"]
        extra = {"settings_recommenders": defaults, "default_name": default_recommender_name()}
        return super().changelist_view(request, extra_context={**(extra_context or {}), **extra})


def _recommender_choices() -> list[tuple[str, str]]:
    return [(name, f"{name} ({config.kind}, {config.source})") for name, config in recommenders().items()]


class ArmForm(forms.ModelForm):
    class Meta:
        model = Arm
        fields = ("name", "recommender", "weight")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recommender"] = forms.ChoiceField(choices=_recommender_choices())


class ArmInline(admin.TabularInline):
    model = Arm
    form = ArmForm
    extra = 2


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ("name", "design", "status", "starts_at", "ends_at", "analysis_link")
    list_filter = ("status", "design")
    search_fields = ("name",)
    readonly_fields = ("status", "analysis_link", "created_at")
    fields = (
        "name",
        "description",
        "design",
        "status",
        "starts_at",
        "ends_at",
        "n_recommendations",
        "analysis_link",
        "created_at",
    )
    inlines = (ArmInline,)
    actions = ("start", "stop")

    @admin.display(description="Analysis")
    def analysis_link(self, obj: Experiment) -> str:
        if obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">Analysis, plots and CSV</a>', reverse("experiments:analysis", args=[obj.pk])
        )

    @admin.action(description="Start the selected experiments")
    def start(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        for experiment in queryset:
            try:
                services.experiment_start(experiment=experiment)
            except ApplicationError as exc:
                messages.error(request, f"{experiment}: {exc.message}")
            else:
                messages.info(request, f"{experiment} is running.")

    @admin.action(description="Stop the selected experiments")
    def stop(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        for experiment in queryset:
            services.experiment_stop(experiment=experiment)
            messages.info(request, f"{experiment} is stopped.")


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ("visitor_key", "experiment", "index", "arm", "flagged", "created_at")
    list_filter = ("experiment", "flagged")
    list_select_related = ("experiment", "arm")
    search_fields = ("visitor_key",)
    readonly_fields = ("experiment", "visitor_key", "index", "arm", "sequence", "created_at")


@admin.register(Exposure)
class ExposureAdmin(admin.ModelAdmin):
    list_display = ("id", "experiment", "arm", "visitor_key", "step", "recommender", "source", "created_at")
    list_filter = ("experiment", "source")
    list_select_related = ("experiment", "arm")
    search_fields = ("visitor_key", "recommender")
    readonly_fields = (
        "experiment",
        "participant",
        "arm",
        "visitor_key",
        "step",
        "recommender",
        "versions",
        "painting_ids",
        "source",
        "created_at",
    )
