"""Server-rendered pages: rate a set of paintings, see recommendations, browse a painting.

Views stay thin: forms parse input, ``recsys.web.services`` writes the visitor's ratings,
``recsys.recommend`` scores, ``recsys.web.selectors`` prepares what templates show. Expected
errors (``config.exceptions.ApplicationError``: engine not computed yet, unknown painting, ...)
are shown as a message on the page, never as a server error. Every form is POST + CSRF and
answers with a redirect (POST-redirect-GET); a form with errors is shown again with status 400.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.models import Painting
from catalog.selectors import elicitation_set, painting_get, paintings_by_pk
from catalog.thumbnails import thumbnail_url
from config.exceptions import ApplicationError, UnknownPainting
from config.ratelimit import rate_limited
from recsys.recommend import recommend
from recsys.selectors import recommender_statuses
from recsys.similar import similar_paintings
from recsys.web.forms import (
    SEED_LIMIT,
    ElicitationForm,
    RatingForm,
    RecommendationQueryForm,
    SignupForm,
    SimilarQueryForm,
    rating_field_name,
)
from recsys.web.selectors import (
    default_engine,
    default_recommender,
    engine_choices,
    recommendation_page,
)
from recsys.web.services import (
    SESSION_SEED_KEY,
    visitor_rating_delete,
    visitor_rating_map,
    visitor_rating_of,
    visitor_ratings,
    visitor_ratings_save,
)

DEFAULT_N = 9
SIMILAR_N = 6


def _new_seed() -> int:
    return secrets.randbelow(SEED_LIMIT)


def _session_seed(request: HttpRequest) -> int:
    """The seed of the set on screen: kept in the session so the set is stable while rating."""
    seed = request.session.get(SESSION_SEED_KEY)
    if not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT:
        seed = _new_seed()
        request.session[SESSION_SEED_KEY] = seed
    return seed


def _posted_seed(request: HttpRequest) -> int:
    """The seed the submitted form was rendered with (the form validates it again)."""
    try:
        seed = int(request.POST.get("seed", ""))
    except ValueError:
        return _session_seed(request)
    return seed if 0 <= seed < SEED_LIMIT else _session_seed(request)


def _saved_message(request: HttpRequest, count: int) -> None:
    noun = f"{count} rating{'s' if count != 1 else ''}"
    if request.user.is_authenticated:
        messages.success(request, f"Saved {noun} to your account.")
    else:
        messages.success(
            request,
            f"Kept {noun} in this browser session only. Sign in or create an account to store them.",
        )


@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """The elicitation step: one painting per story group, each rated 1-5 (all optional)."""
    seed = _posted_seed(request) if request.method == "POST" else _session_seed(request)
    paintings = list(elicitation_set(seed=seed))
    if request.method == "POST":
        form = ElicitationForm(request.POST, paintings=paintings)
        if form.is_valid():
            ratings = form.ratings()
            try:
                visitor_ratings_save(request=request, ratings=ratings)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                _saved_message(request, len(ratings))
                return redirect("web:recommendations")
        status = 400
    else:
        current = visitor_ratings(request=request, only=[p.external_id for p in paintings])
        initial: dict[str, Any] = {"seed": seed}
        initial |= {
            rating_field_name(p): str(current[p.external_id]) for p in paintings if p.external_id in current
        }
        form = ElicitationForm(initial=initial, paintings=paintings)
        status = 200
    rows = [(painting, field, thumbnail_url(painting)) for painting, field in form.rows()]
    return render(request, "web/home.html", {"form": form, "rows": rows}, status=status)


@require_POST
def another_set(request: HttpRequest) -> HttpResponse:
    """Draw a different elicitation set (a new seed in the session)."""
    request.session[SESSION_SEED_KEY] = _new_seed()
    return redirect("web:home")


@require_GET
def recommendations(request: HttpRequest) -> HttpResponse:
    """The visitor's ratings -> ``recommend()`` with the chosen recommender (``?engine=&n=``)."""
    query = RecommendationQueryForm(request.GET)
    statuses = recommender_statuses()
    context: dict[str, Any] = {
        "query": query,
        "statuses": statuses,
        "engine": None,
        "n": DEFAULT_N,
        "page": None,
        "result": None,
        "error": None,
        "rating_count": 0,
    }
    if not query.is_valid():
        return render(request, "web/recommendations.html", context, status=400)

    engine = query.cleaned_data["engine"] or default_recommender(statuses)
    context["engine"] = engine
    context["n"] = n = query.cleaned_data["n"] or DEFAULT_N
    ratings = visitor_rating_map(request=request)
    context["rating_count"] = len(ratings)
    if not ratings or engine is None:
        return render(request, "web/recommendations.html", context)
    try:
        result = recommend(ratings=ratings, recommender=engine, n=n)
    except ApplicationError as exc:
        context["error"] = exc.message
        return render(request, "web/recommendations.html", context)
    context["result"] = result
    context["page"] = recommendation_page(result)
    return render(request, "web/recommendations.html", context)


