"""Errors of the experiments app, in the project's one hierarchy (``config.exceptions``)."""

from __future__ import annotations

from rest_framework import status

from config.exceptions import ApplicationError, NotFound

#: what a visitor reads about a list that does not exist or is not theirs (the same words and
#: status for both, so that the answer tells nothing about other visitors' lists)
NO_SUCH_LIST = "No such list for this visitor."


class UnknownExposure(NotFound):
    code = "unknown_exposure"


class NotYourExposure(UnknownExposure):
    """The exposure was shown to another visitor: answered exactly as an unknown one (404)."""


class FeedbackExists(ApplicationError):
    code = "feedback_exists"
    status_code = status.HTTP_409_CONFLICT


class ExperimentNotRunning(ApplicationError):
    code = "experiment_not_running"
    status_code = status.HTTP_409_CONFLICT
