"""The artefact's pk -> row lookup and external ids without per-painting Python objects."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.artefacts import files, reader
from recsys.artefacts.reader import ExternalIds, RowIndex


def test_rows_of_sorted_pks_by_binary_search():
    index = RowIndex(np.array([3, 8, 20, 41], dtype=np.int64))
    assert [index[3], index[20], index[41]] == [0, 2, 3]
    assert 8 in index and 9 not in index and 0 not in index and 50 not in index
    assert index.get(9) is None and index.get(8) == 1
    rows, found = index.rows([41, 5, 3])
    assert found.tolist() == [True, False, True] and rows[found].tolist() == [3, 0]


def test_unsorted_pks_still_map_to_their_rows():
    index = RowIndex(np.array([20, 3, 41, 8], dtype=np.int64))
    assert [index[pk] for pk in (20, 3, 41, 8)] == [0, 1, 2, 3]
    assert list(index) == [20, 3, 41, 8] and len(index) == 4


def test_keys_that_are_no_painting_pk_are_missing():
    index = RowIndex(np.array([1, 2], dtype=np.int64))
    assert "1" not in index and 2**70 not in index and True not in index
    with pytest.raises(KeyError):
        index[2**70]


def test_an_empty_artefact_knows_no_pk():
    index = RowIndex(np.empty(0, dtype=np.int64))
    assert 1 not in index and index.rows([1])[1].tolist() == [False]


def test_external_ids_decode_one_row_at_a_time():
    ids = ExternalIds(["aic-1", "", "wikidata-Q1234", "é"])
    assert (ids[0], ids[1], ids[2], ids[-1], len(ids)) == ("aic-1", "", "wikidata-Q1234", "é", 4)
    assert list(ids) == ["aic-1", "", "wikidata-Q1234", "é"] and ids[1:3] == ["", "wikidata-Q1234"]
    with pytest.raises(IndexError):
        ids[4]


def test_an_opened_artefact_looks_rows_up_without_a_dict(tmp_path):
    folder = tmp_path / "lda" / "v1"
    files.save_local_array(folder / files.PAINTING_IDS, np.array([5, 9, 12], dtype=np.int64))
    files.save_local_json(folder / files.EXTERNAL_IDS, ["a", "b", "c"])
    files.save_local_array(folder / files.EMBEDDINGS, np.eye(3, dtype=np.float32))
    files.save_local_json(folder / files.MANIFEST, {"engine": "lda", "version": "v1"})
    art = reader.open_artefact(folder)
    assert isinstance(art.row_of, RowIndex) and isinstance(art.external_ids, ExternalIds)
    assert (art.row_of[9], art.external_ids[art.row_of[12]], art.ann_index) == (1, "c", None)
