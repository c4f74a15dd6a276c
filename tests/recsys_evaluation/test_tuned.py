"""``manage.py evaluate --tuned``: tuned vs untuned spaces on held-out visitors, the learning curve,
and the guarantee that no test visitor's ratings reach the training."""

import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from recsys.evaluation import tuned as tuned_module
from recsys.evaluation.tuned import split_visitors
from recsys.evaluation.visitors import Visitor
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory, StoryGroupFactory


@pytest.fixture
def catalogue(db, settings, tmp_path):
    """Two story groups of 10 paintings on one arc, interleaved: the untuned MiniLM space mixes
    them (each painting's nearest neighbour is of the other group), a small third coordinate
    tells them apart."""
    settings.VAR_DIR = tmp_path
    settings.RECSYS_RECOMMENDERS = {"minilm": {"KIND": "single", "ENGINE": "minilm"}}
    settings.RECSYS_DEFAULT_RECOMMENDERS = ["minilm"]
    sea, flowers = StoryGroupFactory(slug="sea"), StoryGroupFactory(slug="flowers")
    paintings = [PaintingFactory(story_group=sea if i % 2 == 0 else flowers) for i in range(20)]
    angles = np.deg2rad(np.arange(20) * 9.0)
    vectors = np.stack([np.cos(angles), np.sin(angles), np.where(np.arange(20) % 2 == 0, 0.1, -0.1)], axis=1)
    write_artefact(engine="minilm", paintings=paintings, vectors=vectors, dense=False)
    return paintings


def run(tmp_path, *extra):
    path = tmp_path / "report.json"
    call_command(
        "evaluate",
        "--visitors",
        "10",
        "--seed",
        "2",
        "--json",
        str(path),
        "--tuned",
        "--test-visitors",
        "30",
        *extra,
    )
    return json.loads(path.read_text())


def test_learning_curve_rows_and_paired_differences(catalogue, tmp_path):
    report = run(tmp_path, "--train-sizes", "0,60")
    tuning = report["tuning"]

    assert tuning["status"] == "ok"
    assert tuning["train_sizes"] == [0, 60]
    assert [p["train_visitors"] for p in tuning["curve"]] == [0, 60]
    assert set(tuning["untuned"]) == {"learned:minilm", "minilm"}
    start, trained = tuning["curve"]
    assert start["training"] is None
    assert all(e["ndcg@9_difference"]["mean"] == 0.0 for e in start["paired"])
    assert trained["training"]["visitors"] == 60 and trained["training"]["trained"]
    assert (
        trained["training"]["engines"]["minilm"]["loss_after"]
        < trained["training"]["engines"]["minilm"]["loss_before"]
    )
    paired = {e["a"]: e for e in trained["paired"]}
    assert set(paired) == {"learned:minilm@tuned", "minilm@tuned", "learned:minilm@tuned+co"}
    assert paired["learned:minilm@tuned+co"]["b"] == "learned:minilm"
    assert trained["corating"]["beta"]["minilm"] in (0.0, 0.3, 1.0, 3.0)
    assert trained["corating"]["paired_vs_tuned"][0]["b"] == "learned:minilm@tuned"
    assert paired["learned:minilm@tuned"]["b"] == "learned:minilm"
    assert paired["learned:minilm@tuned"]["ndcg@9_difference"]["n"] == 30
    assert trained["rows"]["learned:minilm@tuned"]["n"] == 30
    assert tuning["stored"]["status"] == "skipped"


def test_no_test_visitor_rating_reaches_the_training(catalogue, tmp_path, monkeypatch):
    turned_into_histories: list[int] = []
    trained_on: list[list[dict[int, int]]] = []
    real_histories, real_tune = tuned_module.histories, tuned_module.tune_embeddings

    def spy_histories(visitors, rows):
        turned_into_histories.extend(v.id for v in visitors)
        return real_histories(visitors, rows)

    def spy_tune(embeddings, histories, **kwargs):
        trained_on.append(histories)
        return real_tune(embeddings, histories, **kwargs)

    monkeypatch.setattr(tuned_module, "histories", spy_histories)
    monkeypatch.setattr(tuned_module, "tune_embeddings", spy_tune)
    tuning = run(tmp_path, "--train-sizes", "0,20,50")["tuning"]

    test_ids = set(tuning["test_ids"])
    assert len(test_ids) == 30
    assert not test_ids & set(turned_into_histories)
    assert set(turned_into_histories) <= set(tuning["train_ids"])
    assert [len(h) for h in trained_on] == [20, 50]
    assert trained_on[1][:20] == trained_on[0]  # nested training sets


def test_split_is_disjoint_and_seeded():
    visitors = [Visitor(i, "g", "k", {i: 5}, frozenset()) for i in range(10)]
    pool, test = split_visitors(visitors, test=3, seed=0)

    assert len(test) == 3 and len(pool) == 7
    assert not {v.id for v in pool} & {v.id for v in test}
    assert [v.id for v in split_visitors(visitors, test=3, seed=0)[1]] == [v.id for v in test]


def test_tuning_is_skipped_without_the_flag(catalogue, tmp_path):
    path = tmp_path / "plain.json"
    call_command("evaluate", "--visitors", "4", "--json", str(path))
    assert json.loads(path.read_text())["tuning"] == {"status": "skipped", "reason": "run with --tuned"}


def test_bad_train_sizes_are_refused(catalogue, tmp_path):
    with pytest.raises(CommandError, match="--train-sizes must be whole numbers"):
        run(tmp_path, "--train-sizes", "0,many")


def test_the_plot_of_the_learning_curve_is_written(catalogue, tmp_path):
    run(tmp_path, "--train-sizes", "0,20", "--plot", str(tmp_path / "eval.png"))
    assert (tmp_path / "eval-tuning.png").stat().st_size > 10_000
