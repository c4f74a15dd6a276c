"""OpenAPI examples of the API's answers and bodies, on the sample catalogue's paintings
(``EXAMPLE_PAINTING_ID``), so the docs show what a museum app gets before it calls. Documentation
only: the answers themselves are built by the views."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

from config.api.openapi import EXAMPLE_OTHER_PAINTING_ID, EXAMPLE_PAINTING_ID

PAINTING = {
    "id": EXAMPLE_PAINTING_ID,
    "title": "Annunciation to the Shepherds",
    "artist": {"id": 17, "name": "After Jacobo Bassano"},
    "date": "c. 1710",
    "year_start": 1710,
    "year_end": 1710,
    "story_group": {"slug": "eighteenth-century", "name": "Eighteenth century"},
    "image_url": f"https://museum.example/media/paintings/{EXAMPLE_PAINTING_ID}.jpg",
    "thumbnail_url": f"https://museum.example/media/thumbnails/{EXAMPLE_PAINTING_ID}-320.jpg",
}
OTHER = PAINTING | {"id": EXAMPLE_OTHER_PAINTING_ID, "title": "La Fête du Mai", "date": "Date unknown"}
RATING = {
    "painting": PAINTING,
    "value": 5,
    "created_at": "2026-12-01T10:00:00Z",
    "updated_at": "2026-12-01T10:00:00Z",
}
RECOMMENDER = {
    "name": "minilm",
    "kind": "single",
    "mode": None,
    "engines": {"minilm": 1.0},
    "status": "ready",
    "reason": "",
    "progress": 1.0,
    "versions": {"minilm": "minilm-20261201T100000-1a2b3c4d"},
    "coverage": 1.0,
    "is_default": True,
}
RECOMMENDATIONS = {
    "recommender": "minilm",
    "engine": "minilm",
    "kind": "single",
    "mode": None,
    "mmr_lambda": None,
    "weighting": "centered",
    "applied_weighting": {"minilm": "centered"},
    "versions": {"minilm": "minilm-20261201T100000-1a2b3c4d"},
    "n": 9,
    "experiment_overrides": {},
    "ignored_ratings": {},
    "results": [
        {
            "rank": 1,
            "score": 0.412,
            "painting": OTHER,
            "explanation": {
                "contributions": [
                    {
                        "painting": EXAMPLE_PAINTING_ID,
                        "title": PAINTING["title"],
                        "thumbnail_url": PAINTING["thumbnail_url"],
                        "rating": 5,
                        "weight": 1.0,
                        "similarity": 0.824,
                        "contribution": 0.412,
                        "engine": "minilm",
                    }
                ],
                "engine_ranks": {},
            },
        }
    ],
    "exposure": None,
}


def answer(name: str, value: object, status_code: str | None = None) -> list[OpenApiExample]:
    """One example of a successful answer (``status_code``: other than 200 or 201, e.g. "202")."""
    codes = {} if status_code is None else {"status_codes": [status_code]}
    return [OpenApiExample(name, value=value, response_only=True, **codes)]


def body(name: str, value: object) -> list[OpenApiExample]:
    """One example of a request body."""
    return [OpenApiExample(name, value=value, request_only=True)]


PAINTING_LIST = answer(
    "A page of paintings",
    {
        "count": 11577,
        "next": "https://museum.example/api/v1/paintings/?page=2",
        "previous": None,
        "results": [PAINTING],
    },
)
PAINTING_DETAIL = answer(
    "One painting",
    PAINTING
    | {
        "medium": "Oil on canvas",
        "dimensions": "",
        "description": "",
        "subjects": [],
        "image_status": "ok",
        "image_width": 240,
        "image_height": 300,
        "source_image_url": "",
        "source": "Art Institute of Chicago",
        "source_url": "https://www.artic.edu/artworks/109220",
        "licence": "CC0",
        "updated_at": "2026-12-01T10:00:00Z",
    },
)
SIMILAR = answer(
    "The most similar painting under MiniLM",
    {
        "painting": EXAMPLE_PAINTING_ID,
        "engine": "minilm",
        "results": [{"rank": 1, "similarity": 0.824, "painting": OTHER}],
    },
)
ELICITATION = answer("A set of one painting", {"seed": 1234, "results": [PAINTING]})
SEARCH = answer(
    "The closest painting to a few words",
    {
        "engine": "minilm",
        "version": "minilm-20261201T100000-1a2b3c4d",
        "query": "text",
        "collection": None,
        "results": [{"rank": 1, "score": 0.61, "painting": PAINTING}],
    },
)
SEARCH_IMAGE = answer(
    "The closest painting to a photo",
    {
        "engine": "clip",
        "version": "clip-20261201T100000-5e6f7a8b",
        "query": "image",
        "collection": None,
        "results": [{"rank": 1, "score": 0.33, "painting": PAINTING}],
    },
)
RECOMMENDERS = answer("One ready recommender", [RECOMMENDER])
RECOMMENDER_ONE = answer("A ready recommender", RECOMMENDER)
RECOMMENDATIONS_ANSWER = answer("Nine paintings, the first one shown", RECOMMENDATIONS)
TOKEN_CREATE = body("Username and password", {"username": "ada", "password": "a-long-passphrase"}) + answer(
    "The new token (shown once)",
    {"token": "Xq3vB9aT...", "prefix": "Xq3vB9aT", "expires_at": "2026-12-31T10:00:00Z"},
)
MY_RATINGS = answer(
    "A page of my ratings",
    {"count": 1, "next": None, "previous": None, "results": [RATING]},
)
RATE = body("Five stars", {"painting": EXAMPLE_PAINTING_ID, "value": 5}) + answer("The stored rating", RATING)
RATE_MANY = body("Two ratings", {"ratings": {EXAMPLE_PAINTING_ID: 5, EXAMPLE_OTHER_PAINTING_ID: 2}}) + answer(
    "Both stored", {"count": 2, "results": [RATING, RATING | {"painting": OTHER, "value": 2}]}
)

TUNED_VERSION = {
    "version": "20261201T100000-1a2b3c",
    "status": "ready",
    "is_active": True,
    "engines": {"minilm": "minilm-20261201T100000-1a2b3c4d"},
    "visitors": 64,
    "ratings": 812,
    "triplets": 5120,
    "trigger": "feedback",
    "created_at": "2026-12-01T10:00:00Z",
    "started_at": "2026-12-01T10:00:01Z",
    "finished_at": "2026-12-01T10:02:30Z",
    "activated_at": "2026-12-01T10:02:30Z",
    "error": "",
    "loss_curve": {"minilm": [0.69, 0.52, 0.41, 0.36]},
}
TUNED_STATUS = answer(
    "One active version, no training queued",
    {
        "active": TUNED_VERSION,
        "training": None,
        "versions": [TUNED_VERSION],
        "feedback": {
            "visitors": 71,
            "usable_visitors": 64,
            "ratings": 903,
            "sources": {"ratings": 52, "exposures": 19},
            "min_visitors": 50,
        },
        "retrain_due": None,
        "engines": ["minilm"],
    },
)
TUNED_TRAIN = answer(
    "The queued training",
    TUNED_VERSION
    | {
        "version": "20261205T090000-4d5e6f",
        "status": "pending",
        "is_active": False,
        "engines": {},
        "visitors": 0,
        "ratings": 0,
        "triplets": 0,
        "trigger": "api",
        "created_at": "2026-12-05T09:00:00Z",
        "started_at": None,
        "finished_at": None,
        "activated_at": None,
        "loss_curve": {},
    },
    status_code="202",
)
TUNED_ROLLBACK = answer("The version trained before, now active", TUNED_VERSION)

EXAMPLE_VISITOR = "e0c3b8d3e46a0373245c:PZXh8ytSB_zg2q7pNfQ0Oj647_6H6rqnfUXxuRLfgYM"
EXAMPLE_EXPOSURE = "3f2b8c1e-7a4d-4e6b-9c2a-5d8e1f0a7b3c"
ASSIGNMENT = answer(
    "An anonymous visitor joins a between-subjects experiment",
    {
        "visitor": EXAMPLE_VISITOR,
        "experiment": {"id": 3, "name": "text-vs-late", "design": "between", "n_recommendations": 9},
        "arm": {"id": 7, "name": "B", "recommender": "late-total"},
        "step": None,
        "steps": None,
        "questions": {
            "accuracy": "The recommendations match my personal preferences and interests",
            "diversity": "The recommended paintings are diverse",
            "novelty": "The recommender helped me discover paintings I did not know before",
            "serendipity": "I found surprisingly interesting paintings",
        },
    },
)
_ANSWERS = {"accuracy": 4, "diversity": 3, "novelty": 5, "serendipity": 2}
EXPERIMENT_FEEDBACK = body("Four answers", {"visitor": EXAMPLE_VISITOR} | _ANSWERS) + answer(
    "The stored answers", {"exposure": EXAMPLE_EXPOSURE} | _ANSWERS | {"created_at": "2026-12-01T10:05:00Z"}
)
EXPERIMENT_CLICK = body(
    "A painting opened", {"visitor": EXAMPLE_VISITOR, "painting": EXAMPLE_OTHER_PAINTING_ID}
) + answer(
    "The click, with the painting's rank in the list",
    {"exposure": EXAMPLE_EXPOSURE, "painting": EXAMPLE_OTHER_PAINTING_ID, "rank": 1},
)
