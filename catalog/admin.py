"""Catalogue admin: paintings (with thumbnails), artists, story groups and import runs.

Every save and delete goes through ``catalog.services`` so ``content_hash`` stays current and
the recommender hears of content changes (``catalog.signals.catalogue_changed``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from catalog import services
from catalog.importing.images import CheckedUpload, ImageProblem, check_upload
from catalog.models import Artist, ImportProblem, ImportRun, Painting, StoryGroup

THUMBNAIL_HEIGHT = 48
PREVIEW_HEIGHT = 320


def _image_tag(painting: Painting, *, height: int) -> str:
    if not painting.has_image:
        return painting.get_image_status_display()
    return format_html(
        '<img src="{}" alt="" loading="lazy" style="height:{}px;width:auto">', painting.image.url, height
    )


class YearRangeFilter(admin.SimpleListFilter):
    """Roughly by century, on ``year_start``; "unknown" for paintings without a parsed year."""

    title = "period"
    parameter_name = "period"
    RANGES = {
        "before-1400": ("Before 1400", None, 1399),
        "1400-1599": ("1400-1599", 1400, 1599),
        "1600s": ("1600s", 1600, 1699),
        "1700s": ("1700s", 1700, 1799),
        "1800s": ("1800s", 1800, 1899),
        "1900s": ("1900s", 1900, 1999),
        "2000-": ("2000 and later", 2000, None),
    }

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _, _) in self.RANGES.items()] + [("unknown", "Unknown")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Painting]) -> QuerySet[Painting]:
        value = self.value()
        if value == "unknown":
            return queryset.filter(year_start__isnull=True)
        if value not in self.RANGES:
            return queryset
        _, low, high = self.RANGES[value]
        condition = Q()
        if low is not None:
            condition &= Q(year_start__gte=low)
        if high is not None:
            condition &= Q(year_start__lte=high)
        return queryset.filter(condition)


def _formfield(db_field: models.Field, **kwargs: Any) -> forms.Field | None:
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class PaintingForm(forms.ModelForm):
    # A FileField, not an ImageField: the upload is decoded once, by ``check_upload`` below
    # (an ImageField would open it with Pillow first), and the result goes to the service.
    new_image = forms.FileField(
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
        help_text="Replaces the stored image; it is converted to an RGB JPEG of at most "
        "CATALOG_IMAGE_MAX_SIDE pixels a side.",
    )

    class Meta:
        model = Painting
        formfield_callback = _formfield
        # the stored image is replaced only through ``new_image`` (checked and normalised)
        fields = [
            "external_id", "title", "artist", "story_group", "date_text", "year_start", "year_end",
            "medium", "dimensions", "description", "subjects", "image_url", "source", "source_url", "licence",
        ]  # fmt: skip

    def clean_new_image(self) -> CheckedUpload | None:
        """The upload checked and normalised (decoded once); ``painting_save`` stores it as is."""
        upload = self.cleaned_data.get("new_image")
        if not upload:
            return None
        try:
            return check_upload(
                upload,
                max_bytes=settings.CATALOG_IMAGE_MAX_BYTES,
                max_side=settings.CATALOG_IMAGE_MAX_SIDE,
                max_pixels=settings.CATALOG_IMAGE_MAX_PIXELS,
            )
        except ImageProblem as exc:
            raise forms.ValidationError(f"The image is {exc.reason}.") from exc


@admin.register(Painting)
class PaintingAdmin(admin.ModelAdmin):
    form = PaintingForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = [
        "thumbnail", "external_id", "title", "artist", "story_group", "year_start", "image_status", "source",
    ]  # fmt: skip
    list_display_links = ["thumbnail", "external_id", "title"]
    list_select_related = ["artist", "story_group"]
    list_filter = ["story_group", "source", "image_status", YearRangeFilter]
    search_fields = ["title", "artist__name", "external_id", "description"]
    autocomplete_fields = ["artist", "story_group"]
    list_per_page = 50
    readonly_fields = [
        "image_preview", "image_status", "image_sha256", "image_bytes", "image_width", "image_height",
        "image_source_sha256", "content_hash", "created_at", "updated_at",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["external_id", "title", "artist", "story_group"]}),
        ("Date", {"fields": ["date_text", "year_start", "year_end"]}),
        ("Object", {"fields": ["medium", "dimensions", "description", "subjects"]}),
        ("Other languages", {"fields": ["language", "translations"]}),
        (
            "Image",
            {
                "fields": [
                    "image_preview",
                    "new_image",
                    "image_status",
                    "image_url",
                    "image_sha256",
                    "image_bytes",
                    "image_width",
                    "image_height",
                    "image_source_sha256",
                ]
            },
        ),
        (
            "Provenance",
            {"fields": ["source", "source_url", "licence", "content_hash", "created_at", "updated_at"]},
        ),
    ]

    @admin.display(description="image")
    def thumbnail(self, painting: Painting) -> str:
        return _image_tag(painting, height=THUMBNAIL_HEIGHT)

    @admin.display(description="image")
    def image_preview(self, painting: Painting) -> str:
        return _image_tag(painting, height=PREVIEW_HEIGHT)

    def save_model(self, request: HttpRequest, obj: Painting, form: forms.ModelForm, change: bool) -> None:
        services.painting_save(painting=obj, new_image=form.cleaned_data.get("new_image"))

    def delete_model(self, request: HttpRequest, obj: Painting) -> None:
        services.paintings_delete(paintings=Painting.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Painting]) -> None:
        services.paintings_delete(paintings=queryset)


class _PaintingCountMixin:
    @admin.display(description="paintings", ordering="painting_count")
    def painting_count(self, obj: Artist | StoryGroup) -> int:
        return obj.painting_count

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(painting_count=Count("paintings"))  # type: ignore[misc]


@admin.register(Artist)
class ArtistAdmin(_PaintingCountMixin, admin.ModelAdmin):
    list_display = ["name", "painting_count"]
    search_fields = ["name"]
    readonly_fields = ["created_at", "updated_at"]

    def save_model(self, request: HttpRequest, obj: Artist, form: forms.ModelForm, change: bool) -> None:
        services.artist_save(artist=obj)

    def delete_model(self, request: HttpRequest, obj: Artist) -> None:
        services.artists_delete(artists=Artist.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Artist]) -> None:
        services.artists_delete(artists=queryset)


@admin.register(StoryGroup)
class StoryGroupAdmin(_PaintingCountMixin, admin.ModelAdmin):
    """Curators pick the elicitation's groups and their order right in the list (``list_editable``);
    "with image" counts the paintings a visitor can see, the only ones the elicitation draws."""

    list_display = [
        "name",
        "slug",
        "painting_count",
        "viewable_count",
        "use_in_elicitation",
        "elicitation_order",
    ]
    list_editable = ["use_in_elicitation", "elicitation_order"]
    list_filter = ["use_in_elicitation"]
    ordering = ["elicitation_order", "name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    fields = [
        "name",
        "slug",
        "description",
        "use_in_elicitation",
        "elicitation_order",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[StoryGroup]:
        viewable = Q(paintings__image_status=Painting.ImageStatus.OK) & ~Q(paintings__image="")
        return super().get_queryset(request).annotate(viewable_count=Count("paintings", filter=viewable))

    @admin.display(description="with image", ordering="viewable_count")
    def viewable_count(self, obj: StoryGroup) -> int:
        return obj.viewable_count  # type: ignore[attr-defined]

    def save_model(self, request: HttpRequest, obj: StoryGroup, form: forms.ModelForm, change: bool) -> None:
        services.story_group_save(group=obj)

    def delete_model(self, request: HttpRequest, obj: StoryGroup) -> None:
        services.story_groups_delete(groups=StoryGroup.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[StoryGroup]) -> None:
        services.story_groups_delete(groups=queryset)


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Import records are written by the import only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ImportRun)
class ImportRunAdmin(_ReadOnlyAdmin):
    list_display = [
        "id", "started_at", "status", "strict", "created", "updated", "unchanged", "skipped", "problems_link",
    ]  # fmt: skip
    list_filter = ["status", "strict"]
    readonly_fields = [f.name for f in ImportRun._meta.fields] + ["problems_link"]

    @admin.display(description="problems", ordering="problem_count")
    def problems_link(self, run: ImportRun) -> str:
        if not run.problem_count:
            return "0"
        url = reverse("admin:catalog_importproblem_changelist") + f"?run__id__exact={run.pk}"
        return format_html('<a href="{}">{}</a>', url, run.problem_count)


@admin.register(ImportProblem)
class ImportProblemAdmin(_ReadOnlyAdmin):
    list_display = ["run", "source", "row", "field", "external_id", "reason"]
    list_filter = ["source"]
    list_select_related = ["run"]
    search_fields = ["external_id", "reason", "field"]
