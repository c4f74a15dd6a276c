"""Admin of artefacts: every build with its status, progress, timings, log and error, the
engines' status above the list, and actions to (re)compute engines or cancel a build."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from config.exceptions import ApplicationError
from recsys.build import services
from recsys.build.progress import step_progress, steps_of
from recsys.engines.registry import get_engine
from recsys.models import Artefact
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
