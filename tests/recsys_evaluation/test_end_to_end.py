"""``manage.py evaluate --end-to-end``: visitors answer what each elicitation strategy shows, then
every served recommender recommends (issue 17). 30 paintings with images in 3 story groups whose
MiniLM vectors separate them, so every strategy can capture every taste."""

import json

import numpy as np
import pytest
from django.core.management import call_command

from recsys.artefacts.reader import artefact_cache
from recsys.serving import elicitation
from recsys.serving.recommenders import decision
from tests.api.conftest import give_image
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory, StoryGroupFactory


@pytest.fixture
def catalogue(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    artefact_cache.clear()
    elicitation._memo.clear()
    rng = np.random.default_rng(0)
    paintings, vectors = [], []
    for g in range(3):
        group = StoryGroupFactory(slug=f"g{g}", use_in_elicitation=False)
        for i in range(10):
            paintings.append(give_image(PaintingFactory(story_group=group, title=f"Work {g}-{i}")))
            v = np.zeros(3)
            v[g] = 1.0
            vectors.append(v + rng.normal(scale=0.05, size=3))
    write_artefact(engine="minilm", paintings=paintings, vectors=vectors)
    yield paintings
    artefact_cache.clear()
    elicitation._memo.clear()


def test_report_has_every_strategy_and_served_recommender(catalogue, tmp_path, settings):
    path = tmp_path / "e2e.json"
    settings.RECSYS_DEFAULT_DECISION_PATH = str(tmp_path / "decision.json")
    call_command("evaluate", "--end-to-end", "--visitors", "12", "--json", str(path), "--decide")
    report = json.loads(path.read_text())
    assert list(report["strategies"]) == ["story-groups", "clusters", "adaptive"]
    assert report["engine"] == "minilm" and report["candidates"] == 30
    rows = report["strategies"]["clusters"]["recommenders"]
    assert set(rows) == {"minilm", "learned", "paper:minilm"}
    assert rows["minilm"]["ndcg@9"]["n"] == 12
    # the 3 groups are 3 clusters: every visitor rates in-taste paintings, every recommender finds the taste
    for strategy in report["strategies"].values():
        assert strategy["in_taste_shown"]["mean"] >= 3
        assert strategy["recommenders"]["learned"]["ndcg@9"]["mean"] > 0.9
    assert report["decision"]["default"] in report["strategies"]
    assert decision()["elicitation"] == report["decision"]["default"]


def test_the_same_seed_gives_the_same_table(catalogue, tmp_path):
    def run(name):
        call_command("evaluate", "--end-to-end", "--visitors", "6", "--json", str(tmp_path / name))
        return json.loads((tmp_path / name).read_text())["strategies"]

    assert run("a.json") == run("b.json")
