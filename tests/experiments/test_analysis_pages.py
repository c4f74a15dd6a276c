"""The staff analysis page, its plot, CSV export, JSON and the simulate command."""

import csv
import io
import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from catalog.models import Painting
from experiments.exports import COLUMNS
from experiments.models import Exposure, Feedback, Participant
from experiments.offline import MISSING, report_rows
from tests.artefact_helpers import write_artefact
from tests.experiments.conftest import make_experiment
from tests.factories import PaintingFactory, StoryGroupFactory, UserFactory


@pytest.fixture
def simulated(lda, paintings):
    experiment = make_experiment(arms=(("A", "lda", 1.0), ("B", "resnet", 1.0)))
    call_command(
        "simulate_experiment", str(experiment.pk), "--participants", "30", "--seed", "3", stdout=io.StringIO()
    )
    return experiment


@pytest.mark.parametrize("name", ["analysis", "ratings-plot", "exposures-csv"])
def test_everyone_without_the_experiments_view_permission_gets_403(client, between, name):
    url = reverse(f"experiments:{name}", args=[between.pk])
    assert client.get(url).status_code == 403
    assert client.get(url, {"format": "json"}, HTTP_ACCEPT="application/json").status_code == 403
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    client.force_login(UserFactory(is_staff=True))  # staff alone is not enough
    assert client.get(url).status_code == 403
    assert client.get(url, {"format": "json"}).status_code == 403


@pytest.mark.parametrize("name", ["analysis", "ratings-plot", "exposures-csv"])
def test_the_curator_group_may_read_every_output(client, between, name):
    from django.contrib.auth.models import Group

    curator = Group.objects.get(name="curator")
    assert set(curator.permissions.values_list("codename", flat=True)) >= {"view_experiment", "view_exposure"}
    user = UserFactory()
    user.groups.add(curator)
    client.force_login(user)
    assert client.get(reverse(f"experiments:{name}", args=[between.pk])).status_code == 200


