"""Input and output serializers of the account API (tokens, the signed-in user's ratings).

Rating values are checked strictly, by ``users.services.validate_rating_value``: ``4``, not
``"4"``, ``4.0`` or ``true``. A mistyped value is rejected rather than coerced, so an app's bug
surfaces at once instead of being stored as something else.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import Throttled

from catalog.selectors import EXTERNAL_ID_PATTERN
from catalog.serializers import PaintingIdField, PaintingSummarySerializer
from config.exceptions import InvalidCredentials
from users.models import RATING_MAX, RATING_MIN
from users.services import validate_rating_value

RATING_SCHEMA = {"type": "integer", "minimum": RATING_MIN, "maximum": RATING_MAX}


@extend_schema_field(RATING_SCHEMA)
class RatingValueField(serializers.Field):
    """A whole number 1..5; anything else raises ``InvalidRating`` (code ``invalid_rating``)."""

    def to_internal_value(self, data: Any) -> int:
        return validate_rating_value(data, field=self.field_name)

    def to_representation(self, value: int) -> int:
        return value


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": RATING_SCHEMA,
        "description": "Painting id -> rating 1..5, at most RECSYS_MAX_RATINGS entries.",
        "example": {"aic-109220": 5, "aic-93784": 2},
    }
)
class RatingsMapField(serializers.Field):
    """``{"<painting id>": 1..5, ...}``, checked entry by entry, errors naming ``<field>.<id>``.

    Whether each id is in the catalogue is checked by the service that uses the map (one query
    for all of them); here only its shape, size and the id syntax.
    """

    default_error_messages = {
        "not_a_dict": "Expected an object mapping painting ids to ratings 1..5.",
        "empty": "Rate at least one painting.",
        "too_many": "At most {limit} ratings per request, got {count}.",
        "bad_id": "Not a valid painting id: {painting_id}.",
    }

    def to_internal_value(self, data: Any) -> dict[str, int]:
        if not isinstance(data, dict):
            self.fail("not_a_dict")
        if not data:
            self.fail("empty")
        if len(data) > settings.RECSYS_MAX_RATINGS:
            self.fail("too_many", limit=settings.RECSYS_MAX_RATINGS, count=len(data))
        ratings: dict[str, int] = {}
        for key, value in data.items():
            if not EXTERNAL_ID_PATTERN.fullmatch(key):
                self.fail("bad_id", painting_id=key[:100])
            ratings[key] = validate_rating_value(value, field=f"{self.field_name}.{key}")
        return ratings

    def to_representation(self, value: dict[str, int]) -> dict[str, int]:
        return value


# -- input ----------------------------------------------------------------------------------------
class TokenCredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})

    def validate(self, attrs: dict[str, str]) -> dict[str, Any]:
        user = authenticate(
            self.context.get("request"), username=attrs["username"], password=attrs["password"]
        )
        if user is None:  # wrong credentials or an inactive account: the same answer for both
            retry_after = getattr(self.context.get("request"), "login_retry_after", None)
            if retry_after is not None:  # locked out (users.lockout): no password was checked
                raise Throttled(retry_after, detail="Too many failed sign-ins for this account or address.")
            raise InvalidCredentials("Unable to sign in with these credentials.")
        return {"user": user}


class RatingUpsertSerializer(serializers.Serializer):
    painting = PaintingIdField()
    value = RatingValueField(help_text="1 (dislike) to 5 (like).")


class RatingsBulkUpsertSerializer(serializers.Serializer):
    ratings = RatingsMapField()


# -- output ---------------------------------------------------------------------------------------
class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as 'Authorization: Token <token>'. Shown only once.")
    prefix = serializers.CharField(help_text="The token's first characters, to tell tokens apart.")
    expires_at = serializers.DateTimeField(allow_null=True, help_text="null: the token never expires.")


class ApiTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="DELETE /api/v1/auth/tokens/{id}/ revokes it.")
    prefix = serializers.CharField(help_text="The token's first characters, to tell tokens apart.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True, help_text="null: the token never expires.")
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was revoked (by its owner, staff or a password change)."
    )
    current = serializers.BooleanField(help_text="Whether this request is authenticated with it.")


class RatingSerializer(serializers.Serializer):
    painting = PaintingSummarySerializer()
    value = serializers.IntegerField(min_value=RATING_MIN, max_value=RATING_MAX)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RatingsBulkSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many ratings were stored (created or replaced).")
    results = RatingSerializer(many=True)
