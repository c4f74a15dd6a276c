"""The analysis page of an experiment (HTML or ``?format=json``), its plot (PNG) and its CSV
export, for active accounts with the experiments view permission (``experiments.view_experiment``:
superusers, and the "curator" group the migrations create). Everyone else, signed in or not,
staff included, gets 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render

from experiments.analysis import analyse
from experiments.exports import exposures_csv
from experiments.models import QUESTION_TEXT, QUESTIONS, Experiment
from experiments.plots import ratings_png

VIEW_PERMISSION = "experiments.view_experiment"


def curators_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and user.is_active and user.has_perm(VIEW_PERMISSION)):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _include_flagged(request: HttpRequest) -> bool:
    return request.GET.get("include_flagged") in {"1", "true", "yes"}


@curators_only
def analysis(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = get_object_or_404(Experiment, pk=pk)
    report = analyse(experiment=experiment, include_flagged=_include_flagged(request))
    if request.GET.get("format") == "json":
        return JsonResponse(report.as_json())
    columns = list(dict.fromkeys(key for row in report.offline for key in row if key != "recommender"))
    context = {
        **admin.site.each_context(request),
        "title": f"Analysis of {experiment.name}",
        "experiment": experiment,
        "report": report,
        "include_flagged": report.included_flagged,
        "questions": [
            {
                "key": q,
                "text": QUESTION_TEXT[q],
                "rows": [(arm, report.descriptives[q][arm]) for arm in report.arms],
                "model": report.models[q] if not isinstance(report.models[q], str) else None,
                "model_note": report.models[q] if isinstance(report.models[q], str) else None,
                "findings": report.findings.get(q, []),
                "contrasts": list(
                    zip(
                        getattr(report.models[q], "contrasts", []),
                        report.findings.get(q, []),
                        strict=False,
                    )
                ),
            }
            for q in QUESTIONS
        ],
        "overlap": [
            (name, [(a, [table[a][b] for b in report.arms]) for a in report.arms])
            for name, table in (("IoU", report.iou), ("RBO (p = 0.9)", report.rbo))
        ],
        "coverage": list(report.coverage.items()),
        "behaviour": list(
            zip(report.clicks, report.liked, [report.mean_rating.get(a) for a in report.arms], strict=False)
        ),
        "offline_columns": columns,
        "offline_rows": [
            [row.get("recommender")] + [row.get(c, "") for c in columns] for row in report.offline
        ],
    }
    return render(request, "experiments/analysis.html", context)


@curators_only
def ratings_plot(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = get_object_or_404(Experiment, pk=pk)
    report = analyse(experiment=experiment, include_flagged=_include_flagged(request))
    return HttpResponse(ratings_png(report), content_type="image/png")


@curators_only
def export_csv(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = get_object_or_404(Experiment, pk=pk)
    response = HttpResponse(exposures_csv(experiment=experiment), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="experiment-{experiment.pk}-exposures.csv"'
    return response
