"""Admin of artefacts: every build with its status, progress, timings, log and error, the
engines' status above the list, and actions to (re)compute engines or cancel a build; and of
the tuned spaces' versions, with retrain, roll-back and untuned buttons."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from config.exceptions import ApplicationError
from recsys.build import services, tuned
from recsys.engines.registry import get_engine
from recsys.models import Artefact, TunedSpace
from recsys.serving.progress import step_progress, steps_of
from recsys.serving.selectors import engine_statuses

AUTO_REFRESH_S = 5


def _start(request: HttpRequest, engines: list[str], *, full: bool) -> None:
    for engine in engines:
        try:
            row = services.precompute_start(engine=engine, full=full)
        except ApplicationError as exc:
            messages.error(request, f"{engine}: {exc.message}")
            continue
        except Exception as exc:  # eager mode builds in this request; the row holds the traceback
            messages.error(request, f"{engine}: build failed: {type(exc).__name__}: {exc}")
            continue
        row.refresh_from_db()
        messages.info(
            request,
            f"{engine}: artefact {row.version} is {row.get_status_display().lower()}"
            + (
                " (queued for the background worker; progress below)."
                if row.status in Artefact.OPEN_STATUSES
                else "."
            ),
        )


@admin.register(Artefact)
class ArtefactAdmin(admin.ModelAdmin):
    list_display = (
        "version",
        "engine",
        "status",
        "is_active",
        "progress_display",
        "n_items",
        "n_skipped",
        "created_at",
        "duration_display",
    )
    list_filter = ("engine", "status", "is_active")
    search_fields = ("version", "engine", "error")
    actions = ("recompute", "recompute_full", "cancel")
    fieldsets = (
        (
            None,
            {"fields": ("engine", "version", "status", "is_active", "model_id", "path", "catalogue_hash")},
        ),
        (
            "Progress",
            {
                "fields": (
                    "progress_display",
                    "celery_task_id",
                    "created_at",
                    "started_at",
                    "finished_at",
                    "activated_at",
                    "duration_display",
                    "timings_display",
                )
            },
        ),
        ("Result", {"fields": ("n_items", "n_skipped", "fit_display", "skipped_display")}),
        ("Problems", {"fields": ("error", "log_display")}),
        ("Parameters", {"fields": ("params_display",)}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Artefact | None = None) -> list[str]:
        return [f for _, options in self.fieldsets for f in options["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Artefact | None = None) -> bool:
        return False  # versions are pruned by the pipeline, files and rows together

    # -- columns -------------------------------------------------------------------------------
    @admin.display(description="progress")
    def progress_display(self, obj: Artefact) -> str:
        if obj.status == Artefact.Status.READY:
            return "done"
        if obj.status in Artefact.OPEN_STATUSES:  # the step, its count and the time left
            try:
                engine = get_engine(obj.engine)
                steps = steps_of(needs_fit=engine.needs_fit, scores_pairs=engine.scores_pairs)
            except Exception:  # an engine no longer configured: its steps are unknown
                steps = []
            return step_progress(obj, steps=steps).describe()
        return f"{obj.processed}/{obj.total} ({obj.progress:.0%})" if obj.total else "-"

    @admin.display(description="duration")
    def duration_display(self, obj: Artefact) -> str:
        return f"{obj.duration_s:.1f} s" if obj.duration_s is not None else "-"

    @staticmethod
    def _pre(value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True, default=str)
        return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text or "-")

    @admin.display(description="timings")
    def timings_display(self, obj: Artefact) -> str:
        return self._pre(obj.manifest.get("timings", {}))

    @admin.display(description="fit facts")
    def fit_display(self, obj: Artefact) -> str:
        return self._pre(obj.manifest.get("fit", {}))

    @admin.display(description="skipped (first ones)")
    def skipped_display(self, obj: Artefact) -> str:
        return self._pre(obj.manifest.get("skipped", []))

    @admin.display(description="log")
    def log_display(self, obj: Artefact) -> str:
        return self._pre(obj.log)

    @admin.display(description="parameters")
    def params_display(self, obj: Artefact) -> str:
        return self._pre(obj.params)

    # -- actions -------------------------------------------------------------------------------
    @admin.action(description="Recompute the selected artefacts' engines (incremental)")
    def recompute(self, request: HttpRequest, queryset: QuerySet[Artefact]) -> None:
        _start(request, sorted(set(queryset.values_list("engine", flat=True))), full=False)

    @admin.action(description="Recompute the selected artefacts' engines from scratch (refit)")
    def recompute_full(self, request: HttpRequest, queryset: QuerySet[Artefact]) -> None:
        _start(request, sorted(set(queryset.values_list("engine", flat=True))), full=True)

    @admin.action(description="Cancel the selected pending/running builds")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Artefact]) -> None:
        cancelled = [row.version for row in queryset if services.precompute_cancel(artefact=row)]
        messages.info(request, f"Cancelled: {', '.join(cancelled) or 'none (no open build selected)'}.")

    # -- engine overview with "compute" buttons (works before any artefact exists) ----------------
    def get_urls(self) -> list:
        view = self.admin_site.admin_view(require_POST(self.precompute_view))
        return [path("precompute/", view, name="recsys_artefact_precompute"), *super().get_urls()]

    def precompute_view(self, request: HttpRequest) -> HttpResponseRedirect:
        if not self.has_change_permission(request):
            messages.error(request, "You may not start computations.")
        else:
            _start(request, [request.POST.get("engine", "")], full=request.POST.get("full") == "1")
        return redirect(reverse("admin:recsys_artefact_changelist"))

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        building = Artefact.objects.filter(status__in=Artefact.OPEN_STATUSES).exists()
        extra_context = {
            **(extra_context or {}),
            "engine_statuses": engine_statuses(),
            "building": building,  # the page refreshes itself while a build is open
            "refresh_s": AUTO_REFRESH_S,
        }
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(TunedSpace)
class TunedSpaceAdmin(admin.ModelAdmin):
    """Versions of the tuned spaces; above the list the active one, the feedback there is now and
    buttons to retrain, roll back or go back to the untuned space."""

    list_display = (
        "version",
        "status",
        "is_active",
        "n_visitors",
        "n_ratings",
        "n_triplets",
        "trigger",
        "finished_at",
    )
    list_filter = ("status", "is_active", "trigger")
    actions = ("activate",)
    fields = (
        "version",
        "status",
        "is_active",
        "engines",
        "path",
        "trigger",
        "n_visitors",
        "n_ratings",
        "n_triplets",
        "created_at",
        "started_at",
        "finished_at",
        "activated_at",
        "feedback_display",
        "training_display",
        "error",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: TunedSpace | None = None) -> bool:
        return False  # versions are pruned with their files

    @admin.display(description="feedback it was trained on")
    def feedback_display(self, obj: TunedSpace) -> str:
        return ArtefactAdmin._pre(obj.manifest.get("feedback", {}))

    @admin.display(description="training (triplets, losses, loss curve per engine)")
    def training_display(self, obj: TunedSpace) -> str:
        return ArtefactAdmin._pre(obj.manifest.get("training", {}))

    @admin.action(description="Activate the selected ready version")
    def activate(self, request: HttpRequest, queryset: QuerySet[TunedSpace]) -> None:
        if queryset.count() != 1:
            messages.error(request, "Select exactly one version to activate.")
            return
        self._run(request, lambda: tuned.tuned_activate(version=queryset.get().version), "activated")

    def _run(self, request: HttpRequest, action: Any, done: str) -> None:
        if not self.has_change_permission(request):
            messages.error(request, "You may not change the tuned spaces.")
            return
        try:
            row = action()
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return
        if row is None:
            messages.info(request, "The recommenders use the untuned space now.")
            return
        row.refresh_from_db()
        messages.info(request, f"Tuned version {row.version} {done} ({row.get_status_display().lower()}).")

    def get_urls(self) -> list:
        def post(view: Any) -> Any:
            return self.admin_site.admin_view(require_POST(view))

        return [
            path("train/", post(self.train_view), name="recsys_tunedspace_train"),
            path("rollback/", post(self.rollback_view), name="recsys_tunedspace_rollback"),
            path("untune/", post(self.untune_view), name="recsys_tunedspace_untune"),
            *super().get_urls(),
        ]

    def _back(self) -> HttpResponseRedirect:
        return redirect(reverse("admin:recsys_tunedspace_changelist"))

    def train_view(self, request: HttpRequest) -> HttpResponseRedirect:
        self._run(request, lambda: tuned.tuned_request(trigger="admin"), "queued")
        return self._back()

    def rollback_view(self, request: HttpRequest) -> HttpResponseRedirect:
        self._run(request, tuned.tuned_rollback, "is active again")
        return self._back()

    def untune_view(self, request: HttpRequest) -> HttpResponseRedirect:
        self._run(request, tuned.tuned_deactivate, "")
        return self._back()

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        training = TunedSpace.objects.filter(status__in=TunedSpace.OPEN_STATUSES).first()
        extra_context = {
            **(extra_context or {}),
            "active": TunedSpace.objects.filter(is_active=True).first(),
            "training": training,
            "feedback": tuned.feedback_summary(),
            "due": tuned.tuned_due(),
            "engines": settings.RECSYS_TUNED_ENGINES,
            "refresh_s": AUTO_REFRESH_S,
        }
        return super().changelist_view(request, extra_context=extra_context)
