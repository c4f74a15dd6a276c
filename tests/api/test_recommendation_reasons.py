"""The API's visitor-facing answer (issue 17): ``weighting=demote`` (the served default) and
``reasons``, which cite liked paintings and name a disliked one only as a push down.

conftest's minilm vectors, ratings a=5, b=1: L(i) = A_ia, D(i) = A_ib, S = L - max(0, D - L):
e = 0.96 (A_eb = 0.28 < L), c = 0.8 (A_cb = 0.6 < L), d = 0.6 - (0.8 - 0.6) = 0.4.
"""

from __future__ import annotations

import pytest

URL = "/api/v1/recommendations/"
BODY = {"ratings": {"p-a": 5, "p-b": 1}, "recommender": "minilm", "weighting": "demote"}


def test_demote_ranks_by_the_likes_and_pushes_down_what_is_nearer_a_dislike(api_client, minilm):
    body = api_client.post(URL, BODY, format="json").json()
    scores = [(r["painting"]["id"], r["score"]) for r in body["results"]]
    assert [pk for pk, _ in scores] == ["p-e", "p-c", "p-d"]
    assert [s for _, s in scores] == pytest.approx([0.96, 0.8, 0.4], abs=1e-5)
    assert body["weighting"] == "demote" and body["applied_weighting"] == {"minilm": "demote"}


def test_reasons_cite_the_like_and_the_dislike_only_as_a_push_down(api_client, minilm):
    results = api_client.post(URL, BODY, format="json").json()["results"]
    reasons = {
        r["painting"]["id"]: [(x["painting"], x["rating"], x["effect"]) for x in r["reasons"]]
        for r in results
    }
    assert reasons["p-e"] == [("p-a", 5, "pulled_up")]
    assert reasons["p-d"] == [("p-a", 5, "pulled_up"), ("p-b", 1, "pushed_down")]
    assert all(x["title"] for r in results for x in r["reasons"])


def test_a_one_star_rating_never_pulls_anything_up_under_eq1_either(api_client, minilm):
    results = api_client.post(URL, BODY | {"weighting": "centered"}, format="json").json()["results"]
    for result in results:
        assert all(x["effect"] == "pushed_down" for x in result["reasons"] if x["rating"] < 3)
