"""A guest's visit in headless Chromium, at 1280 px and at 390 px: rate the elicitation set (every
star saves at once), get nine recommendations with images and explanations, rate one and see the
list change, sign up and keep the ratings; and the "getting ready" state that updates by itself."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from recsys.models import Artefact
from tests.browser.conftest import images_loaded, publish
from users.models import Rating, User

pytestmark = pytest.mark.slow

#: stars given to the first four paintings of the set
GIVEN = (5, 4, 5, 4)


def rate_set(page: Page, shoot) -> list[str]:
    """Rate the first four paintings of the elicitation set by clicking stars; returns their ids."""
    cards = page.locator(".grid--rate > li")
    expect(cards).to_have_count(9)
    widths = images_loaded(page, ".grid--rate")
    assert len(widths) == 9 and all(w > 0 for w in widths), widths
    expect(page.locator(".art__missing")).to_have_count(0)
    expect(page.locator(".grid--rate > li[data-painting^='blind-']")).to_have_count(0)
    shoot(page, "elicitation-set")
    rated = []
    for index, stars in enumerate(GIVEN):
        card = cards.nth(index)
        external_id = card.get_attribute("data-painting")
        card.locator(f"label[for='id_rating-{external_id}_{stars - 1}']").click()
        expect(card.locator("[data-saved]")).to_have_text("Saved")
        rated.append(external_id)
    expect(page.locator(".rate-bar__count")).to_contain_text("4 of 9 rated")
    return rated


def check_recommendations(page: Page) -> list[str]:
    cards = page.locator(".grid--recs > li")
    expect(cards).to_have_count(9)
    expect(page.locator(".grid--recs > li[data-painting^='blind-']")).to_have_count(0)
    widths = images_loaded(page, ".grid--recs")
    assert len(widths) == 9 and all(w > 0 for w in widths), widths
    for i in range(9):
        expect(cards.nth(i).locator(".why li").first).to_contain_text("Because you liked")
    return [cards.nth(i).get_attribute("data-painting") for i in range(9)]


def test_guest_rates_gets_recommendations_rates_one_and_signs_up(live_site, desktop, collection, shoot):
    publish(("lda", "resnet"), collection)
    page = desktop
    page.goto(live_site + "/")

    rated = rate_set(page, shoot)
    shoot(page, "rated-four")
    page.get_by_role("button", name="Show my recommendations").click()

    expect(page).to_have_url(re.compile(r"/recommendations/$"))
    expect(page.get_by_label("Recommend by")).to_have_value("late-total")
    first_list = check_recommendations(page)
    assert not set(first_list) & set(rated)
    shoot(page, "recommendations")

    top = first_list[0]
    page.locator(f"[data-painting='{top}'] label[for='qr-{top}-1']").click()  # one star: not for me
    page.wait_for_url(re.compile(r"/recommendations/$"))
    expect(page.locator(f".grid--recs > li[data-painting='{top}']")).to_have_count(0)
    second_list = check_recommendations(page)
    assert second_list != first_list
    shoot(page, "after-rating-one")

    page.get_by_role("link", name="Create account").click()
    page.fill("#id_username", "guest")
    page.fill("#id_email", "guest@example.org")
    page.fill("#id_password1", "a long enough pass phrase 42")
    page.fill("#id_password2", "a long enough pass phrase 42")
    page.get_by_role("button", name=re.compile("Create account", re.I)).click()
    expect(page.locator(".nav__name")).to_have_text("guest")
    page.goto(live_site + "/my/ratings/")
    expect(page.locator(".rated-list > li")).to_have_count(5)
    shoot(page, "signed-up-ratings-kept")

    user = User.objects.get(username="guest")
    stored = dict(Rating.objects.filter(user=user).values_list("painting__external_id", "value"))
    assert stored == dict(zip(rated, GIVEN, strict=True)) | {top: 1}


def test_phone_progress_bar_stays_reachable_and_cards_are_compact(live_site, phone, collection, shoot):
    publish(("lda", "resnet"), collection)
    page = phone
    page.goto(live_site + "/")

    rate_set(page, shoot)
    bar = page.locator(".rate-bar")
    page.mouse.wheel(0, 600)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    box = bar.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844 + 0.5, box
    expect(bar.get_by_role("button", name="Show my recommendations")).to_be_in_viewport()
    shoot(page, "scrolled-bar-visible", full_page=False)
    # compact: two cards side by side, the whole set within about three screens
    first, second = (page.locator(".grid--rate > li").nth(i).bounding_box() for i in (0, 1))
    assert first["y"] == second["y"] and first["width"] < 195
    assert page.evaluate("document.documentElement.scrollHeight") < 3 * 844
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("button", name="Show another set").click()  # a new draw, still all viewable
    expect(page.locator(".grid--rate > li")).to_have_count(9)
    assert all(w > 0 for w in images_loaded(page, ".grid--rate"))
    expect(page.locator(".rate-bar__count")).to_contain_text("of 9 rated")
    shoot(page, "another-set", full_page=False)

    page.locator(".rate-bar").get_by_role("button", name="Show my recommendations").click()
    expect(page).to_have_url(re.compile(r"/recommendations/$"))
    check_recommendations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "recommendations")


def test_while_engines_compute_the_page_waits_and_updates_itself(live_site, desktop, collection, shoot):
    Artefact.objects.create(engine="lda", version="lda-running", status="running", processed=0, total=0)
    page = desktop
    page.goto(live_site + "/")
    rate_set(page, shoot)

    page.goto(live_site + "/recommendations/")
    waiting = page.locator(".getting-ready")
    expect(waiting).to_contain_text("Getting your recommendations ready")
    body = page.locator("main").inner_text()
    for text in ("precompute", "0%", "0/0", "RECSYS_", "computing"):
        assert text not in body, text
    expect(page.get_by_label("Recommend by")).to_have_count(0)
    shoot(page, "getting-ready")

    publish(("lda",), collection)  # the first engine is ready: its recommender is used at once

    expect(page.locator(".grid--recs > li")).to_have_count(9, timeout=15_000)
    expect(page.get_by_label("Recommend by")).to_have_value("lda")
    expect(page.locator(".getting-ready")).to_have_count(0)
    check_recommendations(page)
    shoot(page, "ready-by-itself")
