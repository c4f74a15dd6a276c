import pytest

from catalog.text import content_hash, painting_content_hash, painting_text
from tests.factories import PaintingFactory

pytestmark = pytest.mark.django_db


def test_text_is_title_artist_medium_and_description_never_the_story_group():
    painting = PaintingFactory(
        title="Harbour", artist__name="Claude Monet", medium="Oil on canvas",
        description="Boats at dawn.", subjects=["boats"], story_group__name="Seascapes",
    )  # fmt: skip

    # the group is the curators' grouping, not content: it would make a group similar by construction
    assert painting_text(painting) == "Harbour\nClaude Monet\nOil on canvas\nBoats at dawn."


def test_subject_terms_stand_in_for_a_missing_description():
    painting = PaintingFactory(
        title="Head", artist=None, medium="", description="", subjects=["man", "beard"], story_group=None
    )

    assert painting_text(painting) == "Head\nman, beard"


def test_content_hash_changes_with_the_image_checksum():
    painting = PaintingFactory()
    before = painting_content_hash(painting)
    painting.image_sha256 = "ab" * 32

    assert painting_content_hash(painting) != before
    assert painting_content_hash(painting) == content_hash(
        text=painting_text(painting), image_sha256="ab" * 32
    )
