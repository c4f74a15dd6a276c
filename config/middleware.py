"""Project middleware: JSON error bodies everywhere under /api/, the rate-limit headers of the API,
the Content-Security-Policy, and a database outage answered as 503."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config import db_outage
from config.exceptions import api_error_response, database_outage_response, is_api_path

logger = logging.getLogger("config.api")

_STATUS_CODES = {
    400: ("bad_request", "The request could not be understood."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "No API endpoint at this path."),
    405: ("method_not_allowed", "Method not allowed."),
    500: ("server_error", "An unexpected error occurred; it has been logged."),
}


class ApiJsonErrorsMiddleware:
    """Every response under /api/ is JSON.

    * An exception no view handled (outside DRF's handler) becomes a logged 500 with code
      ``server_error``.
    * An HTML error page produced before any view ran (a path no URL pattern matches, such as
      one containing a newline; Django's technical 404 in DEBUG; a CSRF failure) is replaced by
      the API error body with the same status. The docs page (/api/docs/) and the schema are
      untouched: they are not errors.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and is_api_path(request.path)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = _STATUS_CODES.get(
                response.status_code, ("error", f"The request failed ({response.status_code}).")
            )
            replacement = api_error_response(response.status_code, code, message)
            for header in ("Allow", "Retry-After", "WWW-Authenticate"):
                if header in response:
                    replacement[header] = response[header]
            return replacement
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request.path):
            return None
        logger.exception("unhandled error in %s %s", request.method, request.path, exc_info=exception)
        return api_error_response(500, *_STATUS_CODES[500])


class RateLimitHeadersMiddleware:
    """``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset`` (seconds) and
    ``RateLimit-Policy`` (``<limit>;w=<window s>``) on every response a throttle counted, after
    the IETF httpapi RateLimit header fields draft: the most binding of the request's limits (a
    museum app's key: its own rate). A 429 carries ``Retry-After`` too (DRF sets it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        state = getattr(request, "ratelimit_state", None)
        if state is not None:
            response["RateLimit-Limit"] = str(state.limit)
            response["RateLimit-Remaining"] = str(state.remaining)
            response["RateLimit-Reset"] = str(state.reset)
            response["RateLimit-Policy"] = f"{state.limit};w={state.window_s}"
            if response.status_code == 429 and "Retry-After" not in response:
                response["Retry-After"] = str(state.reset)
        return response


class ContentSecurityPolicyMiddleware:
    """Sets ``Content-Security-Policy`` (settings ``CSP``; ``CSP_DOCS`` for the Swagger UI page,
    whose start-up script is inline). A view that set its own header keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CSP and "Content-Security-Policy" not in response:
            docs = request.path.startswith("/api/docs/")
            response["Content-Security-Policy"] = settings.CSP_DOCS if docs else settings.CSP
        return response


class DatabaseOutageMiddleware:
    """Answers a database outage as ``config.exceptions.database_outage_response`` (placed inside
    ``ApiJsonErrorsMiddleware``, so that its ``process_exception`` runs first and no traceback is
    logged). The outage's state and logging are ``config.db_outage``'s."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        exc = getattr(request, db_outage.REQUEST_FLAG, None)
        if exc is not None and response.status_code >= 500 and response.status_code != 503:
            return database_outage_response(request, exc)
        if (
            exc is None
            and db_outage.in_outage()
            and response.status_code < 500
            and db_outage.used_a_connection()
        ):
            db_outage.outage_over()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not db_outage.is_database_outage(exception):
            return None
        setattr(request, db_outage.REQUEST_FLAG, exception)
        return database_outage_response(request, exception)
