"""factory_boy factories shared by every test module."""

from __future__ import annotations

import factory

from catalog.models import Artist, Painting, StoryGroup
from users.models import Rating, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password("pass-word-123")


class ArtistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Artist
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Artist {n}")


class StoryGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoryGroup
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"group-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())


class PaintingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Painting

    external_id = factory.Sequence(lambda n: f"test-{n}")
    title = factory.Sequence(lambda n: f"Painting {n}")
    artist = factory.SubFactory(ArtistFactory)
    date_text = "1890"
    year_start = 1890
    year_end = 1890
    medium = "Oil on canvas"
    description = "A landscape with trees and a river under an evening sky."
    story_group = factory.SubFactory(StoryGroupFactory)
    source = "test"
    licence = "CC0"


class RatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rating

    user = factory.SubFactory(UserFactory)
    painting = factory.SubFactory(PaintingFactory)
    value = 4
