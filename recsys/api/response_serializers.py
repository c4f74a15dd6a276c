"""Response serializers of the recommender API: the recommendation answer (results, reasons,
explanations, A/B exposure) and the recommenders' status (with open builds' progress).

They are the documented schema; the recommendation hot path builds the same data without them
(``recsys.api.response_data``)."""

from __future__ import annotations

from rest_framework import serializers

from catalog.serializers import PaintingSummarySerializer
from recsys.serving.definitions import KINDS


class ContributionSerializer(serializers.Serializer):
    painting = serializers.CharField(help_text="The rated painting (id).")
    title = serializers.CharField(help_text="The rated painting's title.")
    thumbnail_url = serializers.URLField(
        allow_null=True, help_text="The rated painting's thumbnail (null without an image)."
    )
    rating = serializers.IntegerField()
    weight = serializers.FloatField(
        help_text="w_j, the rating's weight (learned: the ridge coefficient alpha_j)."
    )
    similarity = serializers.FloatField(
        help_text="A_ij, similarity of the rated and the recommended painting (learned: the kernel K_ij)."
    )
    contribution = serializers.FloatField(
        help_text="w_j * A_ij / n, its share of the score (learned: alpha_j * K_ij)."
    )
    engine = serializers.CharField()


class ExplanationSerializer(serializers.Serializer):
    contributions = ContributionSerializer(many=True)
    engine_ranks = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        help_text="Late fusion: each engine's rank of the painting (null: not in its list); {} otherwise.",
    )


class ReasonSerializer(serializers.Serializer):
    painting = serializers.CharField(help_text="The rated painting (id).")
    title = serializers.CharField(help_text="The rated painting's title.")
    rating = serializers.IntegerField()
    effect = serializers.ChoiceField(
        choices=["pulled_up", "pushed_down"],
        help_text="pulled_up: a liked painting (4-5) this one is close to ('Because you liked ...'); "
        "pushed_down: a disliked one (1-2) that ranked it lower. Nothing else explains.",
    )


class RecommendedPaintingSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    score = serializers.FloatField(
        help_text="The recommender's internal ranking value (its own scale, may be negative): for "
        "ordering and diagnostics, not for showing to visitors; show `rank` and `reasons`."
    )
    painting = PaintingSummarySerializer()
    reasons = ReasonSerializer(
        many=True, help_text="What to tell a visitor: the liked paintings that pulled it up, first."
    )
    explanation = ExplanationSerializer()


class ExposureSerializer(serializers.Serializer):
    id = serializers.UUIDField(
        help_text="POST answers about this list to /api/v1/experiments/exposures/{id}/feedback/."
    )
    experiment = serializers.IntegerField(source="experiment_id", help_text="The experiment's id.")
    arm = serializers.CharField(source="arm.name", help_text="The arm (its name) that answered.")


class OverrideSerializer(serializers.Serializer):
    requested = serializers.JSONField(help_text="What the request asked for (null: the default).")
    applied = serializers.JSONField(help_text="What the experiment's arm used instead.")


class RecommendationsSerializer(serializers.Serializer):
    recommender = serializers.CharField(help_text="The recommender that answered.")
    engine = serializers.CharField(help_text="Deprecated: the same as `recommender`.")
    kind = serializers.ChoiceField(choices=list(KINDS))
    mode = serializers.CharField(allow_null=True, help_text="'partial' or 'total' for late fusion.")
    mmr_lambda = serializers.FloatField(
        allow_null=True, help_text="The MMR trade-off applied (null: the recommender's own order)."
    )
    weighting = serializers.CharField()
    applied_weighting = serializers.DictField(
        child=serializers.CharField(), help_text="Engine -> weighting actually applied."
    )
    versions = serializers.DictField(child=serializers.CharField(), help_text="Engine -> artefact version.")
    n = serializers.IntegerField(
        help_text="The list length the recommender was asked for: the request's `n` unless an A/B "
        "experiment set its own (see `experiment_overrides`)."
    )
    experiment_overrides = serializers.DictField(
        child=OverrideSerializer(),
        help_text="Request fields a running A/B experiment changed ('recommender', 'n') -> what was "
        "requested and what was applied; empty when the request was answered as sent.",
    )
    ignored_ratings = serializers.DictField(
        child=serializers.CharField(), help_text="Rated painting id -> why an engine could not use it."
    )
    results = RecommendedPaintingSerializer(many=True)
    exposure = ExposureSerializer(
        allow_null=True,
        help_text="The logged list while an A/B experiment runs and the visitor takes part; else null.",
    )


class BuildProgressSerializer(serializers.Serializer):
    """An open build's progress (``recsys.build.progress``)."""

    step = serializers.ChoiceField(
        choices=["queued", "snapshot", "fit", "encode", "pairs", "finalize"], help_text="The step it is in."
    )
    label = serializers.CharField(help_text="The step in plain words.")
    index = serializers.IntegerField(help_text="1-based position of the step (0 while queued).")
    count = serializers.IntegerField(help_text="Steps of this engine's build.")
    done = serializers.IntegerField(help_text="Units of the step done.")
    total = serializers.IntegerField(help_text="Units of the step (0: the step has no count).")
    unit = serializers.CharField(help_text="What is counted, e.g. 'LDA training passes', 'paintings'.")
    fraction = serializers.FloatField(allow_null=True, help_text="done / total; null without a count.")
    eta_s = serializers.FloatField(
        allow_null=True, help_text="Seconds left in the step at its pace so far; null before the first unit."
    )
    elapsed_s = serializers.FloatField(help_text="Seconds since the step began.")


class RecommenderSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=list(KINDS))
    mode = serializers.CharField(allow_null=True)
    engines = serializers.DictField(
        child=serializers.FloatField(), help_text="Engines it uses -> late-fusion weight."
    )
    status = serializers.ChoiceField(choices=["ready", "computing", "unavailable"])
    reason = serializers.CharField(help_text="Why it is not ready; empty when ready.")
    progress = serializers.FloatField(
        allow_null=True, help_text="0..1 of the current build step while computing (see builds)."
    )
    builds = serializers.DictField(
        child=BuildProgressSerializer(),
        help_text="Engine -> its open build: step, count done, time left (a refresh of a ready engine too).",
    )
    eta_s = serializers.FloatField(
        allow_null=True,
        help_text="While computing: seconds until the slowest engine's current step ends; null if unknown.",
    )
    versions = serializers.DictField(
        child=serializers.CharField(allow_null=True), help_text="Engine -> active artefact version."
    )
    coverage = serializers.FloatField(
        allow_null=True, help_text="Share of the catalogue the active artefacts represent."
    )
    is_default = serializers.BooleanField()
    space = serializers.CharField(
        allow_null=True,
        help_text="Recommenders that use the tuned space: 'tuned:<version>' while one is active, else "
        "'untuned' (the reason says why); null for the others.",
    )
