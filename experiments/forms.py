"""The questionnaire as a web form: the paper's four questions on 5-point scales (the API takes
the same answers through ``experiments.serializers.FeedbackInputSerializer``)."""

from __future__ import annotations

from typing import Any

from django import forms

from experiments.models import QUESTION_TEXT, QUESTIONS

SCALE = [
    ("1", "1 — strongly disagree"),
    ("2", "2 — disagree"),
    ("3", "3 — neutral"),
    ("4", "4 — agree"),
    ("5", "5 — strongly agree"),
]


class FeedbackForm(forms.Form):
    """One required 1-5 radio scale per question."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in QUESTIONS:
            self.fields[question] = forms.TypedChoiceField(
                label=QUESTION_TEXT[question],
                choices=SCALE,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Choose from 1 to 5."},
            )

    def answers(self) -> dict[str, int]:
        return {question: self.cleaned_data[question] for question in QUESTIONS}
