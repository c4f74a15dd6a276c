"""Forms of the browse and search pages. Choices come from ``web.selectors.browse_choices`` (read
once per request by the view), so an unknown collection, story group or century is a form error,
never a query."""

from __future__ import annotations

from typing import Any

from django import forms

from recsys.serving.search import MAX_QUERY_LENGTH
from web.selectors import BrowseChoices

ANY = ("", "Any")


def century_label(start: int) -> str:
    return f"{start}s"


def _collection_choices(choices: BrowseChoices) -> list[tuple[str, str]]:
    return [ANY, *((c.slug, f"{c.name} ({c.count})") for c in choices.collections)]


class BrowseForm(forms.Form):
    """``?collection=&story_group=&century=&artist=&with_image=`` of the browse page (all optional)."""

    collection = forms.ChoiceField(required=False)
    story_group = forms.ChoiceField(required=False, label="Story group")
    century = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    artist = forms.CharField(required=False, max_length=300, help_text="Exact name, any case.")
    with_image = forms.BooleanField(required=False, label="Only with an image")

    def __init__(self, *args: Any, choices: BrowseChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["collection"].choices = _collection_choices(choices)
        self.fields["story_group"].choices = [ANY, *((g.slug, g.name) for g in choices.story_groups)]
        self.fields["century"].choices = [
            ANY,
            *((str(start), century_label(start)) for start, _ in choices.centuries),
        ]

    def filters(self) -> dict[str, Any]:
        """Keyword arguments of ``catalog.selectors.painting_list`` for the valid form."""
        data = self.cleaned_data
        century = data.get("century")
        return {
            "collection": data.get("collection") or None,
            "story_group": data.get("story_group") or None,
            "artist": data.get("artist", "").strip() or None,
            "year_from": century,
            "year_to": None if century is None else century + 99,
            "has_image": True if data.get("with_image") else None,
        }


class SearchForm(forms.Form):
    """``?q=&collection=`` of the text search."""

    q = forms.CharField(
        max_length=MAX_QUERY_LENGTH, label="Search", help_text="Describe what you are looking for."
    )
    collection = forms.ChoiceField(required=False)

    def __init__(self, *args: Any, choices: BrowseChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["collection"].choices = _collection_choices(choices)

    def clean_q(self) -> str:
        value = self.cleaned_data["q"].strip()
        if not value:
            raise forms.ValidationError("Type a few words to search for.")
        return value


class ImageSearchForm(forms.Form):
    """The picture (multipart POST) of the image search; the service checks its content."""

    image = forms.FileField(label="Picture", help_text="JPEG, PNG, WebP or GIF.")
    collection = forms.ChoiceField(required=False)

    def __init__(self, *args: Any, choices: BrowseChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["collection"].choices = _collection_choices(choices)
