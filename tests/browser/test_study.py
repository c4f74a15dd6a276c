"""One participant walks through a within-subjects study in headless Chromium: every list of
their sequence, a reload and a back-navigation on the way, the four questions under each list,
no recommender named and no selector while the study runs, and one exposure per list shown."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from experiments.models import Arm, Experiment, Exposure, Feedback, Participant
from tests.browser.conftest import publish
from tests.browser.test_visitor import rate_set

pytestmark = pytest.mark.slow

ANSWERS = (4, 3, 5, 2)


def answer(page: Page) -> None:
    form = page.locator("section.feedback")
    for fieldset, value in zip(form.locator("fieldset").all(), ANSWERS, strict=True):
        fieldset.locator(f"input[value='{value}']").check()
    form.get_by_role("button").click()


def test_a_participant_walks_through_a_within_subjects_study(live_site, desktop, collection, shoot):
    publish(("lda", "resnet"), collection)
    experiment = Experiment.objects.create(
        name="paper", design="within", status="running", n_recommendations=6
    )
    Arm.objects.create(experiment=experiment, name="A", recommender="lda")
    Arm.objects.create(experiment=experiment, name="B", recommender="resnet")
    page = desktop
    page.goto(live_site + "/")
    rate_set(page, shoot)
    page.get_by_role("button", name="Show my recommendations").click()
    expect(page).to_have_url(re.compile(r"/recommendations/$"))

    steps = len(Participant.objects.get().sequence)
    assert steps == 3  # both arms, one of them twice (the attention check)
    for step in range(1, steps + 1):
        expect(page.locator(".feedback__step")).to_have_text(f"(list {step} of {steps})")
        expect(page.get_by_label("Recommend by")).to_have_count(0)
        expect(page.locator("main")).not_to_contain_text(re.compile(r"LDA|ResNet|lda|resnet"))
        expect(page.locator(".grid--recs > li")).to_have_count(6)
        shoot(page, f"list-{step}")
        page.reload()  # a reload shows the same list, logged once
        expect(page.locator(".feedback__step")).to_have_text(f"(list {step} of {steps})")
        if step == 2:  # to a painting and back: still the same list
            page.locator(".grid--recs > li .art__title a").first.click()
            expect(page).to_have_url(re.compile(r"/paintings/.+\?from="))
            page.go_back()
        assert Exposure.objects.count() == step
        answer(page)
        expect(page.locator("ul.messages")).to_contain_text("Thank you for your answers")

    shoot(page, "done")
    expect(page.locator("section.feedback")).to_have_count(0)
    expect(page.get_by_label("Recommend by")).to_have_count(1)  # the study is over
    assert Exposure.objects.count() == steps == Feedback.objects.count()
    participant = Participant.objects.get()
    assert [e.arm_id for e in Exposure.objects.order_by("step")] == participant.sequence
    assert participant.flagged is False  # the same answers to the repeated arm
