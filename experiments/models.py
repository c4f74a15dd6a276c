"""A/B comparison of recommenders (Yilma & Leiva, UMAP'23, live): recommenders defined in the
admin, experiments with arms, participants, every recommendation list shown (exposure), clicks
on and later ratings of its paintings, and the paper's four-question feedback.

A participant is keyed by a *visitor key*: ``user:<pk>`` for a signed-in user, ``visitor:<id>``
for a guest's session visitor id or a museum app's visitor id (``experiments.visitors``).
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from experiments.definitions import validate_definition

QUESTIONS = ("accuracy", "diversity", "novelty", "serendipity")
QUESTION_TEXT = {
    "accuracy": "The recommendations match my personal preferences and interests",
    "diversity": "The recommended paintings are diverse",
    "novelty": "The recommender helped me discover paintings I did not know before",
    "serendipity": "I found surprisingly interesting paintings",
}
LIKERT = [MinValueValidator(1), MaxValueValidator(5)]


def _new_salt() -> str:
    return uuid.uuid4().hex


class RecommenderDefinition(models.Model):
    """A recommender defined in the admin; ``recsys.serving.recommenders`` serves it beside the
    settings ones."""

    class Kind(models.TextChoices):
        SINGLE = "single", "Single engine"
        EARLY = "early", "Early fusion (one joint engine)"
        LATE = "late", "Late fusion (reciprocal rank fusion)"
        LEARNED = "learned", "Learned (trained on ratings)"
        SCORE = "score", "Score fusion (weighted similarities; a missing modality uses the other)"

    class Mode(models.TextChoices):
        PARTIAL = "partial", "Partial (each engine's top R)"
        TOTAL = "total", "Total (full rankings)"

    class Weighting(models.TextChoices):
        DEFAULT = "", "Default (RECSYS_WEIGHTING)"
        CENTERED = "centered", "Centered"
        MINMAX = "minmax", "Min-max (paper)"

    name = models.SlugField(max_length=50, unique=True, help_text="Recommender name used by the API.")
    description = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    engines = models.JSONField(
        default=dict,
        help_text='Engine -> weight, e.g. {"lda": 1.0, "resnet": 1.0}; one engine for single/early; '
        'for score fusion the weights are beta and 1 - beta, e.g. {"dinov2": 0.4, "xlmr": 0.6}.',
    )
    mode = models.CharField(max_length=16, choices=Mode.choices, blank=True, help_text="Late fusion only.")
    rrf_k = models.PositiveIntegerField("RRF k", default=60)
    depth = models.PositiveIntegerField(
        "R", null=True, blank=True, help_text="Each engine's list length in partial mode (blank: n)."
    )
    weighting = models.CharField(max_length=16, choices=Weighting.choices, blank=True)
    mmr_lambda = models.FloatField(
        "MMR lambda",
        null=True,
        blank=True,
        help_text="Maximal marginal relevance re-ranking, 0 < lambda <= 1, 1 = relevance only (blank: none).",
    )
    ridge_lambda = models.FloatField(
        "ridge lambda",
        null=True,
        blank=True,
        help_text="Learned only: the ridge regularisation, > 0 (blank: the default the evaluation chose).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Every rule is the one schema's (``recsys.serving.definitions``), as for the settings."""
        validate_definition(self)


class Experiment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        STOPPED = "stopped", "Stopped"

    class Design(models.TextChoices):
        BETWEEN = "between", "Between subjects (one arm per visitor)"
        WITHIN = "within", "Within subjects (every arm, counterbalanced, one repeated)"
        INTERLEAVED = "interleaved", "Interleaved (two arms team-drafted into one list)"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    design = models.CharField(max_length=16, choices=Design.choices, default=Design.BETWEEN)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Blank: as soon as it runs.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Blank: until stopped.")
    n_recommendations = models.PositiveSmallIntegerField(
        default=9, validators=[MinValueValidator(1)], help_text="Paintings per list shown."
    )
    salt = models.CharField(max_length=32, default=_new_salt, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(starts_at__lt=models.F("ends_at")),
                name="experiment_window_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_within(self) -> bool:
        return self.design == self.Design.WITHIN

    @property
    def is_interleaved(self) -> bool:
        return self.design == self.Design.INTERLEAVED


class Arm(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="arms")
    name = models.CharField(max_length=100)
    recommender = models.CharField(
        max_length=50, help_text="A recommender name: from settings or defined in the admin."
    )
    weight = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(0.000001)],
        help_text="Traffic weight (between subjects); within subjects every arm is shown.",
    )

    class Meta:
        ordering = ["experiment", "id"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "name"], name="arm_unique_name"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="arm_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.recommender})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from config.exceptions import UnknownEngine
        from recsys.serving.recommenders import get_recommender

        try:
            get_recommender(self.recommender)
        except UnknownEngine as exc:
            raise ValidationError({"recommender": exc.message}) from None


