"""The catalogue admin renders for staff within a bounded number of queries, and its saves and
deletes go through the services (content hash, signal, files)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from catalog.importing import images
from catalog.models import ImportRun, Painting, StoryGroup
from catalog.signals import catalogue_changed
from tests.catalog.conftest import painting_row, png_bytes, run_import, stored_files
from tests.factories import PaintingFactory, StoryGroupFactory

pytestmark = pytest.mark.django_db

MAX_QUERIES = 12


@pytest.fixture
def catalogue(native_set):
    """Three imported paintings with images, twenty more from the factory."""
    painters = {1: "Jan Vermeer", 2: "Frans Hals", 3: "Jan Vermeer"}
    run_import(native_set(rows=[painting_row(i, date=f"{1700 + i}", artist=painters[i]) for i in (1, 2, 3)]))
    PaintingFactory.create_batch(20, title="Still life", description="Fruit on a table.")
    return Painting.objects.get(external_id="p-1")


@pytest.fixture
def signals():
    calls: list[list[int]] = []

    def receiver(sender, *, painting_ids, **kwargs):
        calls.append(painting_ids)

    catalogue_changed.connect(receiver, dispatch_uid="tests.catalog.admin")
    yield calls
    catalogue_changed.disconnect(dispatch_uid="tests.catalog.admin")


def changelist(model: str) -> str:
    return reverse(f"admin:catalog_{model}_changelist")


def test_painting_changelist_shows_thumbnails(admin_client, catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin_client.get(changelist("painting"))

    assert response.status_code == 200
    assert f'<img src="/media/{catalogue.image.name}"' in response.content.decode()
    assert response.context["cl"].result_count == 23


def test_painting_search_matches_title_artist_id_and_description(admin_client, catalogue):
    for query, expected in [("Painting 2", {"p-2"}), ("vermeer", {"p-1", "p-3"}), ("p-3", {"p-3"}),
                            ("harbour scene number 1", {"p-1"})]:  # fmt: skip
        response = admin_client.get(changelist("painting"), {"q": query})
        found = {p.external_id for p in response.context["cl"].result_list}
        assert found == expected, query


def test_painting_filters_by_period_and_image_status(admin_client, catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin_client.get(changelist("painting"), {"period": "1700s", "image_status__exact": "ok"})

    assert {p.external_id for p in response.context["cl"].result_list} == {"p-1", "p-2", "p-3"}


def test_painting_change_page_shows_the_preview(admin_client, catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin_client.get(reverse("admin:catalog_painting_change", args=[catalogue.pk]))

    assert response.status_code == 200
    assert 'style="height:320px' in response.content.decode()


def _form_data(painting: Painting, **changes) -> dict:
    data = {
        "external_id": painting.external_id, "title": painting.title, "artist": painting.artist_id or "",
        "story_group": painting.story_group_id or "", "date_text": painting.date_text,
        "year_start": painting.year_start or "", "year_end": painting.year_end or "",
        "medium": painting.medium,
        "dimensions": painting.dimensions, "description": painting.description, "subjects": '["harbour"]',
        "image_url": painting.image_url, "source": painting.source, "source_url": painting.source_url,
        "licence": painting.licence,
    }  # fmt: skip
    data.update(changes)
    return data


def test_saving_a_new_title_refreshes_the_hash_and_signals(
    admin_client, catalogue, signals, django_capture_on_commit_callbacks
):
    old_hash = catalogue.content_hash
    url = reverse("admin:catalog_painting_change", args=[catalogue.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, _form_data(catalogue, title="Harbour at dusk"))

    assert response.status_code == 302
    catalogue.refresh_from_db()
    assert catalogue.title == "Harbour at dusk"
    assert catalogue.content_hash != old_hash
    assert signals == [[catalogue.pk]]


def test_uploading_a_new_image_stores_a_normalised_jpeg(
    admin_client, catalogue, media_root, django_capture_on_commit_callbacks
):
    old_file = catalogue.image.name.split("/")[1]
    upload = SimpleUploadedFile("new.png", png_bytes(size=(64, 32)), content_type="image/png")
    url = reverse("admin:catalog_painting_change", args=[catalogue.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {**_form_data(catalogue), "new_image": upload})

    assert response.status_code == 302
    catalogue.refresh_from_db()
    assert (catalogue.image_status, catalogue.image_width, catalogue.image_height) == ("ok", 64, 32)
    assert catalogue.image.name.endswith(".jpg")
    assert old_file not in stored_files(media_root)


def test_an_uploaded_image_is_decoded_once(admin_client, catalogue, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("new.png", png_bytes(size=(64, 32)), content_type="image/png")
    url = reverse("admin:catalog_painting_change", args=[catalogue.pk])

    with (
        mock.patch("catalog.importing.images.normalise_image", wraps=images.normalise_image) as normalise,
        mock.patch("PIL.Image.open", wraps=Image.open) as pil_open,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(url, {**_form_data(catalogue), "new_image": upload})

    assert response.status_code == 302
    assert (normalise.call_count, pil_open.call_count) == (1, 1)


def test_an_unreadable_upload_is_a_form_error_and_changes_nothing(admin_client, catalogue, media_root):
    before = (catalogue.image.name, stored_files(media_root))
    upload = SimpleUploadedFile("new.png", b"\x89PNG not really", content_type="image/png")
    url = reverse("admin:catalog_painting_change", args=[catalogue.pk])

    response = admin_client.post(url, {**_form_data(catalogue), "new_image": upload})

    assert response.status_code == 200
    assert "The image is not a readable image" in response.content.decode()
    catalogue.refresh_from_db()
    assert (catalogue.image.name, stored_files(media_root)) == before


def test_year_range_out_of_order_is_a_form_error(admin_client, catalogue):
    url = reverse("admin:catalog_painting_change", args=[catalogue.pk])

    response = admin_client.post(url, _form_data(catalogue, year_start=1900, year_end=1800))

    assert response.status_code == 200
    assert "painting_year_range_ordered" in response.content.decode()


def test_deleting_a_painting_signals_and_removes_its_file(
    admin_client, catalogue, signals, media_root, django_capture_on_commit_callbacks
):
    name = catalogue.image.name.split("/")[1]
    url = reverse("admin:catalog_painting_delete", args=[catalogue.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Painting.objects.filter(pk=catalogue.pk).exists()
    assert signals == [[catalogue.pk]]
    assert name not in stored_files(media_root)


def test_renaming_a_story_group_changes_no_engine_text(
    admin_client, catalogue, signals, django_capture_on_commit_callbacks
):
    # the group's name is not in the engines' text (catalog.text), so nothing is re-embedded
    group = StoryGroup.objects.get(slug="harbours")
    url = reverse("admin:catalog_storygroup_change", args=[group.pk])

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            url,
            {"slug": "harbours", "name": "Ports", "description": "", "use_in_elicitation": "on",
             "elicitation_order": "0"},
        )  # fmt: skip

    assert StoryGroup.objects.get(pk=group.pk).name == "Ports"
    assert signals == []


@pytest.mark.parametrize("model", ["artist", "storygroup", "importrun", "importproblem"])
def test_other_changelists_render(admin_client, catalogue, model, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin_client.get(changelist(model))

    assert response.status_code == 200


def test_story_group_list_counts_viewable_paintings_in_curator_order(admin_client, catalogue):
    StoryGroupFactory(slug="late", name="A late group", elicitation_order=5)
    factory_group = Painting.objects.filter(image_status="none").values_list("story_group__slug", flat=True)[
        0
    ]

    response = admin_client.get(changelist("storygroup"))

    groups = response.context["cl"].result_list
    counts = {g.slug: (g.painting_count, g.viewable_count) for g in groups}
    assert counts["harbours"] == (3, 3)  # imported with images
    assert counts[factory_group] == (1, 0)  # a factory painting without an image
    assert groups[len(groups) - 1].slug == "late"  # order 5 after the others' 0, whatever the name


def test_curators_set_the_flag_and_order_in_the_list(admin_client, catalogue):
    groups = list(StoryGroup.objects.order_by("elicitation_order", "name", "slug"))
    data = {"form-TOTAL_FORMS": str(len(groups)), "form-INITIAL_FORMS": str(len(groups)), "_save": "Save"}
    for i, group in enumerate(groups):
        data |= {f"form-{i}-id": str(group.pk), f"form-{i}-elicitation_order": str(i)}
        if group.slug != "harbours":
            data[f"form-{i}-use_in_elicitation"] = "on"

    response = admin_client.post(changelist("storygroup"), data)

    assert response.status_code == 302
    harbours = StoryGroup.objects.get(slug="harbours")
    assert (harbours.use_in_elicitation, harbours.elicitation_order) == (False, groups.index(harbours))
    assert StoryGroup.objects.filter(use_in_elicitation=True).count() == len(groups) - 1


def test_artist_changelist_counts_paintings(admin_client, catalogue):
    response = admin_client.get(changelist("artist"), {"q": "Jan Vermeer"})

    assert {a.name: a.painting_count for a in response.context["cl"].result_list} == {"Jan Vermeer": 2}


def test_import_run_links_to_its_problems(admin_client, native_set):
    run_import(native_set(rows=[painting_row(1, title="")]))
    run = ImportRun.objects.get()

    response = admin_client.get(changelist("importproblem"), {"run__id__exact": run.pk})

    assert response.status_code == 200
    assert [p.reason for p in response.context["cl"].result_list] == ["missing title"]
