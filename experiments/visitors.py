"""Visitor keys: who takes part in an experiment.

* a signed-in user: ``user:<pk>``;
* a guest of the web UI: ``visitor:<id>``, with a random id kept in the session
  (``session_visitor_id``) and carried over to the account at sign-up (``services.adopt_visitor``);
* a museum app: ``visitor:<id>`` with the id the app sends (``visitor`` in the API).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import MutableMapping
from typing import Any

from config.exceptions import ValidationFailed

SESSION_KEY = "experiments_visitor_id"
VISITOR_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]{6,64}$")


def validate_visitor_id(visitor_id: object, *, field: str = "visitor") -> str:
    if not isinstance(visitor_id, str) or not VISITOR_ID_RE.fullmatch(visitor_id):
        raise ValidationFailed("A visitor id is 6 to 64 letters, digits, '_', '.' or '-'.", field=field)
    return visitor_id


def visitor_key(*, user: Any = None, visitor_id: str | None = None) -> str:
    """The participant key: the user's when signed in, else the visitor id's."""
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    if visitor_id is None:
        raise ValidationFailed("Sign in or give a visitor id.", field="visitor")
    return f"visitor:{validate_visitor_id(visitor_id)}"


def session_visitor_id(session: MutableMapping[str, Any]) -> str:
    """The guest's visitor id, created (random) on first use and stored in ``session``."""
    visitor_id = session.get(SESSION_KEY)
    if not isinstance(visitor_id, str) or not VISITOR_ID_RE.fullmatch(visitor_id):
        visitor_id = uuid.uuid4().hex
        session[SESSION_KEY] = visitor_id
    return visitor_id
