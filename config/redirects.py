"""Where a view may send the browser after a form: the ``next`` it was given, if it is safe."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request: HttpRequest, default: str) -> str:
    """``next`` from the form or the query string when it points at this site (same host, and
    https when the request is), else ``default``: never an open redirect.

    Only a path from the site's root (``/paintings/``) or an absolute URL of this site counts: a
    bare word (``x``) would be taken by ``django.shortcuts.redirect`` for a URL pattern's name
    (an error, not a page), and a relative path depends on where the form was posted.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not (target.startswith("/") or urlsplit(target).netloc):
        return default
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
