"""The visitor's view of builds: their progress while nothing is ready, and the note that a better
recommender than the one shown is being prepared (issue 21)."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from recsys.models import Artefact
from tests.factories import PaintingFactory
from tests.web.test_recommendations import RECS, rate_in_session


def running(engine: str, **fields) -> Artefact:
    started = timezone.now() - timedelta(seconds=60)
    return Artefact.objects.create(
        engine=engine,
        version=f"{engine}-run",
        status="running",
        started_at=started,
        step_started_at=started,
        **fields,
    )


def test_the_getting_ready_page_shows_each_build_with_its_step_and_time_left(client, db):
    rate_in_session(client, {PaintingFactory().external_id: 5})
    running("lda", step="fit", step_done=12, step_total=48, step_unit="LDA training passes")

    html = client.get(RECS).content.decode()

    # 60 s for 12 of 48 passes: 180 s left
    assert (
        "<strong>Text topics (LDA)</strong>: step 2 of 4, learning from the catalogue: "
        "12/48 LDA training passes, about 3 min left"
    ) in html


def test_ready_status_carries_the_builds_for_the_page_to_update(client, db):
    running("minilm", step="encode", processed=256, total=1024)

    data = client.get(reverse("web:ready_status")).json()

    assert data["ready"] is False
    assert data["building"] == [
        {
            "label": "Text meaning (MiniLM)",
            "text": "step 2 of 3, encoding paintings: 256/1024 paintings, about 3 min left",
        }
    ]


def test_the_list_says_a_better_recommender_is_on_its_way(client, scored, settings):
    settings.RECSYS_DEFAULT_RECOMMENDERS = ["minilm", "late-total", "lda"]
    rate_in_session(client, {"p-a": 5})
    running("minilm", step="encode", processed=500, total=1000)

    response = client.get(RECS)

    html = response.content.decode()
    assert response.context["engine"] == "late-total"
    assert (
        "Better recommendations are on their way: <strong>Text meaning (MiniLM)</strong> is being prepared"
        in html
    )
    assert "(about 1 min left)" in html
    assert 'data-better="minilm"' in html


def test_no_better_note_when_the_best_is_shown_or_the_visitor_chose(client, scored, settings):
    settings.RECSYS_DEFAULT_RECOMMENDERS = ["late-total", "minilm", "lda"]
    rate_in_session(client, {"p-a": 5})
    running("minilm", step="encode", processed=500, total=1000)

    assert "data-better" not in client.get(RECS).content.decode()
    settings.RECSYS_DEFAULT_RECOMMENDERS = ["minilm", "late-total", "lda"]
    assert "data-better" not in client.get(RECS, {"engine": "lda"}).content.decode()
