"""Where a view may send the browser after a form: the ``next`` it was given, if it is safe."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request: HttpRequest, default: str) -> str:
    """``next`` from the form or the query string when it points at this site (same host, and
    https when the request is), else ``default``: never an open redirect."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
