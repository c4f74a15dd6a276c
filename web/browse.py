"""Browse and search pages: the catalogue filtered and paginated, and search by words or picture.

Thin like ``web.views``: forms parse input, ``web.selectors`` reads (the catalogue page, the
search results as cards); no view queries the database itself. Expected errors (an engine not
ready, a file that is not a picture) are shown on the page with status 400 or 503, never a
server error. Text search is a GET (bookmarkable); image search is a multipart POST with CSRF
that answers with the results directly: it writes nothing, and a picture cannot be redirected.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from config.exceptions import ApplicationError, EngineUnavailable, ModelNotAvailable, PayloadTooLarge
from config.ratelimit import rate_limited
from web.browse_forms import BrowseForm, ImageSearchForm, SearchForm
from web.selectors import (
    BrowseChoices,
    browse_choices,
    browse_page,
    image_search_page,
    search_engines_ready,
    text_search_page,
)

SEARCH_N = 24


def _plain(exc: ApplicationError) -> str:
    """What a visitor reads: the technical reasons (settings, models) stay in the API and admin."""
    if isinstance(exc, EngineUnavailable | ModelNotAvailable):
        return "This search is not available yet: the paintings are still being prepared for it."
    if isinstance(exc, PayloadTooLarge):
        return "The picture is too large; try a smaller one."
    return exc.message


def _search_context(request: HttpRequest, choices: BrowseChoices, **forms: Any) -> dict[str, Any]:
    """What every page with the search boxes needs: the forms and which searches work now."""
    ready = search_engines_ready()
    return {
        "choices": choices,
        "search_form": forms.get("search_form") or SearchForm(choices=choices),
        "image_form": forms.get("image_form") or ImageSearchForm(choices=choices),
        "text_ready": ready["text"],
        "image_ready": ready["image"],
    }


@require_GET
def browse(request: HttpRequest) -> HttpResponse:
    """``/paintings/``: the catalogue by collection, story group, century and artist, paginated."""
    choices = browse_choices()
    form = BrowseForm(request.GET, choices=choices)
    context = {"form": form, "result": None, "error": None, **_search_context(request, choices)}
    if not form.is_valid():
        return render(request, "web/browse.html", context, status=400)
    try:
        context["result"] = browse_page(filters=form.filters(), page=request.GET.get("page"))
    except ApplicationError as exc:
        context["error"] = exc.message
        return render(request, "web/browse.html", context, status=400)
    return render(request, "web/browse.html", context)


def _render_search(
    request: HttpRequest, choices: BrowseChoices, *, search: Any, status: int = 200, **forms: Any
) -> HttpResponse:
    context = {**_search_context(request, choices, **forms), **search}
    return render(request, "web/search.html", context, status=status)


@require_GET
@rate_limited("web_search", methods=("GET",))  # per client address, settings.RATE_LIMITS
def search(request: HttpRequest) -> HttpResponse:
    """``/search/?q=``: paintings closest to the words (``recsys.serving.search.search_text``)."""
    choices = browse_choices()
    form = SearchForm(request.GET, choices=choices)
    if not form.is_valid():
        return _render_search(request, choices, search={"query": None}, status=400, search_form=form)
    query = form.cleaned_data["q"]
    try:
        page = text_search_page(q=query, n=SEARCH_N, collection=form.cleaned_data["collection"] or None)
    except ApplicationError as exc:
        found = {"query": query, "error": _plain(exc)}
        return _render_search(request, choices, search=found, status=exc.status_code, search_form=form)
    return _render_search(request, choices, search={"query": query, "page": page}, search_form=form)


@require_POST
@rate_limited("web_image_search")  # each upload is decoded and encoded by an image model
def image_search(request: HttpRequest) -> HttpResponse:
    """``/search/image/``: paintings closest to an uploaded picture (CLIP or ResNet)."""
    choices = browse_choices()
    form = ImageSearchForm(request.POST, request.FILES, choices=choices)
    if not form.is_valid():
        return _render_search(request, choices, search={"query": None}, status=400, image_form=form)
    try:
        page = image_search_page(
            upload=form.cleaned_data["image"], n=SEARCH_N, collection=form.cleaned_data["collection"] or None
        )
    except ApplicationError as exc:
        found = {"picture": True, "error": _plain(exc)}
        return _render_search(request, choices, search=found, status=exc.status_code, image_form=form)
    return _render_search(request, choices, search={"picture": True, "page": page}, image_form=form)
