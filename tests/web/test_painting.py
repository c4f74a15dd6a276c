"""A painting's page: metadata, the visitor's rating control and similar paintings."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PaintingFactory, RatingFactory, UserFactory
from users.models import Rating
from web.selectors import SESSION_RATINGS_KEY

pytestmark = pytest.mark.django_db


def page(external_id: str) -> str:
    return reverse("web:painting", args=[external_id])


def test_unknown_painting_is_404(client, db):
    assert client.get(page("does-not-exist")).status_code == 404


def test_painting_page_shows_metadata_description_and_licence(client, db):
    painting = PaintingFactory(
        title="The Harvest",
        date_text="c. 1885",
        medium="Oil on panel",
        description="Peasants gather wheat under a low sun.",
        licence="CC0 1.0",
        source="aic",
    )

    html = client.get(page(painting.external_id)).content.decode()

    for text in ("The Harvest", "c. 1885", "Oil on panel", "Peasants gather wheat", "CC0 1.0", "aic"):
        assert text in html
    assert "Image not available" in html


def test_similar_paintings_come_from_the_chosen_engine(client, scored):
    response = client.get(page("p-a"), {"engine": "resnet"})

    assert response.context["engine"] == "resnet"
    similar = response.context["similar"]
    assert [other.external_id for other, _found, _thumb in similar] == ["p-b", "p-c", "p-e", "p-d"]
    assert similar[0][1].similarity == pytest.approx(0.9 / (0.9**2 + 0.1**2) ** 0.5, abs=1e-5)


def test_similar_paintings_offer_only_ready_engines_by_plain_name(client, scored, settings):
    settings.RECSYS_DEFAULT_RECOMMENDERS = ["resnet"]
    response = client.get(page("p-a"), {"engine": "clip"})

    assert response.status_code == 200
    assert response.context["engine"] == "resnet"
    assert [(c.name, c.label) for c in response.context["engines"]] == [
        ("lda", "Text topics (LDA)"),
        ("resnet", "Visual look (ResNet)"),
    ]
    html = response.content.decode()
    assert '<option value="resnet" selected>Visual look (ResNet)</option>' in html
    for text in ("RECSYS_", "CLIP", "disabled", "precompute", "unavailable"):
        assert text not in html, text


def test_similar_paintings_before_any_engine_is_ready_are_getting_ready(client, db):
    painting = PaintingFactory()

    response = client.get(page(painting.external_id))

    assert response.context["engine"] is None
    html = response.content.decode()
    assert "Similar paintings are getting ready" in html
    assert "data-ready-url=" in html and "precompute" not in html


def test_rating_from_the_painting_page_is_stored_for_a_user(client, db):
    user, painting = UserFactory(), PaintingFactory()
    client.force_login(user)

    response = client.post(reverse("web:painting_rate", args=[painting.external_id]), {"value": "4"})

    assert response.status_code == 302
    assert Rating.objects.get(user=user, painting=painting).value == 4


@pytest.mark.parametrize("value", ["", "0", "7"])
def test_invalid_rating_on_the_painting_page_is_a_form_error(client, db, value):
    painting = PaintingFactory()

    response = client.post(reverse("web:painting_rate", args=[painting.external_id]), {"value": value})

    assert response.status_code == 400
    assert response.context["form"].errors["value"]
    assert SESSION_RATINGS_KEY not in client.session


def test_remove_rating_deletes_it(client, db):
    rating = RatingFactory(value=2)
    client.force_login(rating.user)

    response = client.post(
        reverse("web:rating_remove", args=[rating.painting.external_id]),
        {"next": page(rating.painting.external_id)},
    )

    assert response["Location"] == page(rating.painting.external_id)
    assert not Rating.objects.exists()


def test_remove_rating_ignores_an_offsite_next(client, db):
    painting = PaintingFactory()
    session = client.session
    session[SESSION_RATINGS_KEY] = {painting.external_id: 3}
    session.save()

    response = client.post(
        reverse("web:rating_remove", args=[painting.external_id]), {"next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("web:my_ratings")
    assert SESSION_RATINGS_KEY not in client.session


@pytest.mark.parametrize("next_url", ["x", "my_ratings", "1e3", "paintings/x/", "\u00e9" * 400])
def test_a_next_that_is_not_a_path_from_the_root_goes_to_the_painting(client, db, next_url):
    """A bare word was taken for a URL pattern's name by ``redirect()``: a 500 (NoReverseMatch)."""
    user, painting = UserFactory(), PaintingFactory()
    client.force_login(user)

    response = client.post(
        reverse("web:painting_rate", args=[painting.external_id]), {"value": "4", "next": next_url}
    )

    assert response.status_code == 302
    assert response["Location"] == page(painting.external_id)
    assert Rating.objects.get(user=user, painting=painting).value == 4


@pytest.mark.parametrize("external_id", ["a\x00b", "\x00", "x" * 300])
def test_removing_a_rating_of_an_id_no_painting_can_have_deletes_nothing(client, db, external_id):
    """The id came into a PostgreSQL query as it was (NUL bytes included): a 500 (DataError)."""
    rating = RatingFactory(value=2)
    client.force_login(rating.user)

    response = client.post(reverse("web:rating_remove", args=[external_id]), {"next": "x"})

    assert response.status_code == 302
    assert response["Location"] == reverse("web:my_ratings")
    assert Rating.objects.get() == rating
