"""``catalog.compiled.InListQuery``: the ORM's SQL compiled once per list length, rows as the ORM
reads them (both databases: the suite's two passes), one query per call."""

from __future__ import annotations

import numpy as np
import pytest

from catalog import compiled
from catalog.compiled import InListQuery
from catalog.models import Painting
from catalog.selectors import _REF_COLUMNS, _SUMMARY_COLUMNS, painting_refs_by_external_id
from config.exceptions import UnknownPainting
from tests.factories import PaintingFactory

pytestmark = pytest.mark.django_db


def _summaries(pks: list) -> object:
    return Painting.objects.filter(pk__in=pks).order_by().values_list(*_SUMMARY_COLUMNS)


@pytest.fixture
def paintings() -> list[Painting]:
    plain = PaintingFactory(artist=None, story_group=None, year_start=None, year_end=None)
    return [
        PaintingFactory(),
        PaintingFactory(
            image="paintings/x.jpg", image_status=Painting.ImageStatus.OK, image_sha256="ab" * 32
        ),
        plain,
    ]


def test_rows_are_the_orms_for_pks_with_duplicates_missing_ones_and_numpy_ints(paintings):
    query = InListQuery(Painting, _summaries, prepare=int)
    pks = [p.pk for p in paintings]
    asked = [np.int64(pks[0]), pks[1], pks[1], pks[2], max(pks) + 100, None]

    rows = query.rows(asked)

    assert sorted(rows) == sorted(_summaries(pks))
    assert len(rows) == 3 and {row[0] for row in rows} == set(pks)
    plain = next(row for row in rows if row[0] == pks[2])
    assert plain[4:10] == (None, None, None, None, None, None)  # years, artist, story group


def test_rows_by_external_id_are_the_orms(paintings):
    query = InListQuery(
        Painting,
        lambda ids: Painting.objects.filter(external_id__in=ids).order_by().values_list(*_REF_COLUMNS),
        prepare=str,
    )
    ids = [p.external_id for p in paintings]

    assert sorted(query.rows([*ids, "nobody"])) == sorted(
        Painting.objects.filter(external_id__in=ids).values_list(*_REF_COLUMNS)
    )


def test_the_sql_is_compiled_once_per_list_length_and_each_call_is_one_query(
    paintings, django_assert_num_queries
):
    built: list[int] = []

    def build(pks: list) -> object:
        built.append(len(pks))
        return _summaries(pks)

    query = InListQuery(Painting, build, prepare=int)
    a, b, c = (p.pk for p in paintings)
    with django_assert_num_queries(3):
        assert {row[0] for row in query.rows([a, b])} == {a, b}
        assert {row[0] for row in query.rows([c, a])} == {c, a}
        assert {row[0] for row in query.rows([c])} == {c}

    assert built == [2, 1]  # two lengths, two compilations
    assert query.rows([]) == [] and query.rows([None]) == []


def test_long_lists_are_read_through_the_orm(paintings, monkeypatch):
    monkeypatch.setattr(compiled, "MAX_COMPILED", 2)
    query = InListQuery(Painting, _summaries, prepare=int)
    pks = [p.pk for p in paintings]

    assert sorted(query.rows(pks)) == sorted(_summaries(pks))
    assert query._sql == {}


def test_a_query_with_parameters_besides_the_list_is_refused(paintings):
    query = InListQuery(
        Painting, lambda pks: _summaries(pks).filter(title__startswith="Painting"), prepare=int
    )

    with pytest.raises(ValueError, match="not just the IN list"):
        query.rows([paintings[0].pk])


def test_the_selector_names_unknown_ids_by_field(paintings):
    known = paintings[0].external_id
    found = painting_refs_by_external_id(fields={"ratings": [known, known]})

    assert list(found) == [known] and found[known].pk == paintings[0].pk
    with pytest.raises(UnknownPainting) as raised:
        painting_refs_by_external_id(fields={"ratings": [known], "exclude": ["nobody"]})
    assert raised.value.field == "exclude" and raised.value.detail["unknown_ids"] == ["nobody"]
