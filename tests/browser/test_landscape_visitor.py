"""Issue 17's landscape lover in headless Chromium: a catalogue imported through the importer
(a bare Wikidata id as a title and an artist), the elicitation from the collection's clusters,
two landscapes rated 5 and everything else 1, and a recommendations page with landscapes only,
no number at all (no negative "match"), no Q-id, and explanations that cite the liked paintings."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from catalog.models import Painting
from recsys.artefacts.reader import artefact_cache
from recsys.serving import elicitation
from tests.artefact_helpers import write_artefact
from tests.browser.conftest import images_loaded
from tests.catalog.conftest import run_import

pytestmark = pytest.mark.slow

THEMES = {"land": "Landscape with a river", "port": "Portrait of a man", "rel": "Saint in prayer"}
PER_THEME = 30


@pytest.fixture
def imported(transactional_db, tmp_path, settings):
    settings.RECSYS_WEIGHTING = "demote"  # the served default (the suite pins eq. 1 elsewhere)
    artefact_cache.clear()
    elicitation._memo.clear()
    folder = tmp_path / "set"
    (folder / "images").mkdir(parents=True)
    rows = []
    colours = {"land": (60, 140, 60), "port": (150, 90, 70), "rel": (180, 160, 60)}
    for theme, title in THEMES.items():
        for i in range(PER_THEME):
            external_id = f"{theme}-{i}"
            buffer = io.BytesIO()
            Image.new("RGB", (60, 45), tuple(min(255, c + 3 * i) for c in colours[theme])).save(
                buffer, "JPEG"
            )
            (folder / "images" / f"{external_id}.jpg").write_bytes(buffer.getvalue())
            rows.append({"external_id": external_id, "title": f"{title} {i}", "artist": f"Painter {theme}",
                         "story_group": theme, "image": f"images/{external_id}.jpg"})  # fmt: skip
    rows[0] |= {"title": "Q137855550", "artist": "Q1441554"}  # land-0: no Wikidata label
    buffer = io.BytesIO()
    Image.new("RGB", (60, 45), (120, 40, 40)).save(buffer, "JPEG")
    (folder / "images" / "rug.jpg").write_bytes(buffer.getvalue())
    rows.append({"external_id": "rug", "title": "Bed Rug", "artist": "Weaver", "story_group": "",
                 "image": "images/rug.jpg"})  # fmt: skip
    with open(folder / "catalogue.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    run_import(folder / "catalogue.csv")
    paintings = list(Painting.objects.order_by("external_id"))
    rng = np.random.default_rng(5)
    axes = {"land": 0, "port": 1, "rel": 2, "rug": 3}
    vectors = []
    for painting in paintings:
        v = np.full(4, 0.35)  # every cosine positive, as text embeddings are
        v[3] = 0.0
        v[axes[painting.external_id.split("-")[0]]] = 1.0
        if painting.external_id == "rug":
            v = np.array([0.0, 0.0, 0.0, 1.0])  # far from everything rated
        vectors.append(v + rng.uniform(0.0, 0.05, size=4))
    write_artefact(engine="minilm", paintings=paintings, vectors=vectors)
    yield paintings
    artefact_cache.clear()
    elicitation._memo.clear()


def test_landscape_visitor_sees_landscapes_without_numbers_or_qids(live_site, desktop, imported, shoot):
    page = desktop
    liked = 0
    for _ in range(4):  # rate sets until two landscapes were liked
        page.goto(live_site + "/")
        cards = page.locator(".grid--rate > li")
        expect(cards).to_have_count(9)
        images_loaded(page, ".grid--rate")
        for index in range(9):
            card = cards.nth(index)
            external_id = card.get_attribute("data-painting")
            stars = 5 if external_id.startswith("land-") and liked < 2 else 1
            liked += stars == 5
            card.locator(f"label[for='id_rating-{external_id}_{stars - 1}']").click()
            expect(card.locator("[data-saved]")).to_have_text("Saved")
        shoot(page, "rated")
        if liked >= 2:
            break
        page.get_by_role("button", name=re.compile("another set", re.I)).click()
    assert liked == 2
    page.get_by_role("button", name="Show my recommendations").click()
    recs = page.locator(".grid--recs > li")
    expect(recs).to_have_count(9)
    shoot(page, "recommendations")
    ids = [recs.nth(i).get_attribute("data-painting") for i in range(9)]
    assert all(i.startswith("land-") for i in ids), ids  # never the rug, far from the dislikes
    text = page.locator(".grid--recs").inner_text()
    assert not re.search(r"(?<![\w#])-\s?\d", text), text  # no negative number anywhere
    assert not re.search(r"\bQ\d{3,}\b", page.content())  # no bare Wikidata id, in text or markup
    for i in range(9):
        expect(recs.nth(i).locator(".why li").first).to_contain_text("Because you liked")
    expect(page.get_by_text("Because you rated")).to_have_count(0)
