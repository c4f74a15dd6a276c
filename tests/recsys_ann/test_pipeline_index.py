"""The precompute builds the ANN index into the artefact above RECSYS_ANN_MIN_ITEMS."""

from __future__ import annotations

import pytest

from recsys.algorithms import ann
from recsys.build.services import precompute_engine
from tests.recsys_pipeline.conftest import catalogue, loaded, pipeline_settings  # noqa: F401

pytestmark = pytest.mark.django_db


def test_an_artefact_above_the_size_setting_carries_its_index(catalogue, settings):  # noqa: F811
    settings.RECSYS_ANN_MIN_ITEMS = len(catalogue) - 1
    art = loaded(precompute_engine(engine="fake"))
    facts = art.manifest["ann_index"]
    assert (art.path / ann.INDEX_FILE).stat().st_size == facts["bytes"] > 0
    assert (facts["file"], facts["kind"], facts["nlist"], facts["nprobe"]) == ("ann.faiss", "IVF1,SQ8", 1, 1)
    assert facts["build_s"] >= 0
    assert art.ann_index.ntotal == art.size == len(catalogue)


def test_no_index_at_or_below_the_size_setting(catalogue, settings):  # noqa: F811
    settings.RECSYS_ANN_MIN_ITEMS = len(catalogue)
    art = loaded(precompute_engine(engine="fake"))
    assert art.manifest["ann_index"] is None
    assert not (art.path / ann.INDEX_FILE).exists() and art.ann_index is None
