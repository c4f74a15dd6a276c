"""Server-rendered pages: rate a set of paintings, see recommendations, browse a painting.

Views stay thin: forms parse input, ``web.services`` writes the visitor's ratings (given the user
and the session, never the request), ``web.selectors`` reads them and is the one door to the
recommender; no view queries the database itself. Expected errors
(``config.exceptions.ApplicationError``: engine not computed yet, unknown painting, ...) are shown
as a message on the page, never as a server error. Every form is POST + CSRF and answers with a
redirect (POST-redirect-GET); a form with errors is shown again with status 400.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.models import Painting
from catalog.selectors import painting_get, paintings_by_pk
from catalog.thumbnails import thumbnail_url
from config.exceptions import ApplicationError, EngineUnavailable, UnknownPainting, ValidationFailed
from config.ratelimit import rate_limited
from config.redirects import safe_next_url
from experiments.exceptions import NotYourExposure
from experiments.forms import FeedbackForm
from experiments.hooks import (
    click_from_web,
    feedback_from_web,
    questionnaire_of,
    recommend_for_web_visitor,
    visitor_exposure,
)
from web.building import active_and_building, better_on_the_way, build_notes
from web.forms import (
    ElicitationForm,
    QuickRatingForm,
    RatingForm,
    RecommendationQueryForm,
    SimilarQueryForm,
    rating_field_name,
)
from web.selectors import (
    SEED_LIMIT,
    SET_LIMIT,
    default_engine,
    default_recommender,
    engine_choices,
    plain_label,
    rated_rows,
    ready_recommender_names,
    recommendation_page,
    recommender_statuses,
    similar_rows,
    visitor_engines,
    visitor_rating_map,
    visitor_rating_of,
    visitor_ratings,
    visitor_recommenders,
)
from web.services import (
    elicitation_paintings_shown,
    elicitation_seed,
    elicitation_set_next,
    elicitation_set_number,
    visitor_rating_delete,
    visitor_ratings_save,
)

DEFAULT_N = 9
SIMILAR_N = 6


def _posted_int(request: HttpRequest, name: str, limit: int) -> int | None:
    try:
        value = int(request.POST.get(name, ""))
    except ValueError:
        return None
    return value if 0 <= value < limit else None


def _shown_set(request: HttpRequest) -> tuple[int, int]:
    """(seed, set number) of the elicitation set: the session's, or on a POST the ones the
    submitted form was rendered with (the form validates them again)."""
    seed = elicitation_seed(session=request.session)
    number = elicitation_set_number(session=request.session)
    if request.method == "POST":
        posted_seed, posted_number = (
            _posted_int(request, "seed", SEED_LIMIT),
            _posted_int(request, "set", SET_LIMIT),
        )
        seed = seed if posted_seed is None else posted_seed
        number = 0 if posted_number is None else posted_number
    return seed, number


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
    """The elicitation step: the elicitation set, each painting rated 1-5 (all optional).

    With JavaScript every star saves at once (``rating_save``) and the submit button only moves
    on; without it the form posts every rating of the set at once.
    """
    seed, number = _shown_set(request)
    current = visitor_ratings(user=request.user, session=request.session)
    paintings = elicitation_paintings_shown(
        session=request.session, seed=seed, number=number, ratings=current
    )
    if request.method == "POST":
        form = ElicitationForm(request.POST, paintings=paintings, allow_empty=bool(current))
        if form.is_valid():
            ratings = form.ratings()
            try:
                if ratings:
                    visitor_ratings_save(user=request.user, session=request.session, ratings=ratings)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                if ratings:
                    _saved_message(request, len(ratings))
                return redirect("web:recommendations")
        status = 400
    else:
        initial: dict[str, Any] = {"seed": seed, "set": number}
        initial |= {
            rating_field_name(p): str(current[p.external_id]) for p in paintings if p.external_id in current
        }
        form = ElicitationForm(initial=initial, paintings=paintings)
        status = 200
    rows = [(painting, field, thumbnail_url(painting)) for painting, field in form.rows()]
    context = {
        "form": form,
        "rows": rows,
        "rated_count": sum(1 for p in paintings if p.external_id in current),
    }
    return render(request, "web/home.html", context, status=status)


@require_POST
def rating_save(request: HttpRequest) -> JsonResponse:
    """Save (or, with an empty value, remove) one rating as it is given: the JSON twin of the
    rating forms that web/static/web/site.js posts to (form-encoded, CSRF token as in any form).

    Answers ``{"painting": id, "value": 1-5 or null, "rated": how many the visitor has}``, or
    ``{"error": {"code", "message", "field"}}`` with the error's status (400 bad value, 404
    unknown painting).
    """
    form = QuickRatingForm(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        error = ValidationFailed(" ".join(errors), field=field)
        return JsonResponse({"error": error.as_dict()}, status=error.status_code)
    external_id, value = form.cleaned_data["painting"], form.cleaned_data["value"]
    try:
        if value is None:
            painting_get(external_id=external_id, field="painting")
            with contextlib.suppress(UnknownPainting):  # not rated: removing nothing is fine
                visitor_rating_delete(user=request.user, session=request.session, external_id=external_id)
        else:
            visitor_ratings_save(user=request.user, session=request.session, ratings={external_id: value})
    except ApplicationError as exc:
        return JsonResponse({"error": exc.as_dict()}, status=exc.status_code)
    rated = len(visitor_ratings(user=request.user, session=request.session))
    return JsonResponse({"painting": external_id, "value": value, "rated": rated})


@require_POST
def another_set(request: HttpRequest) -> HttpResponse:
    """Show the next elicitation set of the session's seed (new groups, new paintings)."""
    elicitation_set_next(session=request.session)
    return redirect("web:home")


