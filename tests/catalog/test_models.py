import pytest
from django.db import IntegrityError, transaction

from catalog.models import Painting
from tests.factories import PaintingFactory

pytestmark = pytest.mark.django_db


def test_year_range_must_be_ordered():
    with pytest.raises(IntegrityError), transaction.atomic():
        PaintingFactory(year_start=1900, year_end=1800)


def test_image_only_with_status_ok():
    with pytest.raises(IntegrityError), transaction.atomic():
        PaintingFactory(image="paintings/x.jpg", image_status=Painting.ImageStatus.MISSING)


def test_external_id_is_unique():
    PaintingFactory(external_id="aic-1")

    with pytest.raises(IntegrityError), transaction.atomic():
        PaintingFactory(external_id="aic-1")
