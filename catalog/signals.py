"""``catalogue_changed``: the one signal the catalogue sends when what engines read changes.

Sent after the transaction commits, with ``painting_ids`` (sorted primary keys of paintings that
were created, deleted, or whose ``content_hash`` changed): once at the end of an import run,
and on every admin save or delete that changes a painting's content. Receivers (the recommender
refreshes its artefacts) must accept ids of paintings that no longer exist.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import django.dispatch
from django.db import transaction

logger = logging.getLogger(__name__)

catalogue_changed = django.dispatch.Signal()


def notify_catalogue_changed(painting_ids: Iterable[int]) -> None:
    """Send ``catalogue_changed`` when the current transaction commits (now, outside one)."""
    ids = sorted(set(painting_ids))
    if not ids:
        return
    transaction.on_commit(lambda: _send(ids))


def _send(ids: list[int]) -> None:
    """A failing receiver is logged, not raised: the catalogue change itself has committed and
    must not be reported to the admin or the import as failed."""
    from catalog.models import Painting

    for receiver, result in catalogue_changed.send_robust(sender=Painting, painting_ids=ids):
        if isinstance(result, Exception):
            logger.error("catalogue_changed receiver %r failed", receiver, exc_info=result)
