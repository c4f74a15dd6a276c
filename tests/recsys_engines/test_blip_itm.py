"""BLIP scored as the paper scores it, end to end on a tiny random checkpoint: the artefact is
built through the pipeline's pair step (its own Celery chord), and the recommender's scores,
explanations and similar paintings are the ITM numbers read back from the artefact's arrays."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.algorithms import itm
from recsys.artefacts.reader import artefact_cache
from recsys.build import services
from recsys.models import Artefact
from recsys.serving.recommend import recommend
from recsys.serving.selectors import active_artefact
from recsys.serving.similar import similar_paintings
from tests.recsys_engines.test_precompute import catalogue, engine_settings  # noqa: F401 (fixtures)


def itm_matrix(loaded):
    """p_ij by painting pk pair, from the artefact's itm_idx / itm_prob (either side lists it)."""
    idx, prob = np.asarray(loaded.extra(itm.ITM_IDX)), np.asarray(loaded.extra(itm.ITM_PROB))
    pids = loaded.painting_ids.tolist()
    pairs = {}
    for i, row in enumerate(idx.tolist()):
        for column, j in enumerate(row):
            if j >= 0:
                pairs[(pids[i], pids[j])] = pairs[(pids[j], pids[i])] = float(prob[i, column])
    return pairs


def fallback(loaded, a, b):
    line = loaded.manifest["postprocess"]["itm_calibration"]
    e = np.asarray(loaded.embeddings, dtype=np.float64)
    return line["a"] + line["b"] * float(e[loaded.row_of[a]] @ e[loaded.row_of[b]])


@pytest.fixture
def blip(catalogue, settings, django_capture_on_commit_callbacks):  # noqa: F811
    settings.RECSYS_ITM_BATCH_IMAGES = 2  # the four images in two pair batches
    with django_capture_on_commit_callbacks(execute=True):
        row = services.precompute_start(engine="blip")
    row.refresh_from_db()
    assert (row.status, row.is_active) == ("ready", True)
    return active_artefact(engine="blip")


def test_pair_step_runs_in_batches_and_records_its_line(blip):
    log = Artefact.objects.get(is_active=True, engine="blip").log
    assert "pair batch 1/2" in log and "pair batch 2/2" in log
    facts = blip.manifest["postprocess"]
    assert facts["itm_top_k"] == 3 and facts["itm_pairs_reused"] == 0
    graph = itm.itm_graph(blip.extra(itm.ITM_IDX), blip.extra(itm.ITM_PROB))
    line = itm.calibrate(itm.graph_cosines(blip.embeddings, graph), graph.probs)
    assert facts["itm_calibration"] == pytest.approx({"a": line.a, "b": line.b, "pairs": line.pairs})


def test_one_liked_painting_scores_are_its_itm_probabilities(blip, catalogue):  # noqa: F811
    liked = catalogue[0].pk
    result = recommend(ratings={liked: 5}, recommender="blip", n=4)
    p = itm_matrix(blip)
    for item in result.items:
        expected = p.get((liked, item.painting_id), fallback(blip, liked, item.painting_id))
        assert item.score == pytest.approx(expected, abs=1e-6)
        (reason,) = item.contributions
        assert reason.similarity == pytest.approx(expected, abs=1e-6)
    in_list = [item for item in result.items if (liked, item.painting_id) in p]
    assert len(in_list) >= 3  # painting 0's own top-3 list at least
    assert [i.score for i in result.items] == sorted((i.score for i in result.items), reverse=True)


def test_eq1_weights_the_itm_numbers(blip, catalogue):  # noqa: F811
    a, b = catalogue[0].pk, catalogue[1].pk  # w = 1 and -1, n = 2
    result = recommend(ratings={a: 5, b: 1}, recommender="blip", n=3)
    p = itm_matrix(blip)

    def score(x: int, y: int) -> float:
        return p.get((x, y), fallback(blip, x, y))

    for item in result.items:
        i = item.painting_id
        assert item.score == pytest.approx((score(a, i) - score(b, i)) / 2, abs=1e-6)


def test_similar_paintings_are_ranked_by_itm(blip, catalogue):  # noqa: F811
    painting = catalogue[2].pk
    p = itm_matrix(blip)
    found = similar_paintings(painting_id=painting, engine="blip", n=4)
    for item in found:
        expected = p.get((painting, item.painting_id), fallback(blip, painting, item.painting_id))
        assert item.similarity == pytest.approx(expected, abs=1e-6)


def test_cosine_setting_scores_by_the_embeddings(blip, catalogue, settings):  # noqa: F811
    settings.RECSYS_BLIP_SCORE = "cosine"
    liked = catalogue[0].pk
    e = np.asarray(blip.embeddings, dtype=np.float64)
    result = recommend(ratings={liked: 5}, recommender="blip", n=4)
    for item in result.items:
        cosine = float(e[blip.row_of[liked]] @ e[blip.row_of[item.painting_id]])
        assert item.score == pytest.approx(cosine, abs=1e-5)


def test_incremental_refresh_rescores_only_pairs_of_changed_paintings(blip, catalogue, settings):  # noqa: F811
    before = itm_matrix(blip)
    changed = catalogue[3]
    changed.description = "A quiet harbour with fishing boats at dawn."
    changed.save()
    from catalog.text import painting_content_hash

    changed.content_hash = painting_content_hash(changed)
    changed.save(update_fields=["content_hash"])
    artefact_cache.clear()
    row = services.precompute_engine(engine="blip")
    after = active_artefact(engine="blip")
    assert after.manifest["mode"] == "incremental"
    facts = after.manifest["postprocess"]
    assert facts["itm_pairs_reused"] > 0
    now = itm_matrix(after)
    unchanged = {k: v for k, v in now.items() if changed.pk not in k}
    assert unchanged and all(
        v == pytest.approx(before[k], abs=1e-7) for k, v in unchanged.items() if k in before
    )
    # every direction scored again involves the changed painting: image_j with text_i, i or j changed
    assert "ITM directions" in row.log
    directions = facts["itm_pairs_scored"]
    pairs_with_changed = {k for k in now if changed.pk in k and k[0] < k[1]}
    assert 0 < directions <= 2 * len(pairs_with_changed)
