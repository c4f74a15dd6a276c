"""Recommenders defined in the admin (``RecommenderDefinition``) as ``RecommenderConfig``s.

``experiments.recommenders.admin_recommenders`` is registered with
``recsys.serving.recommenders.register_provider`` (see ``ExperimentsConfig.ready``);
``recsys.serving.recommenders`` keeps its answer per process for ``PROVIDED_TTL`` seconds, so a
definition saved in the admin is served at once by the saving process and within that time by
every other; a settings name always wins over an admin one (the admin refuses such names). A
stored definition that no longer validates (an engine removed from ``RECSYS_ENGINES``) is left
out and logged (``experiments.recommenders``), never a 500.

Every rule on a definition is the one schema's (``recsys.serving.definitions``), shared with the
settings and the API, so the admin accepts and refuses exactly what they do.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from recsys.serving.definitions import DefinitionError, parse_definition
from recsys.serving.recommenders import RecommenderConfig

#: the model's fields that make up a definition (``recsys.serving.definitions.FIELDS``)
DEFINITION_FIELDS = ("kind", "engines", "mode", "rrf_k", "depth", "weighting", "mmr_lambda", "ridge_lambda")


def to_config(definition) -> RecommenderConfig:
    """The definition as a ``RecommenderConfig`` through the one schema
    (``recsys.serving.definitions.parse_definition``); ``ValidationError`` naming the field."""
    fields = {name: getattr(definition, name) for name in DEFINITION_FIELDS}
    try:
        return parse_definition(
            definition.name, fields, engines=list(settings.RECSYS_ENGINES), source="admin"
        )
    except DefinitionError as exc:
        raise ValidationError({exc.field: exc.message}) from None


def validate_definition(definition) -> None:
    """Model ``clean``: a valid config whose name the settings do not already use."""
    if definition.name in settings.RECSYS_RECOMMENDERS:
        raise ValidationError(
            {"name": f"{definition.name!r} is a recommender of the settings; choose another name."}
        )
    to_config(definition)
