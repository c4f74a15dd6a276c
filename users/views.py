"""Account pages of the web UI: sign up, and the password reset that says when its mail failed.

Sign in, sign out, password change and the rest of the reset flow are Django's own views (wired
in ``users.urls``) drawn with this app's templates (``users/templates/registration/``). Ratings
made before signing in move into the account through ``web.signals`` (``user_logged_in``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods

from config.ratelimit import rate_limited
from config.redirects import safe_next_url
from experiments.hooks import adopt_session_visitor
from users.forms import PasswordResetForm, PasswordResetMailFailed, SignupForm


@require_http_methods(["GET", "POST"])
@rate_limited("signup")  # per client address, settings.RATE_LIMITS["signup"]
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and sign in; ratings made in this session move into the account."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        adopt_session_visitor(user=user, session=request.session)  # a guest keeps their arm
        messages.success(request, f"Welcome, {user.get_username()}. Your account is ready.")
        return redirect(safe_next_url(request, settings.LOGIN_REDIRECT_URL))
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "next": safe_next_url(request, "")}
    return render(request, "registration/signup.html", context, status=status)


@method_decorator(rate_limited("password_reset"), name="dispatch")  # POSTs per client address
class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request page; when the mail cannot be sent the form is shown again with the
    reason (status 503) instead of the "sent" page. The failure itself is logged by the form."""

    form_class = PasswordResetForm

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        try:
            return super().form_valid(form)
        except PasswordResetMailFailed as exc:
            form.add_error(None, exc.message)
            return self.render_to_response(self.get_context_data(form=form), status=exc.status_code)
