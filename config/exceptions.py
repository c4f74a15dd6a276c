"""One exception hierarchy for the domain, with stable error codes, and the one DRF handler that
turns it (and DRF's own errors) into the project's error body:

    {"error": {"code": "unknown_painting", "message": "...", "field": "ratings", "detail": {...}}}

Services and selectors raise these; views never build error responses by hand.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from config import db_outage

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """Base class of every expected, user-facing error."""

    code: str = "error"
    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, field: str | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        if self.detail is not None:
            body["detail"] = self.detail
        return body


class ValidationFailed(ApplicationError):
    code = "invalid"


class InvalidRating(ValidationFailed):
    code = "invalid_rating"


class NotFound(ApplicationError):
    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND


class UnknownPainting(NotFound):
    """A painting id that is not in the catalogue (404 on a path, 400 inside a request body)."""

    code = "unknown_painting"

    @classmethod
    def for_ids(cls, missing: list[str], *, field: str) -> UnknownPainting:
        """The error for every id of ``missing`` (sorted; the message names the first ten)."""
        plural = "s" if len(missing) > 1 else ""
        message = f"Unknown painting id{plural}: {', '.join(missing[:10])}."
        return cls(message, field=field, detail={"unknown_ids": missing})


class InvalidCredentials(ApplicationError):
    code = "invalid_credentials"


class UnknownEngine(ApplicationError):
    code = "unknown_engine"


class EngineUnavailable(ApplicationError):
    """The engine exists but has no ready artefact (still computing, failed, or model missing)."""

    code = "engine_unavailable"
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


class ModelNotAvailable(ApplicationError):
    """Model weights could not be loaded; the message names the setting to change."""

    code = "model_unavailable"
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


class EmptyCatalogue(ApplicationError):
    """Nothing to compute: the catalogue has no paintings yet."""

    code = "empty_catalogue"
    status_code = status.HTTP_409_CONFLICT
    #: the state as a refused build and an engine's status word it
    reason = (
        "the catalogue has no paintings yet: import some (`manage.py import_catalog --sample`) or "
        "add them in the admin; the engines are computed when they arrive"
    )


class RunInProgress(ApplicationError):
    """A build of the engine's artefact is already pending or running."""

    code = "run_in_progress"
    status_code = status.HTTP_409_CONFLICT


class NotEnoughFeedback(ApplicationError):
    """Too few visitors' ratings to train the tuned spaces (``RECSYS_TUNED_MIN_VISITORS``)."""

    code = "not_enough_feedback"
    status_code = status.HTTP_409_CONFLICT


class NoPreviousVersion(ApplicationError):
    """A roll-back with no earlier ready version to go back to."""

    code = "no_previous_version"
    status_code = status.HTTP_409_CONFLICT


class PayloadTooLarge(ApplicationError):
    code = "payload_too_large"
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


class ImportFailed(ApplicationError):
    code = "import_failed"


class ImportAlreadyRunning(ImportFailed):
    """Another catalogue import holds the import lock (``catalog.importing.lock``)."""

    code = "import_already_running"
    status_code = status.HTTP_409_CONFLICT


@contextmanager
def unknown_ids_answer(status_code: int, *, field: str | None = None) -> Iterator[None]:
    """Make the "unknown id" errors (``NotFound``, ``UnknownEngine``) raised inside answer
    ``status_code`` and, when given, name ``field``.

    The same lookup is a missing resource when the id is part of the URL path (404) and a bad
    request when it is inside a request body or query string (400); the service that raises the
    error cannot know which, nor what the request called the field. The view that calls it does.
    """
    try:
        yield
    except (NotFound, UnknownEngine) as exc:
        exc.status_code = status_code
        if field is not None:
            exc.field = field
        raise


def _body(code: str, message: str, *, field: str | None = None, detail: Any = None) -> dict:
    return ApplicationError(message, field=field, detail=detail).as_dict() | {"code": code}


