"""Search across languages with the multilingual (XLM-R) engine, on a tiny random checkpoint.

Paintings are described in English, Dutch, French and German (``Painting.translations``); the
engine embeds every language of a painting, so a query in any of them finds it. (That a French
query finds an English-only description is the pretrained model's cross-lingual space; a random
tiny model has none, so these tests check the plumbing: every language read, query in any.)
"""

from __future__ import annotations

import numpy as np
import pytest

from catalog.snapshot import painting_input
from recsys.engines.registry import clear_engine_cache, get_engine
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory
from tests.recsys_engines.test_xlmr import DE, EN, FR, NL, PORTRAIT_ES
from tests.recsys_engines.tiny_xlmr import build_tiny_xlmr

URL = "/api/v1/search/"
STORM = {"nl": {"description": NL}, "fr": {"description": FR}, "de": {"description": DE}}


@pytest.fixture(scope="module")
def xlmr_dir(tmp_path_factory) -> str:
    return build_tiny_xlmr(tmp_path_factory.mktemp("tiny-xlmr"))


@pytest.fixture
def multilingual(settings, xlmr_dir, db, tmp_path):
    engines = {name: dict(config) for name, config in settings.RECSYS_ENGINES.items()}
    engines["xlmr"]["MODEL"] = xlmr_dir
    settings.RECSYS_ENGINES = engines
    settings.RECSYS_SEARCH_TEXT_ENGINES = ["xlmr"]
    clear_engine_cache()
    # no artist, no medium: the texts alone (a factory artist's name depends on test order)
    made = {
        "p-storm": dict(title=EN, translations=STORM),
        "p-portrait": dict(title=PORTRAIT_ES),
        "p-fruit": dict(title="stilleven met appels en een kan"),
        "p-snow": dict(title="paysage d'hiver avec patineurs"),
        "p-italian": dict(title="ritratto", translations={"it": {"description": "una donna in blu"}}),
    }
    paintings = [
        PaintingFactory(external_id=external_id, artist=None, medium="", description="", **fields)
        for external_id, fields in made.items()
    ]  # fmt: skip
    engine = get_engine("xlmr")
    vectors = engine.encode([painting_input(p) for p in paintings], tmp_path).vectors
    write_artefact(engine="xlmr", paintings=paintings, vectors=vectors, manifest={"params": engine.params()})
    yield paintings
    clear_engine_cache()


@pytest.mark.parametrize("language", ["nl", "fr", "de"])
def test_a_query_in_any_language_of_a_painting_finds_it_first(api_client, multilingual, language):
    response = api_client.get(URL, {"q": STORM[language]["description"], "n": 4})
    assert response.status_code == 200
    body = response.json()
    assert body["engine"] == "xlmr"
    assert body["results"][0]["painting"]["id"] == "p-storm"


def test_a_paintings_translation_is_part_of_what_a_query_meets(api_client, multilingual):
    """The painting "ritratto" is described only in Italian: its row is the unit mean of its texts, so the
    Italian query meets it at (cos(main, q) + 1) / |u_main + u_it|, above its title alone."""
    engine = get_engine("xlmr")
    query, main = engine.encode_query_text("una donna in blu"), engine.encode_query_text("ritratto")
    expected = float((main @ query + 1.0) / np.linalg.norm(main + query))
    response = api_client.get(URL, {"q": "una donna in blu", "n": 5})
    scores = {r["painting"]["id"]: r["score"] for r in response.json()["results"]}
    assert scores["p-italian"] == pytest.approx(expected, abs=1e-4)
    assert scores["p-italian"] > float(main @ query) + 1e-3
