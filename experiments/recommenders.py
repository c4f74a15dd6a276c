"""The recommenders defined in the admin, served by recsys beside the settings ones:
``admin_recommenders`` is registered with ``recsys.serving.recommenders.register_provider``
(``ExperimentsConfig.ready``). A stored definition that no longer validates (an engine removed
from ``RECSYS_ENGINES``) is left out and logged, never a 500.

A read of the model through ``experiments.definitions.to_config``; the definitions module
imports no model, so the model's ``clean`` can use it without an import cycle.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError

from experiments.definitions import to_config
from experiments.models import RecommenderDefinition
from recsys.serving.recommenders import RecommenderConfig

logger = logging.getLogger(__name__)


def admin_recommenders() -> dict[str, RecommenderConfig]:
    """Every valid admin-defined recommender by name (one query)."""
    configs: dict[str, RecommenderConfig] = {}
    for definition in RecommenderDefinition.objects.order_by("name"):
        try:
            configs[definition.name] = to_config(definition)
        except ValidationError as exc:
            logger.warning("Recommender %r defined in the admin is left out: %s", definition.name, exc)
    return configs