class Participant(models.Model):
    """A visitor taking part in one experiment: their arm or their sequence of arms."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="participants")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    visitor_key = models.CharField(max_length=120)
    index = models.PositiveIntegerField(help_text="Order of joining (row of the Latin square).")
    arm = models.ForeignKey(Arm, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sequence = models.JSONField(default=list, blank=True, help_text="Within subjects: arm ids in order.")
    flagged = models.BooleanField(
        default=False, help_text="Answers to the repeated arm differ by 2 points or more (excluded)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["experiment", "index"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "visitor_key"], name="participant_unique_visitor"),
            models.UniqueConstraint(fields=["experiment", "index"], name="participant_unique_index"),
        ]

    def __str__(self) -> str:
        return f"{self.visitor_key} in {self.experiment_id}"


class Exposure(models.Model):
    """One recommendation list shown to a participant."""

    class Source(models.TextChoices):
        WEB = "web", "Web"
        API = "api", "API"
        SIMULATED = "simulated", "Simulated"

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="exposures")
    public_id = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, help_text="How the visitor's pages and app name it."
    )
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="exposures")
    arm = models.ForeignKey(Arm, on_delete=models.PROTECT, related_name="exposures")
    visitor_key = models.CharField(max_length=120, db_index=True)
    step = models.PositiveSmallIntegerField(default=0, help_text="Position in a within-subjects sequence.")
    recommender = models.CharField(max_length=50, help_text="The recommender that answered.")
    fallback_reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why the arm's recommender did not answer (blank: it did); ``recommender`` stood in.",
    )
    versions = models.JSONField(default=dict, blank=True, help_text="Engine -> artefact version.")
    painting_ids = models.JSONField(default=list, help_text="Recommended painting pks, best first.")
    teams = models.JSONField(
        default=list,
        blank=True,
        help_text="Interleaved: for each position, the arm id whose ranking drafted the painting.",
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WEB)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["experiment", "arm"])]

    def __str__(self) -> str:
        return f"exposure {self.pk} ({self.recommender} to {self.visitor_key})"


class Click(models.Model):
    exposure = models.ForeignKey(Exposure, on_delete=models.CASCADE, related_name="clicks")
    painting = models.ForeignKey("catalog.Painting", on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField(help_text="1-based position in the list.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"click on {self.painting_id} in exposure {self.exposure_id}"


class ExposureRating(models.Model):
    """A later rating of a recommended painting, linked to the exposure that showed it."""

    exposure = models.ForeignKey(Exposure, on_delete=models.CASCADE, related_name="ratings")
    painting = models.ForeignKey("catalog.Painting", on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    value = models.PositiveSmallIntegerField(validators=LIKERT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["exposure", "painting"], name="exposure_rating_unique"),
            models.CheckConstraint(
                condition=Q(value__gte=1) & Q(value__lte=5), name="exposure_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"rating {self.value} of {self.painting_id} from exposure {self.exposure_id}"


class Feedback(models.Model):
    """The paper's four 5-point questions about one list."""

    exposure = models.OneToOneField(Exposure, on_delete=models.CASCADE, related_name="feedback")
    accuracy = models.PositiveSmallIntegerField(validators=LIKERT, help_text=QUESTION_TEXT["accuracy"])
    diversity = models.PositiveSmallIntegerField(validators=LIKERT, help_text=QUESTION_TEXT["diversity"])
    novelty = models.PositiveSmallIntegerField(validators=LIKERT, help_text=QUESTION_TEXT["novelty"])
    serendipity = models.PositiveSmallIntegerField(validators=LIKERT, help_text=QUESTION_TEXT["serendipity"])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(**{f"{q}__gte": 1 for q in QUESTIONS}) & Q(**{f"{q}__lte": 5 for q in QUESTIONS}),
                name="feedback_answers_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return f"feedback on exposure {self.exposure_id}"

    def answers(self) -> dict[str, int]:
        return {q: getattr(self, q) for q in QUESTIONS}
