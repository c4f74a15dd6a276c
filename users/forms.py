"""Account forms of the web UI: sign up, and a password reset that reports a mail it could not send."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template import loader
from rest_framework import status

from config import ratelimit
from config.exceptions import ApplicationError

logger = logging.getLogger(__name__)


class PasswordResetMailFailed(ApplicationError):
    """The mail backend refused the password reset mail (SMTP down, bad credentials, ...)."""

    code = "mail_not_sent"
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


class SignupForm(auth_forms.UserCreationForm):
    """Django's sign-up form bound to the project's user model (``settings.AUTH_USER_MODEL``)."""

    class Meta(auth_forms.UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


def _mail_allowed(to_email: str) -> bool:
    """One more reset mail to ``to_email`` within ``RATE_LIMITS["password_reset_mail"]``?"""
    limit, window_s = ratelimit.parse_rate(settings.RATE_LIMITS["password_reset_mail"])
    recipient = hashlib.sha256(to_email.strip().casefold().encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return ratelimit.hit(f"password-reset-mail:{recipient}", limit=limit, window_s=window_s).allowed


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form, except that a mail that could not be sent is not swallowed.

    Django logs the failure and carries on, so the visitor is told "sent" for a mail that never
    left. Here the failure is logged the same way and then raised as ``PasswordResetMailFailed``,
    which the view shows as a message instead of the "sent" page.
    """

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        if not _mail_allowed(to_email):
            # over the per-recipient limit: nothing is sent, and the page still says "sent" (it
            # never tells whether an address has an account)
            logger.warning("password reset mail to user %s not sent: over its limit", context["user"].pk)
            return
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        message = EmailMultiAlternatives(subject, body, from_email, [to_email])
        if html_email_template_name is not None:
            message.attach_alternative(
                loader.render_to_string(html_email_template_name, context), "text/html"
            )
        try:
            message.send()
        except Exception as exc:  # any backend error (SMTPException, OSError, ...) means "not sent"
            logger.exception("Failed to send password reset email to user %s", context["user"].pk)
            raise PasswordResetMailFailed(
                "We could not send the password reset email just now. Please try again later; "
                "if it keeps failing, tell the site's administrator."
            ) from exc