def test_staff_page_shows_the_analysis(staff_client, simulated, tmp_path):
    with override_settings(EVALUATION_RESULTS_PATH=tmp_path / "none.json"):
        page = staff_client.get(reverse("experiments:analysis", args=[simulated.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    for text in ("The recommended paintings are diverse", "p (Holm)", "Click-through", "RBO", MISSING):
        assert text in html


def test_json_analysis_reports_arms_models_and_overlap(staff_client, simulated):
    report = staff_client.get(reverse("experiments:analysis", args=[simulated.pk]), {"format": "json"}).json()
    assert report["arms"] == ["A", "B"] and report["participants"] == 30
    n_a = report["descriptives"]["accuracy"]["A"]["n"]
    answered = Feedback.objects.filter(exposure__arm__name="A", exposure__participant__flagged=False).count()
    assert n_a == answered
    assert report["clicks"][0]["trials"] == Exposure.objects.filter(arm__name="A").count()
    assert 0 <= report["rbo"]["A"]["A"] <= 1
    assert report["coverage"]["all"] > 0
    model = report["models"]["accuracy"]
    assert isinstance(model, dict) and model["contrasts"][0]["a"] == "A"


@pytest.fixture
def evaluated(db, settings, tmp_path):
    """A real ``manage.py evaluate`` report (LDA only, two story groups it separates)."""
    sea, flowers = StoryGroupFactory(slug="sea"), StoryGroupFactory(slug="flowers")
    paintings = [PaintingFactory(story_group=group) for group in (sea, flowers) for _ in range(6)]
    offsets = np.linspace(0.0, 0.2, 6)
    vectors = [[1.0, x] for x in offsets] + [[x, 1.0] for x in offsets]
    write_artefact(engine="lda", paintings=paintings, vectors=vectors, dense=False)
    path = tmp_path / "latest.json"
    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    call_command("evaluate", "--visitors", "4", "--seed", "1", "--json", str(path), **quiet)
    settings.EVALUATION_RESULTS_PATH = path
    return json.loads(path.read_text())


def test_offline_rows_of_the_arms_recommenders_from_a_real_report(staff_client, evaluated):
    experiment = make_experiment(arms=(("A", "lda", 1.0), ("B", "resnet", 1.0)))
    url = reverse("experiments:analysis", args=[experiment.pk])
    report = staff_client.get(url, {"format": "json"}).json()
    html = staff_client.get(url).content.decode()
    lda = evaluated["protocols"]["simulated"]["recommenders"]["lda"]
    low, high = lda["ndcg@9"]["ci95"]
    # resnet is not ready, so the evaluation has no row for it; leave-k-out was skipped (no users)
    assert evaluated["protocols"]["leave_k_out"]["status"] == "skipped"
    assert report["offline"] == [
        {
            "recommender": "lda",
            "protocol": "simulated",
            "nDCG@9": round(lda["ndcg@9"]["mean"], 4),
            "nDCG@9 95% CI": f"{low:.3f} to {high:.3f}",
            "precision@9": round(lda["precision@9"]["mean"], 4),
            "recall@50": round(lda["recall@50"]["mean"], 4),
            "ILD": round(lda["ild"]["mean"], 4),
            "novelty (bits)": None,  # no stored ratings: no popularity
            "coverage": round(lda["coverage"], 4),
            "visitors": 6,  # 4 of the mixed rating pattern and 2 "few likes" (issue 17)
        }
    ]
    assert report["offline_note"] is None
    assert "nDCG@9 95% CI" in html and MISSING not in html


def test_a_report_of_another_schema_is_not_guessed_at():
    rows, note = report_rows({"results": [{"recommender": "lda", "ndcg@10": 0.31}]}, ["lda"])
    assert rows == [] and note == "the offline evaluation has schema None; this page reads schema 1"


def test_plot_is_a_png(staff_client, simulated):
    response = staff_client.get(reverse("experiments:ratings-plot", args=[simulated.pk]))
    assert response["Content-Type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_csv_has_one_row_per_exposure_with_the_answers(staff_client, simulated):
    response = staff_client.get(reverse("experiments:exposures-csv", args=[simulated.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) - 1 == Exposure.objects.filter(experiment=simulated).count()
    first = Exposure.objects.filter(experiment=simulated).order_by("created_at", "id").first()
    row = dict(zip(rows[0], rows[1], strict=True))
    external = dict(Painting.objects.values_list("pk", "external_id"))
    assert row["paintings"] == " ".join(external[pk] for pk in first.painting_ids)
    assert row["exposure"] == str(first.public_id) and row["participant"] == str(first.participant.public_id)
    assert "visitor_key" not in row and "sim-" not in response.content.decode()
    assert int(row["accuracy"]) == first.feedback.accuracy


def test_simulation_uses_the_ready_recommender_and_flags_nobody_between(simulated, lda):
    lda_lists = Exposure.objects.filter(experiment=simulated, arm__name="A")
    assert lda_lists.exists() and all(e.versions == {"lda": lda.version} for e in lda_lists)
    assert all(e.versions == {} for e in Exposure.objects.filter(arm__name="B"))  # resnet not computed
    assert Participant.objects.filter(experiment=simulated).count() == 30


def test_simulation_within_subjects_flags_inconsistent_participants(paintings):
    experiment = make_experiment(
        design="within", arms=(("A", "lda", 1), ("B", "resnet", 1), ("C", "clip", 1))
    )
    call_command("simulate_experiment", experiment.name, "--participants", "40", stdout=io.StringIO())
    assert Exposure.objects.filter(experiment=experiment).count() == 40 * 4
    assert 0 < Participant.objects.filter(experiment=experiment, flagged=True).count() < 40


def test_simulation_refuses_a_draft(paintings):
    experiment = make_experiment(status="draft")
    with pytest.raises(CommandError, match="start it first"):
        call_command("simulate_experiment", str(experiment.pk))


def test_experiment_admin_links_to_the_analysis(admin_client, between):
    page = admin_client.get(reverse("admin:experiments_experiment_change", args=[between.pk]))
    assert reverse("experiments:analysis", args=[between.pk]) in page.content.decode()
    listing = admin_client.get(reverse("admin:experiments_recommenderdefinition_changelist"))
    assert "late-total" in listing.content.decode()
