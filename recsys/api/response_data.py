"""The recommendation answer as plain data, without serializer instances (the hot path).

DRF builds and deep-copies every nested field of ``RecommendationsSerializer`` on each request
(about 40 field objects per result): more CPU than the recommendation itself. These functions
give exactly the ``.data`` that serializer gives for the same answer (tests compare the two); the
serializer classes in ``recsys.api.response_serializers`` stay the documented schema."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.files.storage import default_storage

from catalog.selectors import PaintingSummaryRow
from catalog.thumbnails import stored_thumbnail_url
from recsys.serving.explanations import Reason, reasons
from recsys.serving.results import RecommendationResult

Absolute = Callable[[str | None], str | None]


def _thumbnail(row: PaintingSummaryRow) -> str | None:
    """The thumbnail URL, relative, as ``PaintingSummarySerializer`` finds it (no model instance:
    building one per painting cost more than the rest of the answer)."""
    if not row.has_image:
        return None
    return stored_thumbnail_url(external_id=row.external_id, image=row.image, image_sha256=row.image_sha256)


def _image(row: PaintingSummaryRow) -> str | None:
    """The image URL, relative, as ``Painting.image.url`` (the field's storage is the default)."""
    return default_storage.url(row.image) if row.has_image else None


def painting_summary_data(row: PaintingSummaryRow, absolute: Absolute) -> dict[str, Any]:
    """``PaintingSummarySerializer(painting).data`` of the painting ``row`` describes."""
    return {
        "id": row.external_id,
        "title": row.title,
        "artist": None if row.artist_id is None else {"id": row.artist_id, "name": row.artist_name},
        "date": row.date_text,
        "year_start": row.year_start,
        "year_end": row.year_end,
        "story_group": (
            None
            if row.story_group_slug is None
            else {"slug": row.story_group_slug, "name": row.story_group_name}
        ),
        "image_url": absolute(_image(row)),
        "thumbnail_url": absolute(_thumbnail(row)),
    }


def recommendations_data(
    result: RecommendationResult,
    *,
    paintings: Mapping[int, PaintingSummaryRow],
    exposure: Any,
    absolute: Absolute,
    n: int,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """``RecommendationsSerializer`` data of ``result``, its paintings (recommended, rated and
    ignored) hydrated in ``paintings``; ``n`` the list length asked for and ``overrides`` the
    request fields an experiment changed (``{"n": {"requested": 9, "applied": 12}}``). A
    recommended painting missing there (deleted from the catalogue after the artefact was built)
    is left out; an explaining one keeps its id."""
    thumbnails: dict[int, str | None] = {}

    def contribution(c: Any) -> dict[str, Any]:
        row = paintings.get(c.painting_id)
        if row is not None and c.painting_id not in thumbnails:
            thumbnail = _thumbnail(row)
            thumbnails[c.painting_id] = absolute(thumbnail) if thumbnail else None
        return {
            "painting": row.external_id if row is not None else str(c.external_id),
            "title": row.title if row is not None else "",
            "thumbnail_url": thumbnails[c.painting_id] if row is not None else None,
            "rating": int(c.rating),
            "weight": float(c.weight),
            "similarity": float(c.similarity),
            "contribution": float(c.contribution),
            "engine": str(c.engine),
        }

    def reason(r: Reason) -> dict[str, Any]:
        row = paintings.get(r.painting_id)
        return {
            "painting": row.external_id if row is not None else r.external_id,
            "title": row.title if row is not None else "",
            "rating": r.rating,
            "effect": r.effect,
        }

    return {
        "recommender": str(result.recommender),
        "engine": str(result.recommender),
        "kind": result.kind,
        "mode": None if result.mode is None else str(result.mode),
        "mmr_lambda": None if result.mmr_lambda is None else float(result.mmr_lambda),
        "weighting": str(result.weighting),
        "applied_weighting": {str(e): str(w) for e, w in result.applied_weighting.items()},
        "versions": {str(e): str(v) for e, v in result.versions.items()},
        "n": int(n),
        "experiment_overrides": {str(field): dict(change) for field, change in (overrides or {}).items()},
        "ignored_ratings": {
            paintings[pk].external_id: str(reason)
            for pk, reason in result.ignored_ratings.items()
            if pk in paintings
        },
        "results": [
            {
                "rank": int(item.rank),
                "score": float(item.score),
                "painting": painting_summary_data(paintings[item.painting_id], absolute),
                "reasons": [reason(r) for r in reasons(item.contributions)],
                "explanation": {
                    "contributions": [contribution(c) for c in item.contributions],
                    "engine_ranks": {
                        str(e): None if r is None else int(r) for e, r in item.engine_ranks.items()
                    },
                },
            }
            for item in result.items
            if item.painting_id in paintings
        ],
        "exposure": None
        if exposure is None
        else {"id": exposure.public_id, "experiment": exposure.experiment_id, "arm": exposure.arm.name},
    }
