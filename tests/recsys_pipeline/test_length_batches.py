"""Encode batches of similar text length for engines that ask for them (issue 21, item 3)."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.build.services import precompute_engine
from recsys.engines.minilm import MiniLMEngine
from tests.recsys_pipeline.conftest import FAKE, loaded, make_painting


@pytest.fixture(autouse=True)
def sorted_engine(settings, pipeline_settings):
    settings.RECSYS_ENGINES = {
        **settings.RECSYS_ENGINES,
        "sorted": {"BACKEND": f"{FAKE}.FakeLengthSortedEngine", "OPTIONS": {}},
    }


@pytest.mark.django_db
def test_batches_hold_texts_of_similar_length_and_the_artefact_stays_in_pk_order():
    from tests.recsys_pipeline.fakes import FakeEngine

    lengths = [50, 5, 400, 12, 90, 7, 300]
    paintings = [make_painting("sea", n, description="word " * size) for n, size in enumerate(lengths)]
    FakeEngine.calls.clear()

    row = precompute_engine(engine="sorted")

    by_pk = {p.pk: len(p.description) for p in paintings}
    batches = [[by_pk[pk] for pk in call] for call in FakeEngine.calls]
    flat = [size for batch in batches for size in batch]
    assert flat == sorted(flat) and [len(b) for b in batches] == [3, 3, 1]  # RECSYS_BATCH_SIZE 3
    assert np.array_equal(loaded(row).painting_ids, sorted(p.pk for p in paintings))


def test_minilm_asks_for_length_batches_and_lda_does_not():
    from recsys.engines.lda import LdaEngine

    assert MiniLMEngine.batch_by_text_length and not LdaEngine.batch_by_text_length