def _first_field(detail: Any) -> tuple[str | None, str]:
    """Return (field, message) of the first error in a DRF ValidationError detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            sub_field, message = _first_field(value)
            field = key if key != "non_field_errors" else None
            if sub_field and field:
                field = f"{field}.{sub_field}"
            return field or sub_field, message
    if isinstance(detail, list) and detail:
        return _first_field(detail[0])
    return None, str(detail)


def _app_key_without_account(context: dict) -> bool:
    """Whether the request was authenticated by a museum app's key (no account behind it)."""
    from clients.authentication import request_api_key

    request = context.get("request")
    return request is not None and request_api_key(request) is not None


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF EXCEPTION_HANDLER: every error leaves the API as ``{"error": {...}}``."""
    if db_outage.is_database_outage(exc):  # 503 + Retry-After, logged once per outage
        db_outage.outage_started(exc)
        set_rollback()
        response = Response({"error": _body(db_outage.CODE, db_outage.MESSAGE)}, status=503)
        response["Retry-After"] = str(db_outage.retry_after())
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response
    if isinstance(exc, ApplicationError):
        return Response({"error": exc.as_dict()}, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        body = _body("payload_too_large", "The request body is larger than the server accepts.")
        return Response({"error": body}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:  # not an API error: a bug. Logged with its traceback, answered as JSON.
        view = context.get("view")
        logger.error("unhandled error in %s", type(view).__name__, exc_info=exc)
        set_rollback()
        body = _body("server_error", "An unexpected error occurred; it has been logged.")
        return Response({"error": body}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    if isinstance(exc, drf_exceptions.ValidationError):
        field, message = _first_field(exc.detail)
        body = _body("invalid", message, field=field, detail=exc.detail)
    elif isinstance(exc, (drf_exceptions.NotAuthenticated, drf_exceptions.AuthenticationFailed)):
        from config.api.authentication import ACCEPTED_CREDENTIALS

        failed = isinstance(exc, drf_exceptions.AuthenticationFailed)
        code = exc.default_code if failed else "not_authenticated"
        body = _body(code, str(exc.detail), detail={"accepted": ACCEPTED_CREDENTIALS})
    elif isinstance(exc, drf_exceptions.PermissionDenied) and _app_key_without_account(context):
        body = _body(
            "account_required",
            "This endpoint works on an account's data; a museum app's key identifies the app, not an "
            "account. Send the account's token instead: 'Authorization: Token <token>'.",
        )
    elif isinstance(exc, drf_exceptions.ParseError):
        body = _body("malformed_request", str(exc.detail))
    elif isinstance(exc, drf_exceptions.APIException):
        body = _body(exc.default_code if isinstance(exc.default_code, str) else "error", str(exc.detail))
    else:  # pragma: no cover - drf only returns responses for APIException subclasses
        body = _body("error", str(exc))
    response.data = {"error": body}
    return response


# -- outside DRF: Django's error views and middleware ---------------------------------------------
def is_api_path(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith(("/api/docs/", "/api/schema/"))


def api_error_response(status_code: int, code: str, message: str) -> JsonResponse:
    """The API error body as a plain Django response (for code that runs outside DRF)."""
    return JsonResponse({"error": _body(code, message)}, status=status_code)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``config.urls.handler404``: the API error body under /api/, Django's page elsewhere."""
    if is_api_path(request.path):
        return api_error_response(404, "not_found", "No API endpoint at this path.")
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    """``config.urls.handler500``: the API error body under /api/, Django's page elsewhere; a
    database outage (raised by a middleware, e.g. reading the session) is its 503 instead."""
    exc = sys.exc_info()[1]
    if db_outage.is_database_outage(exc):
        return database_outage_response(request, exc)
    if is_api_path(request.path):
        return api_error_response(500, "server_error", "An unexpected error occurred; it has been logged.")
    return defaults.server_error(request)


def database_outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """503 with ``Retry-After``: the API's JSON error body under /api/, a plain page elsewhere.
    Rendered without templates or context processors (they may read the database)."""
    db_outage.outage_started(exc)
    if is_api_path(request.path):
        response: HttpResponse = api_error_response(503, db_outage.CODE, db_outage.MESSAGE)
    else:
        page = (
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Back in a moment</title></head>"
            "<body><h1>Back in a moment</h1><p>The site cannot reach its database just now. Nothing "
            "you sent was lost or half-saved; please try again in a few seconds.</p></body></html>"
        )
        response = HttpResponse(page, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(db_outage.retry_after())
    response._has_been_logged = True  # type: ignore[attr-defined]  # logged once, above
    return response
