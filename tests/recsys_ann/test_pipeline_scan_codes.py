"""The precompute writes demote's 8-bit codes (``recsys.algorithms.scan_codes``) into the
artefact when its embeddings are large enough, and never beside a dense similarity."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.algorithms import scan_codes
from recsys.build.services import precompute_engine
from recsys.models import Artefact
from tests.recsys_pipeline.conftest import catalogue, loaded, pipeline_settings  # noqa: F401

pytestmark = pytest.mark.django_db


def test_an_artefact_of_large_enough_embeddings_carries_its_codes(catalogue, settings, monkeypatch):  # noqa: F811
    settings.RECSYS_DENSE_MAX_ITEMS = 0  # neighbour lists, no dense similarity
    monkeypatch.setattr(scan_codes, "MIN_BYTES", 1)
    art = loaded(precompute_engine(engine="fake"))
    facts = art.manifest["scan_codes"]
    assert (art.path / scan_codes.SCAN_FILE).stat().st_size == facts["bytes"] > 0
    assert (facts["file"], facts["codes"]) == ("scan.faiss", "sq8-signed") and facts["scale"] > 0
    assert 0 < facts["max_error"] < 0.05 and facts["max_norm"] == pytest.approx(1.0, abs=1e-6)
    codes = art.scan_codes
    assert codes.index.ntotal == art.size == len(catalogue)
    decoded = codes.decoded(0, art.size)
    assert np.abs(decoded - np.asarray(art.embeddings)).max() <= facts["max_error"]


def test_no_codes_below_the_size(catalogue, settings):  # noqa: F811
    settings.RECSYS_DENSE_MAX_ITEMS = 0
    art = loaded(precompute_engine(engine="fake"))  # a few hundred bytes of embeddings
    assert art.manifest["scan_codes"] is None
    assert not (art.path / scan_codes.SCAN_FILE).exists() and art.scan_codes is None


def test_no_codes_beside_a_dense_similarity(catalogue, monkeypatch):  # noqa: F811
    monkeypatch.setattr(scan_codes, "MIN_BYTES", 1)
    art = loaded(precompute_engine(engine="fake"))  # 15 paintings <= RECSYS_DENSE_MAX_ITEMS
    assert art.similarity is not None
    assert art.manifest["scan_codes"] is None and art.scan_codes is None


def test_an_unchanged_catalogue_is_not_built_again(catalogue):  # noqa: F811
    row = precompute_engine(engine="fake")
    assert precompute_engine(engine="fake").pk == row.pk


def test_an_artefact_from_before_the_codes_is_rebuilt_reusing_its_vectors(catalogue):  # noqa: F811
    row = precompute_engine(engine="fake")
    older = {key: value for key, value in row.manifest.items() if key != "scan_codes"}
    Artefact.objects.filter(pk=row.pk).update(manifest=older)
    rebuilt = precompute_engine(engine="fake")
    assert rebuilt.pk != row.pk and "scan_codes" in rebuilt.manifest
    counts = rebuilt.manifest["counts"]
    assert (counts["reused"], counts["encoded"]) == (len(catalogue), 0)


def test_codes_of_the_first_kind_are_rebuilt_reusing_the_vectors(catalogue, settings, monkeypatch):  # noqa: F811
    settings.RECSYS_DENSE_MAX_ITEMS = 0
    monkeypatch.setattr(scan_codes, "MIN_BYTES", 1)
    row = precompute_engine(engine="fake")
    first_kind = row.manifest | {"scan_codes": row.manifest["scan_codes"] | {"codes": "sq8-uniform"}}
    Artefact.objects.filter(pk=row.pk).update(manifest=first_kind)
    rebuilt = precompute_engine(engine="fake")
    assert rebuilt.pk != row.pk and rebuilt.manifest["scan_codes"]["codes"] == scan_codes.CODES
    counts = rebuilt.manifest["counts"]
    assert (counts["reused"], counts["encoded"]) == (len(catalogue), 0)