def _visitor_message(exc: ApplicationError, *, label: str) -> str:
    """What a visitor reads when a recommendation cannot be made (the technical reason stays in
    the API's answer and the admin)."""
    if exc.field == "ratings":
        return (
            f"None of the paintings you rated can be used by {label} yet. "
            "Rate a few other paintings, or choose another recommender."
        )
    return "Recommendations could not be made just now. Please try again in a moment."


@require_GET
@rate_limited("web_recommendations", methods=("GET",))  # per client address, settings.RATE_LIMITS
def recommendations(request: HttpRequest) -> HttpResponse:
    """The visitor's ratings -> ``recommend()`` with the chosen recommender (``?engine=&n=``).

    Only ready recommenders are offered, by their plain names; while none is ready the page
    shows a "getting ready" state that reloads itself (web/static/web/site.js polls
    ``ready_status``) and uses the first recommender that becomes ready.
    """
    query = RecommendationQueryForm(request.GET)
    statuses = recommender_statuses()
    choices = visitor_recommenders(statuses)
    context: dict[str, Any] = {
        "query": query,
        "choices": choices,
        "engine": None,
        "label": "",
        "n": DEFAULT_N,
        "page": None,
        "result": None,
        "error": None,
        "notice": None,
        "waiting": not choices,
        "rating_count": 0,
        "building": build_notes(statuses),
        "better": None,
    }
    if not query.is_valid():
        return render(request, "web/recommendations.html", context, status=400)

    asked = query.cleaned_data["engine"]
    engine = asked if any(c.name == asked for c in choices) else default_recommender(statuses)
    if asked and engine != asked:
        context["notice"] = "The recommender you asked for is not available right now" + (
            f"; showing {plain_label(engine)} instead." if engine else "."
        )
    context["engine"] = engine
    context["label"] = plain_label(engine) if engine else ""
    if not asked:  # the default answers: say when a better one is being prepared
        context["better"] = better_on_the_way(statuses, engine)
    context["n"] = n = query.cleaned_data["n"] or DEFAULT_N
    ratings = visitor_rating_map(user=request.user, session=request.session)
    context["rating_count"] = len(ratings)
    if not ratings or engine is None:
        return render(request, "web/recommendations.html", context)
    try:
        # inside a running experiment the arm's recommender answers and the list is logged;
        # visitors are recommended only paintings they can see
        answer = recommend_for_web_visitor(
            user=request.user,
            session=request.session,
            ratings=ratings,
            recommender=engine,
            n=n,
            viewable_only=True,
        )
    except EngineUnavailable:  # its artefact went away between the status read and now
        context["waiting"] = True
        return render(request, "web/recommendations.html", context)
    except ApplicationError as exc:
        context["error"] = _visitor_message(exc, label=context["label"])
        return render(request, "web/recommendations.html", context)
    result = answer.result
    context["result"] = result
    context["page"] = recommendation_page(result)
    context["exposure"] = answer.exposure
    context["questionnaire"] = answer.questionnaire
    context["feedback_form"] = FeedbackForm() if answer.questionnaire else None
    return render(request, "web/recommendations.html", context)


