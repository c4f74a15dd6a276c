"""Visitor keys: who takes part in an experiment.

* a signed-in user: ``user:<pk>``;
* a guest of the web UI: ``visitor:<id>``, with a random id kept in the session
  (``session_visitor_id``) and carried over to the account at sign-up (``services.adopt_visitor``);
* a museum app: ``app<key pk>:visitor:<id>`` with the id the app sends (``visitor`` in the API)
  when it authenticates with its API key (``clients``), or ``user<pk>:visitor:<id>`` when it
  signs in with an account's token: the ids an app makes up are its own, so two apps that both
  number their visitors from 1 never share a participant and no one can speak for another
  app's visitors. A ``visitor`` sent with the request wins over the signed-in account;
* an anonymous caller (no key, no account): ``visitor:<id>`` only for an id this server issued
  (``issue_visitor_id``: random and signed with the secret key, handed out by the assignment
  endpoint). A made-up id is refused (400 on ``visitor``), so no one can create participants
  under, or answer as, someone else's visitor id.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping, MutableMapping
from typing import Any

from django.core import signing

from config.exceptions import ValidationFailed

SESSION_KEY = "experiments_visitor_id"
VISITOR_ID_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
VISITOR_ID_RULE = "1 to 64 letters, digits, '_', '.', ':' or '-'"


def validate_visitor_id(visitor_id: object, *, field: str = "visitor") -> str:
    if not isinstance(visitor_id, str) or not VISITOR_ID_RE.fullmatch(visitor_id):
        raise ValidationFailed(f"A visitor id is {VISITOR_ID_RULE}.", field=field)
    return visitor_id


def _user_key(user: Any) -> str | None:
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return None


_SIGNER = signing.Signer(salt="experiments.visitor-id")
ANONYMOUS_VISITOR_RULE = (
    "Without an API key or a signed-in account, send the visitor id the assignment endpoint "
    "(GET /api/v1/experiments/assignment/) issued; a museum app sends its own ids with its API key."
)


def issue_visitor_id() -> str:
    """A new anonymous visitor id: 20 random hex digits and their signature (64 characters)."""
    return _SIGNER.sign(secrets.token_hex(10))


def is_issued(visitor_id: str) -> bool:
    try:
        _SIGNER.unsign(visitor_id)
    except signing.BadSignature:
        return False
    return True


def visitor_key_or_none(
    *, user: Any = None, visitor_id: str | None = None, app_id: int | None = None
) -> str | None:
    """The participant key: the given visitor id's scoped to the app key ``app_id`` or the
    signed-in account when there is one (an anonymous caller's id must be one we issued), else
    the signed-in user's, else None."""
    if visitor_id is not None:
        key = f"visitor:{validate_visitor_id(visitor_id)}"
        if app_id is not None:
            return f"app{app_id}:{key}"
        owner = _user_key(user)
        if owner is not None:
            return f"user{user.pk}:{key}"
        if not is_issued(visitor_id):
            raise ValidationFailed(ANONYMOUS_VISITOR_RULE, field="visitor")
        return key
    return _user_key(user)


def visitor_key(*, user: Any = None, visitor_id: str | None = None, app_id: int | None = None) -> str:
    """``visitor_key_or_none``, refusing a request that names no one."""
    key = visitor_key_or_none(user=user, visitor_id=visitor_id, app_id=app_id)
    if key is None:
        raise ValidationFailed("Sign in or give a visitor id.", field="visitor")
    return key


def session_visitor_id(session: MutableMapping[str, Any]) -> str:
    """The guest's visitor id, created (random) on first use and stored in ``session``."""
    visitor_id = session.get(SESSION_KEY)
    if not isinstance(visitor_id, str) or not VISITOR_ID_RE.fullmatch(visitor_id):
        visitor_id = uuid.uuid4().hex
        session[SESSION_KEY] = visitor_id
    return visitor_id


def stored_session_visitor_id(session: Mapping[str, Any]) -> str | None:
    """The guest's visitor id if the session already holds one (never creates it)."""
    visitor_id = session.get(SESSION_KEY)
    return visitor_id if isinstance(visitor_id, str) and VISITOR_ID_RE.fullmatch(visitor_id) else None


def web_visitor_key(*, user: Any, session: MutableMapping[str, Any], create: bool = True) -> str | None:
    """The web visitor's key: ``user:<pk>`` when signed in, else the session's guest id
    (created when ``create``; None when the session has none and ``create`` is false)."""
    key = _user_key(user)
    if key is not None:
        return key
    visitor_id = session_visitor_id(session) if create else stored_session_visitor_id(session)
    return f"visitor:{visitor_id}" if visitor_id else None
