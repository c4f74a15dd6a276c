"""``manage.py precompute``, the Artefact admin (list, detail, actions) and engine statuses."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from config.exceptions import EmptyCatalogue
from recsys.build import runs
from recsys.build.services import precompute_engine, precompute_start
from recsys.engines.registry import get_engine
from recsys.models import Artefact
from recsys.serving.selectors import engine_status, engine_statuses
from tests.recsys_pipeline.conftest import make_painting

pytestmark = pytest.mark.django_db


def precompute(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("precompute", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


def test_command_builds_one_engine_with_a_progress_bar(catalogue):
    code, out, err = precompute("--engine", "fake")
    assert code == 0
    assert "fake: artefact fake-" in out and "12 paintings (12 encoded, 0 reused, 0 skipped)" in out
    assert "12/12" in err  # the final state of the tqdm bar
    assert Artefact.objects.get(engine="fake").is_active


def test_command_all_skips_unavailable_engines_and_names_the_setting(catalogue, settings):
    settings.RECSYS_ENABLED_ENGINES = ["missing", "fake"]
    code, _, err = precompute("--engine", "all")
    assert code == 0
    assert "missing: unavailable, skipped" in err and "RECSYS_MISSING_MODEL" in err
    assert list(Artefact.objects.values_list("engine", "status")) == [("fake", "ready")]


def test_command_fails_for_an_unavailable_engine_named_explicitly(db):
    code, _, err = precompute("--engine", "missing")
    assert code == 1 and "RECSYS_MISSING_MODEL" in err


def test_command_rejects_an_unknown_engine(db):
    code, _, err = precompute("--engine", "nope")
    assert code == 1 and "Unknown engine 'nope'" in err


def test_command_exit_code_reports_a_failed_build_but_builds_the_others(catalogue, settings):
    settings.RECSYS_ENABLED_ENGINES = ["fake", "lda"]
    make_painting("sea", 50, description="BOOM")
    code, out, err = precompute()
    assert code == 1 and "fake: failed: RuntimeError" in err and "Not computed: fake" in err
    assert "lda: artefact lda-" in out
    assert dict(Artefact.objects.values_list("engine", "status")) == {"fake": "failed", "lda": "ready"}


@pytest.mark.django_db(transaction=True)  # autocommit, as the command runs: on_commit sends at once
def test_command_async_queues_through_the_services(catalogue):
    code, out, _ = precompute("--engine", "fake", "--async")
    assert code == 0 and "fake: artefact fake-" in out and "finished" in out
    assert Artefact.objects.get().status == "ready"  # tests run tasks eagerly


def test_admin_changelist_shows_runs_and_engine_statuses(admin_client, catalogue):
    precompute_engine(engine="fake")
    response = admin_client.get(reverse("admin:recsys_artefact_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Engines" in page and "RECSYS_MISSING_MODEL" in page and "done" in page


def test_admin_shows_an_open_builds_step_count_and_time_left(admin_client, db):
    started = timezone.now() - timedelta(seconds=30)
    Artefact.objects.create(
        engine="lda",
        version="lda-run",
        status=Artefact.Status.RUNNING,
        step="fit",
        step_done=30,
        step_total=90,
        step_unit="LDA training passes",
        started_at=started,
        step_started_at=started,
    )

    page = admin_client.get(reverse("admin:recsys_artefact_changelist")).content.decode()

    # the run's row and the engines table: 30 s for 30 passes, 60 to go
    assert "step 2 of 4, learning from the catalogue: 30/90 LDA training passes, about 1 min left" in page
    assert "step 2/4: 33%" in page


def test_admin_detail_shows_log_and_fit_facts(admin_client, catalogue):
    row = precompute_engine(engine="fitted")
    response = admin_client.get(reverse("admin:recsys_artefact_change", args=[row.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and "planned: 12 paintings" in page and "fitted_on" in page


def test_admin_action_recomputes_the_selected_engines(
    admin_client, catalogue, django_capture_on_commit_callbacks
):
    row = precompute_engine(engine="fake")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:recsys_artefact_changelist"),
            {"action": "recompute", "_selected_action": [row.pk]},
            follow=True,
        )
    new = Artefact.objects.get(is_active=True)
    assert new.pk != row.pk and new.manifest["mode"] == "incremental"
    assert [str(m) for m in response.context["messages"]] == [
        f"fake: artefact {new.version} is pending (queued for the background worker; progress below)."
    ]


def test_admin_compute_button_reports_an_unavailable_model(admin_client, db):
    response = admin_client.post(
        reverse("admin:recsys_artefact_precompute"), {"engine": "missing"}, follow=True
    )
    assert "RECSYS_MISSING_MODEL" in response.content.decode() and not Artefact.objects.exists()


def test_admin_cancel_action_fails_an_open_run(admin_client, catalogue):
    row = runs.create_run(engine=get_engine("fake"))
    admin_client.post(
        reverse("admin:recsys_artefact_changelist"), {"action": "cancel", "_selected_action": [row.pk]}
    )
    row.refresh_from_db()
    assert row.status == "failed" and row.error == "cancelled by an administrator"


def test_engine_status_ready_with_coverage_of_the_current_catalogue(catalogue):
    row = precompute_engine(engine="fake")
    make_painting("sea", 60)
    status = engine_status("fake")
    assert (status.status, status.version, status.n_items, status.progress) == ("ready", row.version, 12, 1.0)
    assert status.coverage == pytest.approx(12 / 13)


def test_engine_status_unavailable_names_the_setting(db):
    status = engine_status("missing")
    assert status.status == "unavailable" and "RECSYS_MISSING_MODEL" in status.reason


def test_engine_status_computing_and_failed(catalogue):
    row = runs.create_run(engine=get_engine("fake"))
    Artefact.objects.filter(pk=row.pk).update(status="running", processed=3, total=12)
    assert (engine_status("fake").status, engine_status("fake").progress) == ("computing", 0.25)
    runs.mark_failed(row.pk, "disk full")
    status = engine_status("fake")
    assert status.status == "unavailable" and status.reason == "last build failed: disk full"


def test_engine_statuses_use_a_few_queries(catalogue, django_assert_max_num_queries):
    precompute_engine(engine="fake")
    with django_assert_max_num_queries(4):
        statuses = engine_statuses(["fake", "fitted"])
    assert [s.status for s in statuses] == ["ready", "unavailable"]


def test_an_empty_catalogue_is_not_computed_and_says_how_to_fill_it(db, settings):
    """`make run` without the sample: no failed build, no traceback, one message."""
    settings.RECSYS_ENABLED_ENGINES = ["fake", "missing"]
    code, out, err = precompute("--engine", "all")

    assert code == 1 and out == ""
    assert err == (
        "Nothing to compute: the catalogue has no paintings yet: import some (`manage.py "
        "import_catalog --sample`) or add them in the admin; the engines are computed when they arrive."
    )
    assert not Artefact.objects.exists()
    assert engine_status("fake").reason == (
        "the catalogue has no paintings yet: import some (`manage.py import_catalog --sample`) or "
        "add them in the admin; the engines are computed when they arrive"
    )


def test_a_build_of_an_empty_catalogue_is_refused_without_a_row(db):
    with pytest.raises(EmptyCatalogue) as refused:
        precompute_start(engine="fake")

    assert (refused.value.code, refused.value.status_code, refused.value.field) == (
        "empty_catalogue",
        409,
        "engine",
    )
    assert not Artefact.objects.exists()


def test_the_admin_compute_button_on_an_empty_catalogue_says_so(admin_client, db):
    response = admin_client.post(reverse("admin:recsys_artefact_precompute"), {"engine": "fake"}, follow=True)

    (message,) = [str(m) for m in response.context["messages"]]
    assert message.startswith("fake: Nothing to compute: the catalogue has no paintings yet: import some")
    assert not Artefact.objects.exists()