def _painting_or_404(external_id: str) -> Painting:
    try:
        return painting_get(external_id=external_id)
    except UnknownPainting as exc:
        raise Http404(exc.message) from exc


def _render_painting(
    request: HttpRequest, painting: Painting, *, form: RatingForm | None = None, status: int = 200
) -> HttpResponse:
    rating = visitor_rating_of(request=request, painting=painting)
    if form is None:
        form = RatingForm(painting=painting, initial={"value": str(rating)} if rating else None)
    query = SimilarQueryForm(request.GET)
    statuses = recommender_statuses()
    engines = engine_choices(statuses)
    engine = (query.cleaned_data["engine"] if query.is_valid() else "") or default_engine(statuses, engines)
    similar, similar_error = [], None
    if engine is None:
        similar_error = "No engine has been computed yet; run `manage.py precompute`."
    else:
        try:
            found = similar_paintings(painting_id=painting.pk, engine=engine, n=SIMILAR_N)
        except ApplicationError as exc:
            similar_error = exc.message
        else:
            by_pk = paintings_by_pk(pks=[s.painting_id for s in found])
            similar = [
                (by_pk[s.painting_id], s, thumbnail_url(by_pk[s.painting_id]))
                for s in found
                if s.painting_id in by_pk
            ]
    context = {
        "painting": painting,
        "rating": rating,
        "form": form,
        "engines": engines,
        "engine": engine,
        "similar": similar,
        "similar_error": similar_error,
    }
    return render(request, "web/painting_detail.html", context, status=status)


@require_GET
def painting_detail(request: HttpRequest, external_id: str) -> HttpResponse:
    return _render_painting(request, _painting_or_404(external_id))


@require_POST
def painting_rate(request: HttpRequest, external_id: str) -> HttpResponse:
    painting = _painting_or_404(external_id)
    form = RatingForm(request.POST, painting=painting)
    if form.is_valid():
        try:
            visitor_ratings_save(request=request, ratings={painting.external_id: form.cleaned_data["value"]})
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            _saved_message(request, 1)
            return redirect("web:painting", external_id=painting.external_id)
    return _render_painting(request, painting, form=form, status=400)


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@require_POST
def rating_remove(request: HttpRequest, external_id: str) -> HttpResponse:
    """Remove the visitor's rating of a painting, then go back where the button was."""
    try:
        visitor_rating_delete(request=request, external_id=external_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Rating removed.")
    return redirect(_next_url(request, reverse("web:my_ratings")))


@require_GET
def my_ratings(request: HttpRequest) -> HttpResponse:
    """Everything the visitor has rated, newest first, each with a remove button."""
    ratings = visitor_ratings(request=request)  # oldest first
    paintings = Painting.objects.select_related("artist").in_bulk(list(ratings), field_name="external_id")
    rows = [
        (paintings[external_id], value, thumbnail_url(paintings[external_id]))
        for external_id, value in reversed(ratings.items())
        if external_id in paintings
    ]
    return render(request, "web/my_ratings.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@rate_limited("signup")  # per client address, settings.RATE_LIMITS["signup"]
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and sign in; ratings made in this session move into the account."""
    if request.user.is_authenticated:
        return redirect("web:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        messages.success(request, f"Welcome, {user.get_username()}. Your account is ready.")
        return redirect(_next_url(request, reverse("web:home")))
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "next": _next_url(request, "")}
    return render(request, "registration/signup.html", context, status=status)
