"""Forms of the web UI. Values are checked with ``users.services.validate_rating_value``, the same
rule the API applies, so a rating the API rejects is rejected here with the same message."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings

from catalog.models import Painting
from catalog.serializers import validate_result_count
from config.exceptions import InvalidRating
from users.models import RATING_MAX, RATING_MIN
from users.services import validate_rating_value
from web.selectors import SEED_LIMIT, SET_LIMIT

STAR_CHOICES = [(str(v), f"{v} star{'s' if v > 1 else ''}") for v in range(RATING_MIN, RATING_MAX + 1)]


class StarRadioSelect(forms.RadioSelect):
    """Radio buttons 1-5 (then "No rating" when clearing is allowed), drawn as stars by
    web/templates/web/_stars.html and web/static/web/site.css; they stay plain radios without CSS or JS."""

    def __init__(self, *, allow_clear: bool, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, choices=STAR_CHOICES + ([("", "No rating")] if allow_clear else []))


class RatingField(forms.Field):
    """A 1-5 rating; empty means "not rated" unless the field is required."""

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        try:
            number = int(str(value).strip())
        except ValueError:
            number = value
        try:
            return validate_rating_value(number)
        except InvalidRating as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc


def rating_field_name(painting: Painting) -> str:
    return f"rating-{painting.external_id}"


class ElicitationForm(forms.Form):
    """One optional star rating per painting of the elicitation set, plus the set's seed.

    The seed travels with the form so the ratings are applied to the set that was on screen,
    even if another tab asked for a different set meanwhile.
    """

    seed = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=SEED_LIMIT - 1)
    set = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=SET_LIMIT - 1, required=False)

    def __init__(
        self, *args: Any, paintings: Sequence[Painting], allow_empty: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.paintings = list(paintings)
        # a visitor whose ratings were saved as they gave them (site.js) may submit none here
        self.allow_empty = allow_empty
        for painting in self.paintings:
            self.fields[rating_field_name(painting)] = RatingField(
                required=False,
                label=f"Your rating of “{painting.title}”",
                widget=StarRadioSelect(allow_clear=True),
            )

    def rows(self) -> list[tuple[Painting, forms.BoundField]]:
        """(painting, its bound rating field), in the order of the set, for the template."""
        return [(painting, self[rating_field_name(painting)]) for painting in self.paintings]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors and not self.allow_empty and not self.ratings():
            raise forms.ValidationError("Rate at least one painting (1 to 5 stars) to get recommendations.")
        return cleaned

    def ratings(self) -> dict[str, int]:
        """``external_id -> value`` of the paintings given a rating (blank ones are skipped)."""
        return {
            painting.external_id: value
            for painting in self.paintings
            if (value := self.cleaned_data.get(rating_field_name(painting))) is not None
        }


class RatingForm(forms.Form):
    """The single rating control on a painting's page."""

    value = RatingField(required=True, widget=StarRadioSelect(allow_clear=False))

    def __init__(self, *args: Any, painting: Painting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value"].label = f"Your rating of “{painting.title}”"
        self.fields["value"].error_messages["required"] = "Choose from 1 to 5 stars."


class QuickRatingForm(forms.Form):
    """One rating saved as it is given (web/static/web/site.js): the painting's external id and
    1-5, or empty to remove the rating."""

    painting = forms.CharField(max_length=100)
    value = RatingField(required=False)


class RecommendationQueryForm(forms.Form):
    """``?engine=&n=`` of the recommendations page (both optional)."""

    engine = forms.CharField(required=False, max_length=50)
    # the API's rule (1..RECSYS_MAX_N), ``catalog.serializers.validate_result_count``
    n = forms.IntegerField(required=False, validators=[validate_result_count], label="How many")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the input's max= attribute only (no validator): the setting in force, tests override it
        self.fields["n"].max_value = settings.RECSYS_MAX_N


class SimilarQueryForm(forms.Form):
    """``?engine=`` of a painting's page."""

    engine = forms.CharField(required=False, max_length=50)
