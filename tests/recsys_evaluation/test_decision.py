"""The default recommender decided by paired comparisons (``recsys.evaluation.decision``)."""

import json

from recsys.evaluation.decision import decide, write_decision
from recsys.serving.recommenders import default_recommender_name, preferred_recommender


def test_a_leader_separated_from_every_rival_is_the_default():
    ndcg = {"a": [0.9, 0.8, 0.9, 0.85], "b": [0.5, 0.4, 0.45, 0.5], "c": [0.1, 0.2, 0.1, 0.15]}
    decision = decide(ndcg, candidates=["b", "a", "c"], current="b")
    assert decision["default"] == "a"
    assert [r["name"] for r in decision["ranking"]] == ["a", "b", "c"]
    assert all(c["excludes_0"] for c in decision["comparisons"])


def test_without_a_separating_interval_the_current_default_stays():
    ndcg = {"a": [0.9, 0.1, 0.8, 0.2], "b": [0.2, 0.8, 0.1, 0.7]}  # a's mean is higher, noisy
    decision = decide(ndcg, candidates=["a", "b"], current="b")
    assert decision["leader"] == "a"
    assert decision["default"] == "b"
    assert decision["comparisons"][0]["excludes_0"] is False


def test_the_decision_file_comes_before_the_preference_list(settings, tmp_path, db):
    path = tmp_path / "decision.json"
    settings.RECSYS_DEFAULT_DECISION_PATH = str(path)
    settings.RECSYS_DEFAULT_RECOMMENDERS = ["minilm", "lda"]  # its own list, not the default's order
    assert preferred_recommender({"lda", "minilm"}) == "minilm"
    write_decision({"default": "learned"}, path)
    assert preferred_recommender({"lda", "minilm"}) == "learned"
    assert preferred_recommender({"lda"}) == "lda"  # decided one not ready: the list decides
    path.write_text(json.dumps({"default": "no-such"}))
    assert preferred_recommender({"lda", "minilm"}) == "minilm"
    assert default_recommender_name() == "minilm"  # nothing ready: the first preference
