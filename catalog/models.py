"""The painting catalogue: paintings, their artists and the curated story groups used to elicit ratings."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

EXTERNAL_ID_RE = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$"
external_id_validator = RegexValidator(
    EXTERNAL_ID_RE, "Use letters, digits, '_', '.' and '-' (at most 96 characters)."
)

#: a language code: ISO 639-1/3, optionally with a region or script (``nl``, ``pt-BR``)
LANGUAGE_RE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"
language_validator = RegexValidator(LANGUAGE_RE, "Use a language code such as 'en', 'nl' or 'pt-BR'.")
#: the text fields a painting may also have in other languages (``Painting.translations``)
TRANSLATION_FIELDS = ("title", "medium", "description", "subjects")


def validate_translations(value: object) -> None:
    """``{"<language>": {"title" | "medium" | "description": text, "subjects": [text, ...]}}``."""
    if not isinstance(value, dict):
        raise ValidationError('Give an object language -> fields, e.g. {"fr": {"description": "..."}}.')
    for language, fields in value.items():
        if not re.fullmatch(LANGUAGE_RE, str(language)):
            raise ValidationError(f"{language!r} is not a language code such as 'en', 'nl' or 'pt-BR'.")
        if not isinstance(fields, dict) or set(fields) - set(TRANSLATION_FIELDS):
            raise ValidationError(f"{language}: give an object with some of {', '.join(TRANSLATION_FIELDS)}.")
        for name, text in fields.items():
            if name == "subjects":
                ok = isinstance(text, list) and all(isinstance(t, str) for t in text)
            else:
                ok = isinstance(text, str)
            if not ok:
                raise ValidationError(f"{language}.{name} must be text (subjects: a list of texts).")


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Artist(TimeStampedModel):
    name = models.CharField(max_length=300, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StoryGroup(TimeStampedModel):
    """A curated theme (a period, a department, a subject) from which one painting is rated.

    Curators choose which groups the elicitation step draws from (``use_in_elicitation``) and in
    which order (``elicitation_order``, lowest first; ties by name): with more groups than the
    set has paintings, the first groups in this order make the first set.
    """

    slug = models.SlugField(max_length=120, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    use_in_elicitation = models.BooleanField(
        "use in elicitation",
        default=True,
        help_text="Draw paintings of this group for visitors to rate first (only those with an image).",
    )
    elicitation_order = models.IntegerField(
        default=0,
        help_text="Position in the elicitation: lower comes first; groups with the same number by name.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Painting(TimeStampedModel):
    class ImageStatus(models.TextChoices):
        OK = "ok", "Image stored"
        REMOTE = "remote", "Remote URL only, not fetched yet"
        UNAVAILABLE = "unavailable", "Remote URL could not be fetched"
        MISSING = "missing", "Image file missing"
        INVALID = "invalid", "Image file unreadable"
        NONE = "none", "No image known"

    external_id = models.CharField(
        max_length=96,
        unique=True,
        validators=[external_id_validator],
        help_text="Stable id used by apps and URLs, e.g. 'aic-109220'.",
    )
    title = models.CharField(max_length=500)
    artist = models.ForeignKey(
        Artist, null=True, blank=True, on_delete=models.SET_NULL, related_name="paintings"
    )
    date_text = models.CharField("date", max_length=120, blank=True)
    year_start = models.IntegerField(null=True, blank=True, db_index=True)
    year_end = models.IntegerField(null=True, blank=True)
    medium = models.CharField(max_length=500, blank=True)
    dimensions = models.CharField(max_length=300, blank=True)
    description = models.TextField("curatorial description", blank=True)
    subjects = models.JSONField(default=list, blank=True, help_text="Subject terms / keywords.")
    language = models.CharField(
        max_length=16,
        blank=True,
        validators=[language_validator],
        help_text="Language of title, medium, description and subjects (e.g. 'en'; blank: not stated).",
    )
    translations = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_translations],
        help_text='The text in other languages: {"fr": {"title": "...", "description": "..."}}; '
        "read by the multilingual engine.",
    )
    story_group = models.ForeignKey(
        StoryGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="paintings"
    )

    image = models.ImageField(upload_to="paintings/", blank=True)
    image_status = models.CharField(
        max_length=16, choices=ImageStatus.choices, default=ImageStatus.NONE, db_index=True
    )
    image_url = models.URLField("remote image URL", max_length=1000, blank=True)
    image_sha256 = models.CharField(max_length=64, blank=True)
    image_bytes = models.PositiveIntegerField(null=True, blank=True)
    image_width = models.PositiveIntegerField(null=True, blank=True)
    image_height = models.PositiveIntegerField(null=True, blank=True)
    image_source_sha256 = models.CharField(
        max_length=64,
        blank=True,
        help_text="Checksum of the image file as imported, before normalisation (unchanged: not re-decoded).",
    )

    source = models.CharField(max_length=100, blank=True, db_index=True, help_text="Dataset / museum.")
    source_url = models.URLField(max_length=1000, blank=True)
    licence = models.CharField(max_length=300, blank=True)
    content_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text="Hash of the text and image checksum the engines read; changes mark it for re-embedding.",
    )

    class Meta:
        ordering = ["external_id"]
        indexes = [
            models.Index(fields=["story_group", "external_id"]),
            models.Index(fields=["artist", "external_id"]),
            models.Index(fields=["year_start", "year_end"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(year_start__isnull=True)
                | Q(year_end__isnull=True)
                | Q(year_start__lte=models.F("year_end")),
                name="painting_year_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(image_status="ok") | Q(image=""),
                name="painting_image_only_when_ok",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.external_id})"

    @property
    def has_image(self) -> bool:
        return self.image_status == self.ImageStatus.OK and bool(self.image)


class ImportRun(models.Model):
    """One ``import_catalog`` run: what it read, what it changed and every problem it found.

    Written outside the import's own transactions, so a rejected (``--strict``) or interrupted
    run is on record even though it changed no painting.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        REJECTED = "rejected", "Rejected (strict: nothing written)"
        FAILED = "failed", "Failed"

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    strict = models.BooleanField(default=False)
    sources = models.JSONField(default=list, blank=True, help_text="Per manifest: path, mapping and counts.")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Rows rejected (no usable id or title).")
    problem_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Import #{self.pk} ({self.status})"


class ImportProblem(models.Model):
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="problems")
    source = models.CharField(max_length=100, blank=True)
    row = models.PositiveIntegerField(null=True, blank=True)
    field = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=96, blank=True)
    reason = models.TextField()

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.source} row {self.row} {self.field}: {self.reason}"
