"""Merge an anonymous visitor's session ratings into the account they sign in to."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from web.services import session_ratings_merge


@receiver(user_logged_in, dispatch_uid="web.merge_session_ratings")
def merge_session_ratings(sender: type, request: Any, user: Any, **kwargs: Any) -> None:
    """``django.contrib.auth.login`` keeps the anonymous session's data (it only cycles the key),
    so the ratings given before signing in are still there when this signal fires."""
    if request is None or not hasattr(request, "session"):
        return
    session_ratings_merge(user=user, session=request.session)
