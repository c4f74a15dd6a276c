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
from experiments import selectors, services
from experiments.models import Arm, Experiment, Exposure, Participant, RecommenderDefinition
from recsys.serving.recommenders import default_recommender_name, recommenders
from recsys.serving.selectors import recommender_statuses


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
    """Every recommender with its readiness now: an experiment starts only with ready arms."""
    states = {state.name: state for state in recommender_statuses()}
    choices = []
    for name, config in recommenders().items():
        state = states.get(name)
        if state is None or state.status == "ready":
            readiness = "ready" if state else "readiness unknown"
        else:
            readiness = f"{state.status}: {state.reason}" if state.reason else state.status
        choices.append((name, f"{name} ({config.kind}, {config.source}) — {readiness}"))
    return choices


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
    list_display = ("name", "design", "status", "starts_at", "ends_at", "overlaps", "analysis_link")
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

    @admin.display(description="Overlapping running experiments")
    def overlaps(self, obj: Experiment) -> str:
        if obj.status != Experiment.Status.RUNNING:
            return "-"
        clashes = selectors.overlapping_running(experiment=obj)
        return ", ".join(other.name for other in clashes) or "none"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        running = list(selectors.running_experiments())
        if len(running) > 1:
            names = ", ".join(e.name for e in running)
            messages.warning(
                request,
                f"{len(running)} experiments are running now ({names}); visitors take part only in the "
                "most recently created one. Stop the others.",
            )
        return super().changelist_view(request, extra_context=extra_context)

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
    readonly_fields = ("public_id", "experiment", "visitor_key", "index", "arm", "sequence", "created_at")


@admin.register(Exposure)
class ExposureAdmin(admin.ModelAdmin):
    list_display = (
        "public_id",
        "experiment",
        "arm",
        "step",
        "recommender",
        "fallback_reason",
        "source",
        "created_at",
    )
    list_filter = ("experiment", "source")
    list_select_related = ("experiment", "arm")
    search_fields = ("visitor_key", "recommender")
    readonly_fields = (
        "public_id",
        "experiment",
        "participant",
        "arm",
        "visitor_key",
        "step",
        "recommender",
        "fallback_reason",
        "versions",
        "painting_ids",
        "teams",
        "source",
        "created_at",
    )
