"""``catalogue_changed``: the one signal the catalogue sends when what engines read changes.

Sent after the transaction commits, with ``painting_ids`` (sorted primary keys of paintings that
were created, deleted, or whose ``content_hash`` changed): once at the end of an import run,
and on every admin save or delete that changes a painting's content. Receivers (the recommender
refreshes its artefacts) must accept ids of paintings that no longer exist.
"""

from __future__ import annotations

from collections.abc import Iterable

import django.dispatch
from django.db import transaction

catalogue_changed = django.dispatch.Signal()


def notify_catalogue_changed(painting_ids: Iterable[int]) -> None:
    """Send ``catalogue_changed`` when the current transaction commits (now, outside one)."""
    ids = sorted(set(painting_ids))
    if not ids:
        return
    from catalog.models import Painting

    transaction.on_commit(lambda: catalogue_changed.send(sender=Painting, painting_ids=ids))
