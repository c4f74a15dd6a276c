"""``manage.py evaluate`` end to end on 16 paintings in two story groups whose LDA and MiniLM vectors
separate the groups cleanly, with five stored users for the leave-k-out protocol."""

import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory, RatingFactory, StoryGroupFactory, UserFactory


@pytest.fixture
def catalogue(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    sea, flowers = StoryGroupFactory(slug="sea"), StoryGroupFactory(slug="flowers")
    paintings = [PaintingFactory(story_group=sea, source="Museum A") for _ in range(8)]
    paintings += [PaintingFactory(story_group=flowers, source="Museum B") for _ in range(8)]
    offsets = np.linspace(0.0, 0.2, 8)
    lda = [[1.0, x] for x in offsets] + [[x, 1.0] for x in offsets]
    minilm = [[1.0, x, 0.1] for x in offsets] + [[x, 1.0, 0.1] for x in offsets]
    write_artefact(engine="lda", paintings=paintings, vectors=lda, dense=False)
    write_artefact(engine="minilm", paintings=paintings, vectors=minilm, dense=False)
    for _ in range(5):
        user = UserFactory()
        for i, painting in enumerate(paintings[:10]):
            RatingFactory(user=user, painting=painting, value=5 if i < 8 else 1)
    return paintings


def run(tmp_path, *extra):
    path = tmp_path / "report.json"
    call_command("evaluate", "--visitors", "20", "--seed", "4", "--json", str(path), *extra)
    return json.loads(path.read_text())


def test_report_rows_and_values(catalogue, tmp_path):
    report = run(tmp_path)
    rows = report["protocols"]["simulated"]["recommenders"]
    assert list(rows) == [
        "lda",
        "minilm",
        "late-text",  # configured (RECSYS_RECOMMENDERS): late fusion, total, of lda and minilm
        "learned",
        "score-text",  # configured: score fusion of lda and minilm (so no "score:lda+minilm" row)
        "late-partial:lda+minilm",
        "learned:lda+minilm",
        "learned:lda",
        "learned:minilm",
        "paper:lda",
        "paper:minilm",
        "random",
    ]
    assert report["candidates"] == 16
    assert report["groups"] == {"story:Museum A": 1, "story:Museum B": 1}
    assert set(report["engines"]) == {"lda", "minilm"}
    # the engines separate the groups: every held-out painting of the taste group comes first
    for name in ("lda", "minilm", "learned:lda+minilm", "late-text", "score-text"):
        assert rows[name]["ndcg@9"]["mean"] == pytest.approx(1.0), name
    assert rows["random"]["ndcg@9_by_pattern"]["mixed"]["mean"] < 0.9
    # 20 visitors of the mixed pattern and half as many "few likes" (2 at 5, 7 at 1)
    assert rows["lda"]["ndcg@9"]["n"] == 30
    assert rows["lda"]["ndcg@9_by_pattern"]["few-likes"]["n"] == 10
    assert report["popularity"] == {"ratings": 50, "users": 5}
    assert rows["lda"]["novelty"]["mean"] > 0
    stored = report["protocols"]["leave_k_out"]
    assert stored["status"] == "ok" and stored["visitors"] == 5
    assert [p["lambda"] for p in report["mmr"]["curves"]["lda"]] == [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3]
    assert report["mmr"]["curves"]["lda"][0]["ndcg@9"] == rows["lda"]["ndcg@9"]
    assert len(report["learned"]["sweep"]) == 8
    assert rows["score-text"]["kind"] == "score"
    assert [p["beta"] for p in report["score"]["sweeps"]["lda+minilm"]] == report["score"]["betas"]
    assert report["score"]["best_beta"]["lda+minilm"] in report["score"]["betas"]
    paired = {(e["a"], e["b"]): e for e in report["protocols"]["simulated"]["paired"]}
    assert set(paired) >= {
        ("learned:lda", "lda"),
        ("learned:lda+minilm", "late-text"),
        ("score-text", "late-text"),
        ("score-text", "minilm"),
    }
    assert ("learned:lda", "minilm") not in paired  # only rows on a subset of its engines
    assert paired[("learned:lda", "lda")]["ndcg@9_difference"]["mean"] == pytest.approx(0.0)
    # engine against engine, in row order (they decide RECSYS_DEFAULT_RECOMMENDERS' order)
    assert paired[("lda", "minilm")]["ndcg@9_difference"]["mean"] == pytest.approx(0.0)
    assert ("minilm", "lda") not in paired
    # the configured "learned" recommender (MiniLM) goes through the service: the same model
    for metric in ("ndcg@9", "precision@9", "recall@50", "ild"):
        assert rows["learned"][metric] == rows["learned:minilm"][metric], metric


def test_the_same_seed_gives_the_same_numbers(catalogue, tmp_path):
    def numbers(report):
        for key in ("created", "seconds"):
            report.pop(key)
        for protocol in report["protocols"].values():
            for row in protocol.get("recommenders", {}).values():
                row.pop("median_ms")
        return report

    assert numbers(run(tmp_path)) == numbers(run(tmp_path))


def test_collection_restricts_the_candidates(catalogue, tmp_path):
    report = run(tmp_path, "--collection", "museum a")
    assert report["candidates"] == 8
    assert report["collection"] == "museum a"


def test_an_unknown_collection_names_the_choices(catalogue, tmp_path):
    with pytest.raises(CommandError, match="Museum A, Museum B"):
        run(tmp_path, "--collection", "Louvre")


def test_default_path_is_under_var(catalogue, tmp_path):
    call_command("evaluate", "--visitors", "4")
    assert json.loads((tmp_path / "evaluation" / "latest.json").read_text())["schema"] == 1


def test_served_demote_rows_are_paired_with_their_eq1_twins_and_decide_the_default(
    catalogue, tmp_path, settings
):
    settings.RECSYS_WEIGHTING = "demote"
    settings.RECSYS_DEFAULT_DECISION_PATH = str(tmp_path / "decision.json")
    report = run(tmp_path, "--decide")
    simulated = report["protocols"]["simulated"]
    rows = simulated["recommenders"]
    assert {"centered:lda", "centered:minilm", "centered:late-text"} <= set(rows)
    assert "centered:learned" not in rows  # the learned kind has no weighting
    paired = {(e["a"], e["b"]) for e in simulated["paired"]}
    assert {("lda", "centered:lda"), ("minilm", "centered:minilm")} <= paired
    decision = simulated["decision"]
    # every served recommender whose engines the fixture builds, the score fusion over them too
    assert {r["name"] for r in decision["ranking"]} == {"lda", "minilm", "late-text", "learned", "score-text"}
    assert json.loads((tmp_path / "decision.json").read_text())["default"] == decision["default"]
