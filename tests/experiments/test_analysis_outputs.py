"""Every output of the analysis (HTML, JSON, PNG, CSV) for every design, empty and with data."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from experiments.exports import COLUMNS
from experiments.models import Exposure
from tests.experiments.conftest import make_experiment

ARMS = {
    "between": (("A", "lda", 1.0), ("B", "resnet", 1.0)),
    "within": (("A", "lda", 1.0), ("B", "resnet", 1.0), ("C", "clip", 1.0)),
    "interleaved": (("A", "lda", 1.0), ("B", "resnet", 1.0)),
}


def _experiment(design: str, filled: bool):
    experiment = make_experiment(design=design, arms=ARMS[design])
    if filled:
        call_command(
            "simulate_experiment",
            str(experiment.pk),
            "--participants",
            "12",
            "--seed",
            "5",
            stdout=io.StringIO(),
        )
    return experiment


@pytest.fixture(
    params=[(d, f) for d in ARMS for f in (False, True)],
    ids=lambda p: f"{p[0]}-{'data' if p[1] else 'empty'}",
)
def case(request, lda, paintings):
    design, filled = request.param
    return _experiment(design, filled), filled


def test_html(staff_client, case):
    experiment, _ = case
    page = staff_client.get(reverse("experiments:analysis", args=[experiment.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"{Exposure.objects.filter(experiment=experiment).count()} lists shown" in html
    if experiment.is_interleaved:
        assert "Share of wins of B" in html and "not asked about" in html
    else:
        assert "The recommended paintings are diverse" in html and "What the terms mean" in html


def test_json(staff_client, case):
    experiment, filled = case
    report = staff_client.get(
        reverse("experiments:analysis", args=[experiment.pk]), {"format": "json"}
    ).json()
    assert report["design"] == experiment.design
    assert report["participants"] == (12 if filled else 0)
    assert report["arms"] == [name for name, _, _ in ARMS[experiment.design]]
    assert (report["answered"] > 0) is (filled and not experiment.is_interleaved)
    assert (report["interleaving"] is not None) is experiment.is_interleaved


def test_png(staff_client, case):
    experiment, _ = case
    response = staff_client.get(reverse("experiments:ratings-plot", args=[experiment.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_csv(staff_client, case):
    experiment, _ = case
    response = staff_client.get(reverse("experiments:exposures-csv", args=[experiment.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) - 1 == Exposure.objects.filter(experiment=experiment).count()
