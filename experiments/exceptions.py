"""Errors of the experiments app, in the project's one hierarchy (``config.exceptions``)."""

from __future__ import annotations

from rest_framework import status

from config.exceptions import ApplicationError, NotFound


class NotYourExposure(ApplicationError):
    """The exposure was shown to another visitor."""

    code = "not_your_exposure"
    status_code = status.HTTP_403_FORBIDDEN


class UnknownExposure(NotFound):
    code = "unknown_exposure"


class FeedbackExists(ApplicationError):
    code = "feedback_exists"
    status_code = status.HTTP_409_CONFLICT


class ExperimentNotRunning(ApplicationError):
    code = "experiment_not_running"
    status_code = status.HTTP_409_CONFLICT
