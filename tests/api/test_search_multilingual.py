"""Search across languages with the multilingual (XLM-R) engine, on a tiny random checkpoint.

Paintings are described in English, Dutch, French and German (``Painting.translations``); the
engine embeds every language of a painting, so a query in any of them finds it. (That a French
query finds an English-only description is the pretrained model's cross-lingual space; a random
tiny model has none, so these tests check the plumbing: every language read, query in any.)
"""

from __future__ import annotations

import pytest

from catalog.snapshot import painting_input
from recsys.engines.registry import clear_engine_cache, get_engine
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory
from tests.recsys_engines.tiny_xlmr import build_tiny_xlmr

URL = "/api/v1/search/"
STORM = {
    "nl": {"description": "een stormachtige zee met een zinkend schip"},
    "fr": {"description": "une mer déchaînée avec un navire qui sombre"},
    "de": {"description": "ein stürmisches meer mit einem sinkenden schiff"},
}


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
    paintings = [
        PaintingFactory(external_id="p-storm", title="storm", description="a stormy sea", translations=STORM),
        PaintingFactory(external_id="p-portrait", title="retrato", description="", language="es",
                        translations={"it": {"description": "ritratto di una giovane donna"}}),
        PaintingFactory(external_id="p-fruit", title="stilleven", description="appels en een kan"),
        PaintingFactory(external_id="p-snow", title="hiver", description="paysage d'hiver avec patineurs"),
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


def test_a_painting_described_only_in_a_translation_is_searchable(api_client, multilingual):
    response = api_client.get(URL, {"q": "ritratto di una giovane donna", "n": 1})
    assert [r["painting"]["id"] for r in response.json()["results"]] == ["p-portrait"]