@require_GET
def ready_status(request: HttpRequest) -> JsonResponse:
    """``{"ready": bool, "recommenders": [{"name", "label"}], "building": [{"label", "text"}]}``:
    what the "getting ready" state and the "better one on its way" note poll (one query, plus the
    statuses of the builds from the status cache while one is open), never cached."""
    active, open_builds = active_and_building()
    names = ready_recommender_names(active)
    building = build_notes(recommender_statuses()) if open_builds else []
    response = JsonResponse(
        {
            "ready": bool(names),
            "recommenders": [{"name": n, "label": plain_label(n)} for n in names],
            "building": [{"label": note.label, "text": note.text} for note in building],
        }
    )
    response["Cache-Control"] = "no-store"
    return response


def _painting_or_404(external_id: str) -> Painting:
    try:
        return painting_get(external_id=external_id)
    except UnknownPainting as exc:
        raise Http404(exc.message) from exc


def _render_painting(
    request: HttpRequest, painting: Painting, *, form: RatingForm | None = None, status: int = 200
) -> HttpResponse:
    rating = visitor_rating_of(user=request.user, session=request.session, painting=painting)
    if form is None:
        form = RatingForm(painting=painting, initial={"value": str(rating)} if rating else None)
    query = SimilarQueryForm(request.GET)
    statuses = recommender_statuses()
    choices = engine_choices(statuses)
    engines = visitor_engines(choices)
    asked = query.cleaned_data["engine"] if query.is_valid() else ""
    engine = asked if any(c.name == asked for c in engines) else default_engine(statuses, choices)
    similar, similar_error = [], None
    if engine is not None:
        try:
            similar = similar_rows(painting=painting, engine=engine, n=SIMILAR_N)
        except EngineUnavailable:
            engine = None
        except ApplicationError:
            similar_error = "Similar paintings could not be found just now."
    context = {
        "painting": painting,
        "rating": rating,
        "form": form,
        "engines": engines,
        "engine": engine,
        "label": plain_label(engine) if engine else "",
        "similar": similar,
        "similar_error": similar_error,
    }
    return render(request, "web/painting_detail.html", context, status=status)


@require_GET
def painting_detail(request: HttpRequest, external_id: str) -> HttpResponse:
    painting = _painting_or_404(external_id)
    if "from" in request.GET:  # opened from a recommended list shown in an experiment
        click_from_web(
            user=request.user,
            session=request.session,
            exposure_id=request.GET["from"],
            painting_id=painting.pk,
        )
    return _render_painting(request, painting)


@require_POST
def painting_rate(request: HttpRequest, external_id: str) -> HttpResponse:
    painting = _painting_or_404(external_id)
    form = RatingForm(request.POST, painting=painting)
    if form.is_valid():
        try:
            visitor_ratings_save(
                user=request.user,
                session=request.session,
                ratings={painting.external_id: form.cleaned_data["value"]},
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            _saved_message(request, 1)
            return redirect(safe_next_url(request, reverse("web:painting", args=[painting.external_id])))
    return _render_painting(request, painting, form=form, status=400)


@require_POST
def rating_remove(request: HttpRequest, external_id: str) -> HttpResponse:
    """Remove the visitor's rating of a painting, then go back where the button was."""
    try:
        visitor_rating_delete(user=request.user, session=request.session, external_id=external_id)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Rating removed.")
    return redirect(safe_next_url(request, reverse("web:my_ratings")))


@require_GET
def my_ratings(request: HttpRequest) -> HttpResponse:
    """Everything the visitor has rated, newest first, each with a remove button."""
    rows = rated_rows(user=request.user, session=request.session)
    return render(request, "web/my_ratings.html", {"rows": rows})


@require_POST
def experiment_feedback(request: HttpRequest, exposure_id: uuid.UUID) -> HttpResponse:
    """The questionnaire about one list shown in an experiment; then back to the recommendations
    (within subjects: the next arm's list). Missing answers show the form again (400). A list
    that is not the visitor's is a 404, exactly like one that does not exist."""
    try:
        exposure = visitor_exposure(user=request.user, session=request.session, exposure_id=exposure_id)
    except NotYourExposure as exc:
        raise Http404(exc.message) from exc
    back = safe_next_url(request, reverse("web:recommendations"))
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        paintings = paintings_by_pk(pks=exposure.painting_ids)
        context = {
            "feedback_form": form,
            "questionnaire": questionnaire_of(exposure),
            "paintings": [paintings[pk] for pk in exposure.painting_ids if pk in paintings],
            "next": back,
        }
        return render(request, "web/feedback.html", context, status=400)
    try:
        outcome = feedback_from_web(
            user=request.user, session=request.session, exposure=exposure, answers=form.answers()
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if outcome.remaining:
            messages.success(request, "Thank you for your answers. Here is the next list.")
        else:
            messages.success(request, "Thank you for your answers.")
    return redirect(back)
